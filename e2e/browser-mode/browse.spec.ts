// Discovery in the UI against the real thing (built-in IdP, real edge and connector, redis-server):
// after one sign-in, the Browse view lists what the edge lets the user reach, and one click on
// Connect saves and connects an app the user never typed; redis-cli PING answers through it.
import { expect, test, type Browser, type Page } from '@playwright/test';
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

test.describe.configure({ mode: 'serial' });

/** An app's policy, and (at the app's own indentation) what discovery shows of it. */
const policy = (rule: string, display: string) => `      include: [${rule}]\n    display: ${display}`;

test.beforeAll(async ({ browser }) => {
  test.skip(redisMissing !== undefined, redisMissing);
  sso = await startSsoChain((service) => [
    {
      hostname: 'redis.airlock.test',
      service,
      policy: policy('{ group: eng }', '{ name: Team Redis, kind: redis }'),
    },
    {
      hostname: 'cache.airlock.test',
      service,
      policy: policy('{ group: eng }', '{ name: Session cache, description: Redis for web sessions, kind: redis }'),
    },
    { hostname: 'crm.airlock.test', service, policy: policy('{ group: sales }', '{ name: CRM, kind: other }') },
  ]);
  ({ chain } = sso);
  ui = await startUiProcess(join(mkdtempSync(join(tmpdir(), 'airlock-e2e-browse-')), 'resources.json'), chain.pki.ca, {
    AIRLOCK_E2E_REAL_LOGIN: '1',
  });
  page = await browser.newPage();
  await page.goto(ui.url);
});

test.afterAll(async () => {
  await page?.close();
  await ui?.stop();
  await sso?.close();
});

/** Adds a resource through the form, as a user types it; `open` is the button that opens the form. */
async function typeResource(open: string, name: string, hostname: string): Promise<void> {
  await page.getByRole('button', { name: open, exact: true }).first().click();
  await page.locator('#field-name').fill(name);
  await page.locator('#field-hostname').fill(hostname);
  await page.locator('#field-localPort').fill(String(await freePort()));
  await page.locator('#field-edge').fill(chain.edgeUrl);
  await page.getByRole('button', { name: 'Add resource', exact: true }).last().click();
}

/** The IdP's login form, filled in a tab of its own (the system browser's part). */
async function signInAtIdp(browser: Browser, loginUrl: string): Promise<Page> {
  const login = await browser.newPage({ ignoreHTTPSErrors: true });
  await login.goto(loginUrl);
  await login.fill('input[name=email]', 'ada@example.com');
  await login.fill('input[name=password]', 'ada-password');
  await login.click('button[type=submit]');
  return login;
}

