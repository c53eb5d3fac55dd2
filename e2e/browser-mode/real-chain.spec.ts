// The UI against the real thing: the built-in IdP (oidc-provider), a real edge and connector, and
// redis-server. Add a resource, sign in on the real login page, connect with one click, PING
// through the shown port, watch the counters, disconnect, restart, find the resource saved.
import { expect, test, type Page } from '@playwright/test';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, type Chain } from '../../test/helpers/chain.js';
import { startUiProcess, type UiProcess } from './helpers.js';
import { redisMissing, startSsoChain, type SsoChain } from './sso-chain.js';

const run = promisify(execFile);

let chain: Chain;
let sso: SsoChain;
let ui: UiProcess;
let page: Page;
let dataFile: string;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async ({ browser }) => {
  test.skip(redisMissing !== undefined, redisMissing);
  sso = await startSsoChain((service) => [
    { hostname: 'redis.airlock.test', service, policy: '      include: [{ group: eng }]' },
  ]);
  ({ chain } = sso);
  dataFile = join(mkdtempSync(join(tmpdir(), 'airlock-e2e-real-')), 'resources.json');
  ui = await startUiProcess(dataFile, chain.pki.ca, { AIRLOCK_E2E_REAL_LOGIN: '1' });
  page = await browser.newPage();
  await page.goto(ui.url);
});

test.afterAll(async () => {
  await page?.close();
  await ui?.stop();
  await sso?.close();
});

test('add redis, sign in on the real login page, connect with one click, PING through the tunnel', async ({
  browser,
}) => {
  const port = await freePort();
  await page.getByRole('button', { name: 'Add a resource by hand' }).click();
  await page.locator('#field-name').fill('redis');
  await page.locator('#field-hostname').fill('redis.airlock.test');
  await page.locator('#field-localPort').fill(String(port));
  await page.locator('#field-edge').fill(chain.edgeUrl);
  await page.getByRole('button', { name: 'Add resource', exact: true }).last().click();

  const sessions = page.locator('.edge-account').first();
  await sessions.getByRole('button', { name: 'Sign in' }).click();
  const loginUrl = await ui.nextLoginUrl();
  const login = await browser.newPage({ ignoreHTTPSErrors: true });
  await login.goto(loginUrl);
  await login.fill('input[name=email]', 'ada@example.com');
  await login.fill('input[name=password]', 'ada-password');
  await login.screenshot({ path: 'e2e/artifacts/10-idp-login.png' });
  await login.click('button[type=submit]');
  await expect(login.locator('body')).toContainText('Signed in to redis.airlock.test');
  await login.close();
  await expect(sessions).toContainText('ada@example.com');

  const row = page.locator('.resource[data-name="redis"]');
  await row.getByRole('switch').click();
  await expect(row.getByTestId('local-address')).toHaveText(`127.0.0.1:${port}`);
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'PING'], { timeout: 20_000 });
  expect(stdout.trim()).toBe('PONG');
  await expect(row.getByTestId('counters')).toHaveText(/↑ 14 B · ↓ 7 B/);
  await page.screenshot({ path: 'e2e/artifacts/11-real-chain-connected.png' });

  await row.getByRole('switch').click();
  await expect(row.getByTestId('local-address')).toHaveCount(0);
  await expect(run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'PING'], { timeout: 5_000 })).rejects.toThrow();
});

test('after a restart of the app process the resource is still saved', async () => {
  await ui.stop();
  ui = await startUiProcess(dataFile, chain.pki.ca, { AIRLOCK_E2E_REAL_LOGIN: '1' });
  await page.goto(ui.url);
  await expect(page.locator('.resource[data-name="redis"]')).toBeVisible();
  await expect(page.locator('.resource[data-name="redis"]')).toContainText('redis.airlock.test');
});
