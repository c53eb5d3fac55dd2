// Sign-in states in the UI with the real SsoAuth against an edge that demands a token: the first
// connection meets the 302, sign-in runs once (the IdP step stands in: see e2e/ui-process.ts),
// the connection is retried with the token, and the top bar shows who is signed in.
import { expect, test, type Page } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeEdge, type FakeEdge } from '../../test/fixtures/fake-edge.js';
import { freePort, startUiProcess, type UiProcess } from './helpers.js';

const token = `e30.${Buffer.from(JSON.stringify({ email: 'ada@example.com', exp: Math.floor(Date.now() / 1000) + 7200 })).toString('base64url')}.sig`;
let edge: FakeEdge;
let ui: UiProcess;
let page: Page;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async ({ browser }) => {
  edge = await startFakeEdge({ requireToken: token, aud: 'aud-echo' });
  ui = await startUiProcess(join(mkdtempSync(join(tmpdir(), 'airlock-e2e-sso-')), 'resources.json'), edge.caFile, {
    AIRLOCK_E2E_LOGIN_TOKEN: token,
  });
  page = await browser.newPage();
  await page.goto(ui.url);
});

test.afterAll(async () => {
  await page?.close();
  await ui?.stop();
  await edge?.close();
});

test('an edge that needs sign-in: connect, sign in once, bytes flow, identity shown, sign out', async () => {
  const port = await freePort();
  await page.getByRole('button', { name: 'Add a resource by hand' }).click();
  await page.locator('#field-name').fill('echo');
  await page.locator('#field-hostname').fill('echo.example.com');
  await page.locator('#field-localPort').fill(String(port));
  await page.locator('#field-edge').fill(edge.url);
  await page.getByRole('button', { name: 'Add resource', exact: true }).last().click();

  const sessions = page.locator('.edge-account').first();
  await expect(sessions.getByRole('button', { name: 'Sign in' })).toBeVisible();
  const row = page.locator('.resource[data-name="echo"]');
  await row.getByRole('switch').click();
  await expect(row.getByTestId('local-address')).toHaveText(`127.0.0.1:${port}`);

  await expect(row.getByTestId('state')).toHaveText('Ready');

  const socket = net.connect(port, '127.0.0.1');
  const echoed = new Promise<string>((resolve) => socket.once('data', (data) => resolve(String(data))));
  socket.write('hello');
  expect(await echoed).toBe('hello');
  await expect(sessions).toContainText('ada@example.com');
  await expect(sessions).toContainText(/expires in 1 h/);
  await expect(row.getByTestId('counters')).toHaveText('1 open · ↑ 5 B · ↓ 5 B');
  await page.screenshot({ path: 'e2e/artifacts/08-signed-in.png' });
  socket.destroy();

  await sessions.getByRole('button', { name: 'Sign out' }).click();
  await expect(sessions.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await sessions.getByRole('button', { name: 'Sign in' }).click();
  await expect(sessions).toContainText('ada@example.com');
});