test('after one sign-in, Browse lists what the user may reach, and one click connects an app never typed', async ({
  browser,
}) => {
  // The one resource typed by hand, to have an edge to sign in to.
  await typeResource('Add a resource by hand', 'redis', 'redis.airlock.test');
  const sessions = page.locator('.edge-account').first();
  await sessions.getByRole('button', { name: 'Sign in' }).click();
  const login = await signInAtIdp(browser, await ui.nextLoginUrl());
  await expect(login.locator('body')).toContainText('Signed in to redis.airlock.test');
  await login.close();
  await expect(sessions).toContainText('ada@example.com');

  // From here: the clicks to a working connection for an app the user never typed.
  let clicks = 0;
  await page.getByRole('button', { name: 'Browse' }).click();
  const list = page.getByRole('list', { name: /Applications on 127\.0\.0\.1:\d+/ });
  await expect(list.locator('.browse-app')).toHaveCount(2);
  await expect(list).toContainText('Session cache');
  await expect(list).toContainText('Redis for web sessions');
  await expect(list).not.toContainText('CRM');
  await expect(list.locator('.browse-app', { hasText: 'Team Redis' })).toContainText('127.0.0.1:');
  for (const [width, height] of [
    [1280, 800],
    [360, 640],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: `e2e/artifacts/20-browse-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 800 });

  await list.getByRole('button', { name: 'Connect cache.airlock.test' }).click();
  clicks++;
  const toast = page.getByRole('status');
  await expect(toast).toContainText(/Session cache is on 127\.0\.0\.1:\d+/);
  const port = Number(/127\.0\.0\.1:(\d+)/.exec((await toast.textContent()) ?? '')![1]);
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'PING'], { timeout: 20_000 });
  expect(stdout.trim()).toBe('PONG');
  // Connected from Browse, the app's entry is the live resource: its state, address and switch.
  const saved = list.locator('.browse-app', { hasText: 'Session cache' }).getByTestId('saved-app');
  await expect(saved.getByTestId('local-address')).toHaveText(`127.0.0.1:${port}`);
  await expect(saved.getByTestId('state')).toHaveText(/Ready|In use|Checking…/);
  await expect(saved.getByRole('switch')).toHaveAttribute('aria-checked', 'true');
  expect(clicks, 'sign in, then one click').toBe(1);
  test.info().annotations.push({ type: 'clicks after sign-in', description: String(clicks) });
});

test("a search narrows the list; saved resources stay the user's own", async () => {
  await page.getByRole('searchbox', { name: /Search applications on/ }).fill('session');
  await expect(page.locator('.browse-app')).toHaveCount(1);
  await page.getByRole('button', { name: 'Resources' }).click();
  await expect(page.locator('.resource[data-name="redis"]')).toBeVisible();
  await expect(page.locator('.resource[data-name="Session cache"]')).toBeVisible();
});

test('a saved resource the edge no longer offers is marked, not deleted', async () => {
  await typeResource('Add resource', 'gone', 'gone.airlock.test');
  await page.getByRole('button', { name: 'Browse' }).click();
  await expect(page.locator('.browse-app')).toHaveCount(2);
  await page.getByRole('button', { name: 'Resources' }).click();
  await expect(page.locator('.resource[data-name="gone"]')).toContainText('No longer offered');
  await expect(page.locator('.resource[data-name="redis"]')).not.toContainText('No longer offered');
});

test('from a fresh install: Sign in to your organisation, the edge address and Enter, then one click to a working connection', async ({
  browser,
}) => {
  const fresh = await startUiProcess(
    join(mkdtempSync(join(tmpdir(), 'airlock-e2e-fresh-')), 'resources.json'),
    chain.pki.ca,
    { AIRLOCK_E2E_REAL_LOGIN: '1' },
  );
  const app = await browser.newPage();
  try {
    await app.goto(fresh.url);
    // Counted: every click and key press in the app. The identity provider's form is the system
    // browser's, not the app's; it is the same for any client of the organisation.
    let clicks = 0;
    let keys = 0;
    await app.getByRole('button', { name: 'Sign in to your organisation' }).click();
    clicks++;
    await expect(app.getByLabel('Edge sign-in address')).toBeFocused();
    await app.keyboard.type(chain.edgeUrl);
    keys += chain.edgeUrl.length;
    await app.keyboard.press('Enter');
    keys++;
    await (await signInAtIdp(browser, await fresh.nextLoginUrl())).close();
    const list = app.getByRole('list', { name: /Applications on 127\.0\.0\.1:\d+/ });
    await expect(list.locator('.browse-app')).toHaveCount(2);
    await list.getByRole('button', { name: 'Connect redis.airlock.test' }).click();
    clicks++;
    const toast = app.getByRole('status');
    await expect(toast).toContainText(/Team Redis is on 127\.0\.0\.1:\d+/);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec((await toast.textContent()) ?? '')![1]);
    const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'PING'], { timeout: 20_000 });
    expect(stdout.trim()).toBe('PONG');
    // No hostname, port or kind typed: only the organisation's sign-in address.
    console.log(
      `first run: ${clicks} clicks and ${keys} keys in the app (the ${chain.edgeUrl.length}-character edge address ` +
        `and Enter), then the identity provider's form; redis-cli PING answered through ${port}`,
    );
    expect(clicks).toBe(2);
    test.info().annotations.push({ type: 'first run', description: `${clicks} clicks, ${keys} keys` });
    await app.screenshot({ path: 'e2e/artifacts/21-browse-fresh-connected.png' });
  } finally {
    await app.close();
    await fresh.stop();
  }
});
