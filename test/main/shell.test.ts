// The Electron shell's wiring, run under plain Node with a stand-in `electron` module: IPC goes to
// the core with validation, the tray menu reflects state and drives it, deep links from a second
// launch connect, the window hides on close and refuses navigation, start at login applies.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { register } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from '../helpers/chain.js';

process.env.AIRLOCK_CONFIG_DIR = mkdtempSync(join(tmpdir(), 'airlock-shell-'));
process.env.AIRLOCK_E2E = '1';
register('./electron-hooks.mjs', import.meta.url);

type Handler = (event: unknown, method: unknown, params?: unknown) => Promise<any> | any;
let stub: any;
let invoke: (method: string, params?: unknown) => Promise<any>;
let port: number;

const until = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(check(), what);
};
const trayLabels = () =>
  (globalThis as any).airlockTrayItems?.map((item: { label?: string }) => item.label).filter(Boolean) ?? [];

before(async () => {
  await import('../../src/main/index.js');
  stub = (globalThis as any).electronStub;
  await until(() => stub.ipcHandlers.size === 1 && stub.trays.length === 1, 'main process started');
  const window = stub.windows[0];
  const handler: Handler = stub.ipcHandlers.get('airlock:invoke');
  invoke = (method, params) =>
    handler({ sender: window.webContents, senderFrame: window.webContents.mainFrame }, method, params);
  port = await freePort();
});

after(async () => {
  const { app } = (await import('electron' as string)) as any;
  app.quit();
  await new Promise((resolve) => setTimeout(resolve, 50));
});

test('registers the airlock protocol and the app:// scheme, loads the renderer from it', () => {
  assert.equal(stub.defaultProtocolClient, 'airlock');
  assert.equal(stub.protocols[0].scheme, 'app');
  assert.equal(stub.windows[0].loadedUrl, 'app://airlock/index.html');
});

test('the window is sandboxed, isolated and without Node', () => {
  const preferences = stub.windows[0].options.webPreferences;
  assert.equal(preferences.sandbox, true);
  assert.equal(preferences.contextIsolation, true);
  assert.equal(preferences.nodeIntegration, false);
  assert.equal(preferences.webviewTag, false);
  assert.match(preferences.preload, /dist\/preload\/index\.cjs$/);
});

test('the renderer protocol refuses paths outside dist/renderer', async () => {
  const { handler } = stub.protocolHandler;
  assert.equal((await handler({ url: 'app://airlock/..%2F..%2Fpackage.json' })).status, 404);
  assert.equal((await handler({ url: 'app://other/index.html' })).status, 404);
  const page = await handler({ url: 'app://airlock/' });
  assert.match(await page.text(), /dist\/renderer\/index\.html$/);
  assert.match(page.headers.get('content-security-policy'), /script-src 'self'; .*connect-src 'none'/);
});

test('new windows are denied; only https links open externally', () => {
  const contents = stub.windows[0].webContents;
  assert.deepEqual(contents.windowOpenHandler({ url: 'file:///etc/passwd' }), { action: 'deny' });
  assert.deepEqual(contents.windowOpenHandler({ url: 'https://docs.example.com' }), { action: 'deny' });
  assert.deepEqual(stub.openedExternally, ['https://docs.example.com']);
  let prevented = false;
  contents.emit('will-navigate', { preventDefault: () => (prevented = true) }, 'https://evil.example.com');
  assert.equal(prevented, true);
});

test('IPC from another frame or window is refused', async () => {
  const handler: Handler = stub.ipcHandlers.get('airlock:invoke');
  const result = await handler({ sender: {}, senderFrame: {} }, 'listResources');
  assert.equal(result.error.code, 'FORBIDDEN');
});

test('IPC validates at the boundary and reaches the core', async () => {
  const bad = await invoke('addResource', { name: '../x', hostname: 'x', localPort: 0 });
  assert.equal(bad.ok, false);
  assert.equal(bad.error.code, 'INVALID_INPUT');
  const added = await invoke('addResource', {
    name: 'db',
    hostname: 'db.example.com',
    localPort: port,
    edge: 'https://127.0.0.1:1',
  });
  assert.equal(added.ok, true);
  assert.ok(
    stub.sent.some((message: any) => message.channel === 'airlock:event' && message.payload.type === 'resources'),
  );
});

test('the tray menu shows the resource and its toggle connects it', async () => {
  await until(() => trayLabels()[0] === 'db', 'tray lists db');
  const menu = stub.trays[0].menu.template;
  menu.find((item: any) => item.label === 'db').click();
  await until(
    () => stub.trays[0].menu.template.find((item: any) => item.label === 'db')?.checked === true,
    'db checked after connect',
  );
  // Its edge (127.0.0.1:1) does not answer: switched on, never green, and the notification says why.
  const status = await invoke('getStatus');
  assert.equal(status.value.resources[0].localAddress, `127.0.0.1:${port}`);
  await until(
    () => stub.notifications.some((notice: any) => notice.title === 'db: edge unreachable'),
    'an unreachable edge is notified',
  );
  assert.equal((await invoke('getStatus')).value.resources[0].state, 'error');
  assert.match(stub.trays[0].menu.template.find((item: any) => item.label === 'db').sublabel, /^Error: /);
  stub.trays[0].menu.template.find((item: any) => item.label === 'Disconnect all').click();
  await until(
    () => stub.trays[0].menu.template.find((item: any) => item.label === 'db')?.checked === false,
    'db unchecked after disconnect all',
  );
});

