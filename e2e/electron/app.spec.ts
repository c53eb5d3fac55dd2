// The desktop shell itself: window hardening, the preload's exact surface, hide to tray, tray menu.
import { _electron as electron, expect, test, type ElectronApplication, type Page } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { electronBinary, skipReason } from './electron-binary.js';

const reason = skipReason();
test.skip(reason !== undefined, reason);

let app: ElectronApplication;
let page: Page;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  const binary = electronBinary();
  if (!('path' in binary)) return;
  app = await electron.launch({
    executablePath: binary.path,
    args: ['.', '--no-sandbox'],
    env: { ...process.env, AIRLOCK_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'airlock-electron-')), AIRLOCK_E2E: '1' },
  });
  page = await app.firstWindow();
});

test.afterAll(async () => {
  await app?.close();
});

test('window: no Node in the renderer, served from app://airlock', async () => {
  expect(page.url()).toBe('app://airlock/index.html');
  await expect(page).toHaveTitle('Airlock');
  // The webPreferences themselves are asserted in test/main/shell.test.ts; here, their effect.
  expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
  expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
});

test('preload exposes exactly the transport', async () => {
  expect(await page.evaluate(() => Object.keys((window as unknown as { airlock: object }).airlock).sort())).toEqual([
    'invoke',
    'subscribe',
  ]);
  const refused = await page.evaluate(() =>
    (window as unknown as { airlock: { invoke(m: string, p: unknown): Promise<unknown> } }).airlock.invoke('close', {}),
  );
  expect(refused).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
});

test('new windows and navigation are denied', async () => {
  expect(await page.evaluate(() => window.open('file:///etc/passwd') === null)).toBe(true);
  await page.evaluate(() => {
    location.href = 'file:///etc/passwd';
  });
  await expect(page).toHaveTitle('Airlock');
  expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
});

test('the same UI adds a resource through IPC', async () => {
  await page.getByRole('button', { name: 'Add your first resource' }).click();
  await page.locator('#field-name').fill('db');
  await page.locator('#field-hostname').fill('db.example.com');
  await page.locator('#field-localPort').fill('55433');
  await page.getByRole('button', { name: 'Add resource', exact: true }).last().click();
  await expect(page.locator('.resource[data-name="db"]')).toBeVisible();
});

test('tray menu lists the resource, connect/disconnect all, start at login and quit', async () => {
  await expect
    .poll(() =>
      app.evaluate(() =>
        ((globalThis as { airlockTrayItems?: { label?: string }[] }).airlockTrayItems ?? [])
          .map((item) => item.label)
          .filter(Boolean),
      ),
    )
    .toEqual([
      'db',
      'Connect all',
      'Disconnect all',
      'Open Airlock',
      'Sign out everywhere',
      'Start at login',
      'Quit Airlock',
    ]);
});

test('closing the window hides it to the tray', async () => {
  await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.close());
  const state = await app.evaluate(({ BrowserWindow }) =>
    BrowserWindow.getAllWindows().map((window) => window.isVisible()),
  );
  expect(state).toEqual([false]);
});
