// The warning before a session's access ends, as the window shows it: the real SsoAuth and service
// against an edge that demands a token (the IdP step stands in: see e2e/ui-process.ts) whose
// session ends 5 minutes and 15 seconds after the spec starts, so the warning is due 15 seconds in.
import { expect, test } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeEdge } from '../../test/fixtures/fake-edge.js';
import { freePort, startUiProcess } from './helpers.js';

test('an open connection whose session ends within 5 minutes: the window says when, with "Sign in again"', async ({
  page,
}) => {
  const exp = Math.floor(Date.now() / 1000) + 5 * 60 + 15;
  const token = `e30.${Buffer.from(JSON.stringify({ email: 'ada@example.com', exp })).toString('base64url')}.sig`;
  const edge = await startFakeEdge({ requireToken: token, aud: 'aud-echo' });
  const ui = await startUiProcess(
    join(mkdtempSync(join(tmpdir(), 'airlock-e2e-end-')), 'resources.json'),
    edge.caFile,
    {
      AIRLOCK_E2E_LOGIN_TOKEN: token,
    },
  );
  const socket = new net.Socket();
  try {
    await page.goto(ui.url);
    const port = await freePort();
    await page.getByRole('button', { name: 'Add a resource by hand' }).click();
    await page.locator('#field-name').fill('echo');
    await page.locator('#field-hostname').fill('echo.example.com');
    await page.locator('#field-localPort').fill(String(port));
    await page.locator('#field-edge').fill(edge.url);
    await page.getByRole('button', { name: 'Add resource', exact: true }).last().click();
    const row = page.locator('.resource[data-name="echo"]');
    await row.getByRole('switch').click();
    await expect(row.getByTestId('state')).toHaveText('Ready');

    socket.connect(port, '127.0.0.1');
    const echoed = new Promise<string>((resolve) => socket.once('data', (data) => resolve(String(data))));
    socket.write('hello');
    expect(await echoed).toBe('hello');

    const warning = page.getByTestId('session-end-warning');
    // Not before it is due (when the set-up left time to look), then within a status tick or two of it.
    if (Date.now() < exp * 1000 - 5 * 60_000 - 1_000) expect(await warning.count()).toBe(0);
    await expect(warning).toBeVisible({ timeout: 30_000 });
    // The fake edge's 302 names the app host as its sign-in origin; the time is in the browser's locale.
    const minutes = String(new Date(exp * 1000).getMinutes()).padStart(2, '0');
    await expect(warning).toContainText(
      new RegExp(`^The connection to echo\\.example\\.com ends at \\d{1,2}:${minutes}\\b`),
    );
    await expect(warning).toContainText('sign in again to keep it');
    await expect(warning.getByRole('button', { name: 'Sign in again' })).toBeVisible();
    await page.screenshot({ path: 'e2e/artifacts/session-end-warning.png' });
  } finally {
    socket.destroy();
    await ui.stop();
    await edge.close();
  }
});
