// Browser mode against the real ResourceManager in its own process, as `airlock ui` runs it.
import { expect, test, type Page } from '@playwright/test';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { startFakeEdge, type FakeEdge } from '../../test/fixtures/fake-edge.js';
import { freePort, poke, startEchoServer, startUiProcess, type UiProcess, rowAction } from './helpers.js';

const SHOTS = 'e2e/artifacts';
const dataFile = join(mkdtempSync(join(tmpdir(), 'airlock-e2e-')), 'resources.json');
let ui: UiProcess;
let page: Page;
let edge: FakeEdge;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async ({ browser }) => {
  edge = await startFakeEdge();
  ui = await startUiProcess(dataFile, edge.caFile);
  const context = await browser.newContext();
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: `http://127.0.0.1:${ui.port}` });
  page = await context.newPage();
  page.on('dialog', (dialog) => void dialog.accept());
  await page.goto(ui.url);
});

test.afterAll(async () => {
  await page?.context().close();
  await ui?.stop();
  await edge?.close();
});

async function fillForm(
  values: Partial<Record<'name' | 'hostname' | 'localPort' | 'edge' | 'tags', string>>,
  kind?: string,
) {
  for (const [field, value] of Object.entries(values)) await page.locator(`#field-${field}`).fill(value);
  if (kind) await page.locator('#field-kind').selectOption(kind);
}

