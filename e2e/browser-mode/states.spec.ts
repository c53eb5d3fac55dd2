// Every state a resource row shows, in the browser-mode UI against the real chain (built-in IdP,
// edge, connector, redis-server): the sign-in the user must finish is on the page with its link
// (never only in a terminal), cancel and its result, ready, in use, reconnecting while the edge
// restarts under an open connection, the edge lost and back, and a user the policy does not
// admit. Screenshots of each: e2e/artifacts/40-*.png.
import { expect, test, type Browser, type Page } from '@playwright/test';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, type Chain } from '../../test/helpers/chain.js';
import { startEdge, type RunningEdge } from '../../src/edge/edge-server.js';
import { PATH } from '../../src/shared/constants.js';
import { startUiProcess, type UiProcess, rowAction } from './helpers.js';
import { ADA, redisMissing, startSsoChain, type SsoChain } from './sso-chain.js';

const run = promisify(execFile);
const SHOTS = 'e2e/artifacts';

let chain: Chain;
let sso: SsoChain;
let ui: UiProcess;
let page: Page;
let port: number;
let restartedEdge: RunningEdge | undefined;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async ({ browser }) => {
  test.skip(redisMissing !== undefined, redisMissing);
  sso = await startSsoChain(
    (service) => [{ hostname: 'redis.airlock.test', service, policy: '      include: [{ group: eng }]' }],
    [ADA, { email: 'eve@example.com', password: 'eve-password', groups: ['sales'] }],
  );
  ({ chain } = sso);
  ui = await startUiProcess(join(mkdtempSync(join(tmpdir(), 'airlock-e2e-states-')), 'resources.json'), chain.pki.ca, {
    AIRLOCK_E2E_REAL_LOGIN: '1',
  });
  page = await browser.newPage();
  await page.goto(ui.url);
  port = await freePort();
  await page.getByRole('button', { name: 'Add a resource by hand' }).click();
  await page.locator('#field-name').fill('redis');
  await page.locator('#field-hostname').fill('redis.airlock.test');
  await page.locator('#field-localPort').fill(String(port));
  await page.locator('#field-edge').fill(chain.edgeUrl);
  await page.getByRole('button', { name: 'Add resource', exact: true }).last().click();
});

test.afterAll(async () => {
  await page?.close();
  await ui?.stop();
  await sso?.close();
  await restartedEdge?.close(200); // sso.close() closes the edge it started, not this one
});

const row = () => page.locator('.resource[data-name="redis"]');
const prompt = () => page.getByTestId('sign-in-prompt');

/** Signs in on the real IdP page, reached through the link the UI shows. */
async function signInFromPrompt(browser: Browser, email: string, password: string): Promise<void> {
  const link = prompt().getByRole('link', { name: 'Open sign-in page' });
  const href = (await link.getAttribute('href'))!;
  expect(new URL(href).origin + new URL(href).pathname).toBe(`${chain.edgeUrl}${PATH.cli}`);
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const login = await context.newPage();
  await login.goto(href);
  await login.fill('input[name=email]', email);
  await login.fill('input[name=password]', password);
  await login.click('button[type=submit]');
  await expect(login.locator('body')).toContainText(/Signed in|Access denied/);
  await context.close();
}

test('switched on, it waits for the sign-in: the page shows the link, the row is not green', async () => {
  await row().getByRole('switch').click();
  await expect(row().getByTestId('state')).toHaveText('Waiting for sign-in');
  await expect(row().locator('.dot')).toHaveClass(/dot-signing-in/);
  await expect(prompt()).toContainText(`Sign in to ${new URL(chain.edgeUrl).host}`);
  await expect(prompt().getByRole('link', { name: 'Open sign-in page' })).toHaveAttribute(
    'href',
    /\/cdn-cgi\/access\/cli\?/,
  );
  await expect(prompt().getByRole('button', { name: 'Copy link' })).toBeVisible();
  await expect(page.locator('.edge-account').first()).toContainText('Signing in…');
  await page.screenshot({ path: `${SHOTS}/40-state-signing-in.png` });
  await page.getByRole('button', { name: 'Logs' }).click();
  await expect(page.locator('.log-list')).toContainText('waiting for you to sign in');
  await page.getByRole('button', { name: 'Resources' }).click();
});

test('cancel: the prompt goes, the result says so, the row is an error that offers sign-in', async () => {
  await prompt().getByRole('button', { name: 'Cancel' }).click();
  await expect(prompt()).toHaveCount(0);
  await expect(page.getByTestId('sign-in-failed')).toContainText('cancelled');
  await expect(row().getByTestId('state')).toHaveText('Error');
  await expect(row().getByTestId('resource-error')).toContainText('cancelled');
  // Each error shows its code beside the message (docs/troubleshooting.md "Error codes").
  await expect(page.getByTestId('sign-in-failed').getByTestId('error-code')).toHaveText('LOGIN_CANCELLED');
  await expect(row().getByTestId('resource-error').getByTestId('error-code')).toHaveText('LOGIN_CANCELLED');
  await page.screenshot({ path: `${SHOTS}/41-state-sign-in-cancelled.png` });
});