test('a second launch with airlock://connect/db connects it and shows the window', async () => {
  const { app } = (await import('electron' as string)) as any;
  app.emit('second-instance', {}, ['/opt/Airlock/airlock', 'airlock://connect/db']);
  await until(() => stub.windows[0].visible, 'window shown');
  for (let i = 0; i < 100; i++) {
    if ((await invoke('getStatus')).value.resources[0].localAddress) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal((await invoke('getStatus')).value.resources[0].localAddress, `127.0.0.1:${port}`);
  await invoke('disconnectAll');
});

test('a hostile deep link is ignored and logged', async () => {
  const { app } = (await import('electron' as string)) as any;
  app.emit('second-instance', {}, ['/opt/Airlock/airlock', 'airlock://connect/..%2F..%2Fetc']);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const logs = await invoke('getLogs', { level: 'warn' });
  assert.ok(logs.value.some((entry: any) => /ignored the link/.test(entry.message)));
});

test('the log says where sign-in tokens are stored: the keychain, or else a file encrypted with safeStorage', async () => {
  let logs: any[] = [];
  await until(() => {
    void invoke('getLogs', { search: 'Sign-in tokens are stored in' }).then((answer) => (logs = answer.value));
    return logs.length > 0;
  }, 'the token store was described in the log');
  assert.match(
    logs[0].message,
    /^Sign-in tokens are stored in (the OS keychain \(|an encrypted file readable only by you, .*tokens\.enc \(Electron safeStorage, key in the Secret Service \(GNOME Keyring\)\))/,
  );
});

test('start at login from the tray applies the login item', async () => {
  stub.trays[0].menu.template.find((item: any) => item.label === 'Start at login').click();
  await until(() => stub.loginItem?.openAtLogin === true, 'login item set');
  assert.deepEqual(stub.loginItem.args, ['--hidden']);
  assert.equal((await invoke('getSettings')).value.startAtLogin, true);
});

test('closing the window hides it instead of quitting', () => {
  const window = stub.windows[0];
  window.show();
  window.close();
  assert.equal(window.visible, false);
});

test('electron-store writes the same resources file browser mode reads', async () => {
  const { ResourceStore, JsonFileStorage } = await import('../../src/app/service/resource-store.js');
  const document = new ResourceStore(
    new JsonFileStorage(join(process.env.AIRLOCK_CONFIG_DIR!, 'resources.json')),
  ).get();
  assert.equal(document.version, 2);
  assert.deepEqual(
    document.resources.map((resource) => resource.name),
    ['db'],
  );
});

test('the tray icon opens the compact popover beside it; it may call the core, and "Open Airlock" shows the full window', async () => {
  stub.windows[0].hide();
  stub.trays[0].click();
  const popover = stub.windows[1];
  assert.ok(popover, 'a second window for the popover');
  assert.equal(popover.loadedUrl, 'app://airlock/index.html#tray');
  assert.equal(popover.options.frame, false);
  assert.equal(popover.options.webPreferences.sandbox, true);
  assert.equal(popover.options.webPreferences.contextIsolation, true);
  assert.equal(popover.visible, true);
  assert.deepEqual(popover.position, { x: 1560, y: 14 }, 'beside the pointer, inside the work area');
  const handler = stub.ipcHandlers.get('airlock:invoke');
  const answer = await handler(
    { sender: popover.webContents, senderFrame: popover.webContents.mainFrame },
    'listResources',
  );
  assert.equal(answer.ok, true);
  await handler({ sender: popover.webContents, senderFrame: popover.webContents.mainFrame }, 'openWindow');
  assert.equal(stub.windows[0].visible, true);
  assert.equal(popover.visible, false, 'the popover gives way to the window');
  stub.trays[0].click();
  popover.emit('blur');
  assert.equal(popover.visible, false, 'gone when it loses focus');
});

test('Esc in the tray panel hides it: the panel asks the shell through the contract (hideTray)', async () => {
  stub.trays[0].click();
  const popover = stub.windows[1];
  assert.equal(popover.visible, true);
  const handler = stub.ipcHandlers.get('airlock:invoke');
  const answer = await handler({ sender: popover.webContents, senderFrame: popover.webContents.mainFrame }, 'hideTray');
  assert.equal(answer.ok, true);
  assert.equal(popover.visible, false);
});

test('Quit in the tray panel quits the app: app.quit(), and the listeners close first', async () => {
  stub.trays[0].click();
  const popover = stub.windows[1];
  const handler = stub.ipcHandlers.get('airlock:invoke');
  const quitsBefore = stub.quits;
  const answer = await handler({ sender: popover.webContents, senderFrame: popover.webContents.mainFrame }, 'quit');
  assert.equal(answer.ok, true, 'answered before the app goes');
  await until(() => stub.quits > quitsBefore, 'app.quit() called');
  await until(() => stub.trays[0].destroyed === true, 'the tray icon is removed on the way out');
});