test('the one-time link leaves the token out of the address bar and shows the empty state', async () => {
  expect(page.url()).toBe(`http://127.0.0.1:${ui.port}/`);
  await expect(page.getByRole('heading', { name: 'No resources yet' })).toBeVisible();
  // The first step offered is signing in to the organisation (then Browse), not the manual form.
  await expect(page.getByRole('button', { name: 'Sign in to your organisation' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Add a resource by hand' })).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/01-empty-state.png` });
});

test('settings in browser mode: start at login cannot be changed there, and says why', async () => {
  await page.getByRole('button', { name: 'Settings' }).click();
  const startAtLogin = page.getByRole('checkbox', { name: 'Start Airlock when I log in' });
  await expect(startAtLogin).toBeDisabled();
  await expect(startAtLogin).toHaveAccessibleDescription(/Only the desktop app can start at login/);
  await page.getByRole('button', { name: 'Resources' }).click();
});

test('invalid form input shows inline errors next to each field', async () => {
  await page.getByRole('button', { name: 'Add a resource by hand' }).click();
  await page.getByRole('button', { name: 'Add resource', exact: true }).last().click();
  await expect(page.locator('#error-name')).toHaveText('a name is required');
  await expect(page.locator('#error-hostname')).toHaveText('a hostname is required');
  await expect(page.locator('#error-localPort')).toHaveText('a local port is required');
  await fillForm({ name: '../etc', hostname: 'not a host', localPort: '70000', edge: 'http://plain.example' });
  await expect(page.locator('#error-name')).toContainText('letters, digits');
  await expect(page.locator('#error-hostname')).toContainText('not a valid hostname');
  await expect(page.locator('#error-localPort')).toContainText('between 1 and 65535');
  await expect(page.locator('#error-edge')).toContainText('https://');
  await expect(page.locator('#field-hostname')).toHaveAttribute('aria-invalid', 'true');
  await page.screenshot({ path: `${SHOTS}/02-form-errors.png` });
  await fillForm({ localPort: '22', name: 'x', hostname: 'x.example.com', edge: '' });
  await expect(page.getByText('1024–65535 is recommended')).toBeVisible();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.locator('.dialog')).toHaveCount(0);
});

test('add a resource; it shows in the list', async () => {
  await page.getByRole('button', { name: 'Add a resource by hand' }).click();
  await fillForm(
    { name: 'cache', hostname: 'redis.example.com', localPort: String(await freePort()), tags: 'prod, cache' },
    'redis',
  );
  await page.getByRole('button', { name: 'Add resource', exact: true }).last().click();
  await expect(page.locator('.dialog')).toHaveCount(0);
  const row = page.locator('.resource[data-name="cache"]');
  await expect(row).toBeVisible();
  await expect(row).toContainText('redis.example.com');
  await expect(row.getByTestId('state')).toHaveText('Off');
});

test('a port already used by another resource is refused inline', async () => {
  const used = (await page
    .locator('.resource[data-name="cache"] [data-testid=configured-address]')
    .textContent())!.match(/:(\d+)/)![1]!;
  await page.getByRole('button', { name: 'Add resource' }).first().click();
  await fillForm({ name: 'other', hostname: 'other.example.com', localPort: used });
  await page.getByRole('button', { name: 'Add resource', exact: true }).last().click();
  await expect(page.locator('#error-localPort')).toHaveText(`port ${used} is already used by "cache"`);
  await page.keyboard.press('Escape');
});

test('edit a resource', async () => {
  await rowAction(page.locator('.resource[data-name="cache"]'), 'Edit');
  await expect(page.getByRole('heading', { name: 'Edit cache' })).toBeVisible();
  await page.locator('#field-hostname').fill('cache.example.com');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.locator('.resource[data-name="cache"]')).toContainText('cache.example.com');
});

test('search and tags filter the list; / focuses search', async () => {
  await page.getByRole('button', { name: 'Add resource' }).first().click();
  await fillForm(
    { name: 'warehouse', hostname: 'pg.example.com', localPort: String(await freePort()), tags: 'analytics' },
    'postgres',
  );
  await page.getByRole('button', { name: 'Add resource', exact: true }).last().click();
  await expect(page.locator('.resource')).toHaveCount(2);
  await expect(page.locator('.edge-account').first()).toContainText('Sign-in not available in this build');
  await page.locator('main').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('/');
  await expect(page.getByRole('searchbox', { name: 'Search resources' })).toBeFocused();
  await page.keyboard.type('pg.example');
  await expect(page.locator('.resource')).toHaveCount(1);
  await expect(page.locator('.resource').first()).toHaveAttribute('data-name', 'warehouse');
  await page.keyboard.press('Escape');
  await expect(page.locator('.resource')).toHaveCount(2);
  await page.getByRole('button', { name: 'analytics' }).click();
  await expect(page.locator('.resource')).toHaveCount(1);
  await page.getByRole('button', { name: 'All', exact: true }).click();
  await expect(page.locator('.resource')).toHaveCount(2);
  await page.screenshot({ path: `${SHOTS}/03-resource-list.png` });
});

test('Enter connects the selected resource; the local address shows; an edge that fails is an error, never green', async () => {
  // The edge is a plain TCP echo server: the listener comes up, but the edge's answer (TLS) fails.
  const echo = await startEchoServer();
  try {
    const row = page.locator('.resource[data-name="cache"]');
    await rowAction(row, 'Edit');
    await page.locator('#field-edge').fill(`https://127.0.0.1:${echo.port}`);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect(row.locator('.resource-host')).toHaveAttribute('title', `via https://127.0.0.1:${echo.port}`);

    await page.getByRole('searchbox', { name: 'Search resources' }).fill('cache');
    await page.keyboard.press('Enter');
    await expect(row.getByTestId('state')).toHaveText('Error');
    await expect(row.getByTestId('resource-error')).toContainText(/edge|TLS/i);
    await expect(row.getByRole('switch')).toHaveAttribute('aria-checked', 'true');
    await expect(row.locator('.dot')).not.toHaveClass(/dot-(ready|in-use)/);
    const address = (await row.getByTestId('local-address').textContent())!;
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);

    await poke(Number(address.split(':')[1]));
    await expect(row.getByTestId('resource-error')).toContainText(/edge|TLS/i);
    await expect(row.getByTestId('state')).toHaveText('Error');
    await expect(row.getByTestId('resource-error').getByRole('button', { name: 'Try again' })).toBeVisible();
    await page.getByRole('searchbox', { name: 'Search resources' }).fill('');
    await page.screenshot({ path: `${SHOTS}/04-connected-with-error.png` });

    await rowAction(row, 'Copy command');
    await expect(page.getByRole('status')).toHaveText(
      `Copied the command: redis-cli -h 127.0.0.1 -p ${address.split(':')[1]}`,
    );

    await row.getByRole('switch').click();
    await expect(row.getByTestId('state')).toHaveText('Off');
    await expect(row.getByTestId('resource-error')).toHaveCount(0);
    await expect(row.getByTestId('local-address')).toHaveCount(0);
  } finally {
    await echo.close();
  }
});