test('sign in from the row, finish in the browser: ready, and who is signed in is shown', async ({ browser }) => {
  await row().getByTestId('resource-error').getByRole('button', { name: 'Sign in' }).click();
  await expect(prompt()).toBeVisible();
  await expect(page.getByTestId('sign-in-failed')).toHaveCount(0);
  await signInFromPrompt(browser, 'ada@example.com', 'ada-password');
  await expect(row().getByTestId('state')).toHaveText('Ready');
  await expect(row().locator('.dot')).toHaveClass(/dot-ready/);
  await expect(prompt()).toHaveCount(0);
  // Who is signed in is said once, in the edge's section header, not on every row.
  await expect(page.locator('.edge-account').first()).toContainText('ada@example.com');
  await expect(page.getByRole('status').last()).toContainText(/Signed in to .* as ada@example\.com/);
  await page.screenshot({ path: `${SHOTS}/42-state-ready.png` });
});

test('in use while a program holds a connection; redis-cli PING answers through it', async () => {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'PING'], { timeout: 20_000 });
  expect(stdout.trim()).toBe('PONG');
  const held = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => held.once('connect', () => resolve()));
  await expect(row().getByTestId('state')).toHaveText('In use');
  await expect(row().getByTestId('resource-meta')).toContainText('Last used just now');
  await page.screenshot({ path: `${SHOTS}/43-state-in-use.png` });
  held.destroy();
  await expect(row().getByTestId('state')).toHaveText('Ready');
});

test('the tray popover (#tray) lists it with its state and switch, fitting 360 px, light and dark', async () => {
  await page.setViewportSize({ width: 360, height: 480 });
  await page.evaluate(() => (window.location.hash = 'tray'));
  const compact = page.locator('.compact-row[data-name="redis"]');
  await expect(compact.getByTestId('state')).toHaveText('Ready');
  await expect(compact.getByRole('switch')).toHaveAttribute('aria-checked', 'true');
  await expect(compact).toContainText(`127.0.0.1:${port}`);
  await expect(page.locator('.topbar')).toHaveCount(0);
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.screenshot({ path: `${SHOTS}/46-tray-popover-360x480-${scheme}.png` });
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.getByRole('link', { name: 'Open Airlock' }).click();
  await expect(page.locator('.topbar')).toBeVisible();
  await page.setViewportSize({ width: 1100, height: 760 });
});

test('a connection open while its edge restarts: the row says "Reconnecting…", then the same connection answers', async () => {
  const held = net.connect(port, '127.0.0.1');
  held.on('error', () => undefined);
  let replies = '';
  held.on('data', (chunk: Buffer) => (replies += chunk.toString('latin1')));
  held.write('PING\r\n');
  await expect.poll(() => replies).toContain('+PONG');
  await expect(row().getByTestId('state')).toHaveText('In use');
  await chain.edge.close(200); // a stopping edge hands resumable streams off (close 1012)
  await expect(row().getByTestId('state')).toHaveText('Reconnecting…');
  await expect(row().getByRole('switch')).toHaveAttribute('aria-checked', 'true');
  await page.screenshot({ path: `${SHOTS}/47-state-reconnecting.png` });
  restartedEdge = await startEdge({ config: chain.config });
  await chain.connector.waitConnected(1);
  await expect(row().getByTestId('state')).toHaveText('In use', { timeout: 30_000 });
  held.write('ECHO resumed\r\n');
  await expect.poll(() => replies).toContain('resumed');
  held.destroy();
  await expect(row().getByTestId('state')).toHaveText('Ready');
});

test('the edge goes away: the row turns to an error naming it; back, "Try again" makes it ready', async () => {
  await (restartedEdge ?? chain.edge).close(200);
  await rowAction(row(), 'Test');
  await expect(row().getByTestId('state')).toHaveText('Error');
  await expect(row().getByTestId('resource-error')).toContainText(/cannot reach the edge|connection to the edge/);
  await expect(row().getByRole('switch')).toHaveAttribute('aria-checked', 'true');
  await page.screenshot({ path: `${SHOTS}/44-state-edge-down.png` });
  restartedEdge = await startEdge({ config: chain.config });
  await chain.connector.waitConnected(1);
  await row().getByTestId('resource-error').getByRole('button', { name: 'Try again' }).click();
  await expect(row().getByTestId('state')).toHaveText('Ready');
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'PING'], { timeout: 20_000 });
  expect(stdout.trim()).toBe('PONG');
});

test('denied: signed in as a user the policy does not admit, the row says so', async ({ browser }) => {
  await page.getByRole('button', { name: /^Sign out of / }).click();
  await expect(row().getByTestId('state')).toHaveText('Signed out');
  await rowAction(row(), 'Test');
  await expect(prompt()).toBeVisible();
  await signInFromPrompt(browser, 'eve@example.com', 'eve-password');
  await expect(row().getByTestId('state')).toHaveText('Error');
  await expect(row().getByTestId('resource-error')).toContainText(/not allowed/);
  await expect(row().getByTestId('resource-error').getByTestId('error-code')).toHaveText('ACCESS_DENIED');
  await page.screenshot({ path: `${SHOTS}/45-state-denied.png` });
  await row().getByRole('switch').click();
  await expect(row().getByTestId('state')).toHaveText('Off');
});