test('one click connects through an edge; the byte counters move', async () => {
  await page.getByRole('button', { name: 'Add resource' }).first().click();
  const port = await freePort();
  await fillForm({ name: 'echo', hostname: 'echo.example.com', localPort: String(port), edge: edge.url });
  await page.getByRole('button', { name: 'Add resource', exact: true }).last().click();
  const row = page.locator('.resource[data-name="echo"]');
  await row.getByRole('switch').click();
  await expect(row.getByTestId('local-address')).toHaveText(`127.0.0.1:${port}`);
  await expect(row.getByTestId('state')).toHaveText('Ready');
  await expect(row.locator('.dot')).toHaveClass(/dot-ready/);

  const socket = net.connect(port, '127.0.0.1');
  const echoed = new Promise<string>((resolve) => socket.once('data', (data) => resolve(String(data))));
  socket.write('PING through Airlock\r\n');
  expect(await echoed).toBe('PING through Airlock\r\n');
  await expect(row.getByTestId('counters')).toHaveText('1 open · ↑ 22 B · ↓ 22 B');
  await expect(row.getByTestId('state')).toHaveText('In use');
  await expect(row.getByTestId('resource-meta')).toContainText('Last used just now');
  await expect(row.getByTestId('resource-error')).toHaveCount(0);
  await page.screenshot({ path: `${SHOTS}/04b-connected-bytes.png` });
  socket.end();
  await expect(row.getByTestId('counters')).toHaveText('0 open · ↑ 22 B · ↓ 22 B');
  await row.getByRole('switch').click();
  await expect(row.getByTestId('state')).toHaveText('Off');
  await rowAction(row, 'Remove');
  await expect(row).toHaveCount(0);
});

test('export to JSON, then import: new entries added, invalid ones skipped with the reason', async () => {
  const downloading = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('airlock-resources.json');
  const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
  expect(exported.resources.map((resource: { name: string }) => resource.name).sort()).toEqual(['cache', 'warehouse']);

  const json = JSON.stringify({
    resources: [
      { name: 'imported', hostname: 'imported.example.com', localPort: await freePort(), kind: 'ssh' },
      { name: 'broken', hostname: 'no such host!', localPort: 1 },
    ],
  });
  await page
    .getByTestId('import-file')
    .setInputFiles({ name: 'resources.json', mimeType: 'application/json', buffer: Buffer.from(json) });
  await expect(page.getByRole('status')).toContainText('Imported 1. Skipped: broken (hostname: not a valid hostname');
  await expect(page.locator('.resource[data-name="imported"]')).toBeVisible();
  await rowAction(page.locator('.resource[data-name="imported"]'), 'Remove');
  await expect(page.locator('.resource[data-name="imported"]')).toHaveCount(0);
});

test('logs record what happened and filter by level', async () => {
  await page.getByRole('button', { name: 'Logs' }).click();
  await expect(page.locator('.log').filter({ hasText: 'added cache' })).toBeVisible();
  await page.getByRole('combobox', { name: 'Minimum level' }).selectOption('error');
  await expect(page.locator('.log-info')).toHaveCount(0);
  await expect(page.locator('.log-error').first()).toBeVisible();
  await page.getByRole('combobox', { name: 'Minimum level' }).selectOption('debug');
  await page.getByRole('searchbox', { name: 'Filter logs' }).fill('cache: listening on');
  await expect(page.locator('.log')).toHaveCount(1);
  await page.getByRole('searchbox', { name: 'Filter logs' }).fill('');
  await page.screenshot({ path: `${SHOTS}/05-logs.png` });
});

test('settings: switch to the dark theme, and it is saved', async () => {
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('radio', { name: 'Dark' }).check();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await page.getByRole('checkbox', { name: /warehouse/ }).check();
  await expect(page.getByRole('checkbox', { name: /warehouse/ })).toBeChecked();
  await page.screenshot({ path: `${SHOTS}/06-settings-dark.png` });
  await page.getByRole('button', { name: 'Resources' }).click();
  await page.screenshot({ path: `${SHOTS}/07-resource-list-dark.png` });
  await expect.poll(() => JSON.parse(readFileSync(dataFile, 'utf8')).settings.theme).toBe('dark');
});

test('remove a resource', async () => {
  await rowAction(page.locator('.resource[data-name="warehouse"]'), 'Remove');
  await expect(page.locator('.resource[data-name="warehouse"]')).toHaveCount(0);
  await expect(page.locator('.resource')).toHaveCount(1);
});

test('restart the UI server process: the resource and theme are still saved', async () => {
  await ui.stop();
  await expect(page.getByRole('alert').filter({ hasText: 'Lost the connection to Airlock' })).toBeVisible();
  ui = await startUiProcess(dataFile, edge.caFile);
  await page.goto(ui.url);
  await expect(page.locator('.resource[data-name="cache"]')).toContainText('cache.example.com');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
});

test('an old link is refused after a restart (one-time token)', async ({ browser }) => {
  const context = await browser.newContext();
  const other = await context.newPage();
  const response = await other.goto(`http://127.0.0.1:${ui.port}/`);
  expect(response!.status()).toBe(401);
  await expect(other.locator('body')).toContainText('one-time token');
  await context.close();
});
