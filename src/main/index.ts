// Electron main: lifecycle, single instance, tray, window, deep links, start at login,
// notifications, IPC. Thin: every decision lives in src/core; this file wires Electron to it.
import { app, ipcMain, Notification, screen, shell, type BrowserWindow } from 'electron';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  IPC,
  dispatch,
  type ApiEvent,
  type EdgeSession,
  type ResourceStatus,
  type Settings,
} from '../shared/contract/api.js';
import { defaultConfigDir } from '../app/service/config-dir.js';
import { deepLinkFromArgv, parseDeepLink, protocolClientArguments } from '../app/service/deep-link.js';
import { writeShortcut, type ShortcutPlatform } from '../app/service/desktop-shortcut.js';
import { ResourceManager } from '../app/service/resource-manager.js';
import { loginWithBrowser } from '../core/loopback-login.js';
import { SsoAuth } from '../app/service/sso-auth.js';
import { createTokenStore } from '../core/token-store.js';
import type { TrayCommand } from '../app/service/tray-menu.js';
import { APP_ORIGIN, registerAppScheme, serveRenderer } from './app-protocol.js';
import { ElectronStoreStorage } from './electron-store-storage.js';
import { safeStorageEncryption } from './safe-storage.js';
import { noticesFor, signInNoticesFor, type Notice } from '../app/service/notices.js';
import { isSafeExternalUrl } from '../app/service/external-url.js';
import { popoverPosition } from '../app/service/tray-popover.js';
import { AirlockTray } from './tray.js';
import { createMainWindow, createTrayPopover } from './window.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const asset = (name: string) => join(root, 'assets', name);
const startedHidden = process.argv.includes('--hidden');
let quitting = false;
let window: BrowserWindow | undefined;
let popover: BrowserWindow | undefined;
let tray: AirlockTray | undefined;
let manager: ResourceManager;
let pendingLink = deepLinkFromArgv(process.argv);
let lastStatuses = new Map<string, ResourceStatus>();
let lastSessions: EdgeSession[] = [];

if (!app.requestSingleInstanceLock()) {
  // Another Airlock is running: it receives our argv (and any deep link) in 'second-instance'.
  app.quit();
} else {
  app.on('second-instance', (_event, argv) => {
    showWindow();
    const link = deepLinkFromArgv(argv);
    if (link) void openLink(link);
  });
  // macOS delivers links through open-url, possibly before 'ready'.
  app.on('open-url', (event, url) => {
    event.preventDefault();
    if (app.isReady()) void openLink(url);
    else pendingLink = url;
  });
  app.setAsDefaultProtocolClient(...protocolClientArguments(process));
  registerAppScheme();
  app.on('web-contents-created', (_event, contents) =>
    contents.on('will-attach-webview', (attach) => attach.preventDefault()),
  );
  app.whenReady().then(start, (error: unknown) => {
    console.error('Airlock failed to start:', error);
    app.exit(1);
  });
}

async function start(): Promise<void> {
  // Sign-in opens the system browser (RFC 8252); tokens go to the OS keychain through keytar, or
  // else to a file encrypted with safeStorage. The log says which, once the store has chosen.
  const encryption = safeStorageEncryption();
  const tokens = createTokenStore({
    warn: (message) => manager.log('warn', message),
    ...(encryption ? { encryption } : {}),
  });
  const auth = new SsoAuth({
    tokens,
    login: (options) =>
      loginWithBrowser({
        ...options,
        openBrowser: (url) =>
          shell.openExternal(url).then(
            () => true,
            () => false,
          ),
        print: (message) => console.log(message),
      }),
  });
  manager = new ResourceManager({
    storage: new ElectronStoreStorage(defaultConfigDir()),
    auth,
    showWindow,
    // Esc in the tray panel; and Quit in its footer, the same as the tray menu's Quit.
    hideTray: () => popover?.hide(),
    quit,
    createShortcut: async (resource) =>
      writeShortcut(
        process.platform as ShortcutPlatform,
        app.getPath('desktop'),
        { name: resource.name, executable: process.env.APPIMAGE ?? process.execPath, icon: asset('icon.png') },
        (path, options) => shell.writeShortcutLink(path, 'create', options),
      ),
  });

  ipcMain.handle(IPC.invoke, (event, method: unknown, params: unknown) => {
    // Only our own windows' top frames may call the core.
    const own = [window, popover].some(
      (candidate) =>
        candidate &&
        !candidate.isDestroyed() &&
        event.sender === candidate.webContents &&
        event.senderFrame === candidate.webContents.mainFrame,
    );
    if (!own || !event.senderFrame?.url.startsWith(`${APP_ORIGIN}/`)) {
      return { ok: false, error: { code: 'FORBIDDEN', message: 'not the Airlock window' } };
    }
    return dispatch(manager, method, params);
  });
  manager.on('event', onCoreEvent);
  void tokens.describe().then(({ detail }) => manager.log('info', `Sign-in tokens are stored in ${detail}.`));

  serveRenderer(join(root, 'dist', 'renderer'));
  window = createMainWindow(
    { preload: join(root, 'dist', 'preload', 'index.cjs'), url: `${APP_ORIGIN}/index.html`, icon: asset('icon.png') },
    () => quitting,
  );
  const openedAtLogin = process.platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin;
  window.once('ready-to-show', () => {
    if (!startedHidden && !openedAtLogin) window?.show();
  });

  tray = new AirlockTray(
    asset(
      process.platform === 'darwin' ? 'trayTemplate.png' : process.platform === 'win32' ? 'tray-16.png' : 'tray-32.png',
    ),
    runTrayCommand,
    togglePopover,
  );
  await refreshTray();
  await manager.connectAutomatic();
  if (pendingLink) await openLink(pendingLink);
  pendingLink = undefined;
}

function onCoreEvent(event: ApiEvent): void {
  for (const target of [window, popover])
    if (target && !target.isDestroyed()) target.webContents.send(IPC.event, event);
  if (event.type === 'status') {
    const sessions = event.data.sessions;
    for (const notice of signInNoticesFor(lastSessions, sessions)) notify(notice);
    lastSessions = sessions;
    void manager.listResources().then((resources) => {
      for (const notice of noticesFor(lastStatuses, event.data.resources, resources)) notify(notice);
      lastStatuses = new Map(event.data.resources.map((status) => [status.id, status]));
    });
  }
  if (event.type === 'settings') applyLoginItem(event.data);
  if (event.type === 'status' || event.type === 'resources' || event.type === 'settings') void refreshTray();
}

function applyLoginItem(settings: Settings): void {
  app.setLoginItemSettings({ openAtLogin: settings.startAtLogin, openAsHidden: true, args: ['--hidden'] });
}

async function refreshTray(): Promise<void> {
  if (!tray) return;
  const [resources, status, settings] = await Promise.all([
    manager.listResources(),
    manager.getStatus(),
    manager.getSettings(),
  ]);
  tray.update({
    resources,
    statuses: status.resources,
    sessions: status.sessions,
    startAtLogin: settings.startAtLogin,
    signedIn: status.sessions.some((session) => session.signedIn),
    discovered: manager.discoveredApps(),
  });
  // The _electron specs read the menu from here; nothing else does.
  if (process.env.AIRLOCK_E2E === '1') Object.assign(globalThis, { airlockTrayItems: tray.lastItems });
}

function runTrayCommand(command: TrayCommand): void {
  const work = (async () => {
    switch (command.type) {
      case 'connect':
        return void (await manager.connect({ id: command.id }));
      case 'disconnect':
        return manager.disconnect({ id: command.id });
      case 'connect-discovered':
        return void (await manager.addDiscovered({ edge: command.edge, hostname: command.hostname, connect: true }));
      case 'connect-all':
        return manager.connectAll();
      case 'disconnect-all':
        return manager.disconnectAll();
      case 'open':
        return showWindow();
      case 'sign-out':
        return manager.signOutAll();
      case 'sign-in':
        return void (await manager.signIn({ edge: command.edge }));
      case 'open-sign-in':
        return openExternal(command.url);
      case 'cancel-sign-in':
        return void (await manager.cancelSignIn({ edge: command.edge }));
      case 'toggle-start-at-login': {
        const settings = await manager.getSettings();
        return void (await manager.updateSettings({ startAtLogin: !settings.startAtLogin }));
      }
      case 'quit':
        return quit();
    }
  })();
  work.catch((error: unknown) =>
    notify({ title: 'Airlock', body: error instanceof Error ? error.message : String(error) }),
  );
}

async function openLink(link: string): Promise<void> {
  try {
    const parsed = parseDeepLink(link);
    if (parsed.action === 'open') return showWindow();
    const resource = manager.findByName(parsed.name);
    if (!resource)
      return notify({ title: 'Airlock', body: `No saved resource is named "${parsed.name}". Add it first.` });
    if (parsed.action === 'connect') await manager.connect({ id: resource.id });
    else await manager.disconnect({ id: resource.id });
  } catch (error) {
    manager.log('warn', error instanceof Error ? error.message : String(error));
  }
}

function notify({ title, body, signInResourceId, openUrl }: Notice): void {
  if (!Notification.isSupported()) return;
  const notification = new Notification({ title, body });
  if (openUrl) notification.on('click', () => openExternal(openUrl));
  else if (signInResourceId) {
    notification.on('click', () => {
      void manager.getStatus().then(({ resources }) => {
        const status = resources.find((entry) => entry.id === signInResourceId);
        if (status)
          return manager
            .signIn({ edge: status.edge })
            .catch((error: unknown) => notify({ title: 'Sign-in failed', body: String((error as Error).message) }));
      });
    });
  } else notification.on('click', showWindow);
  notification.show();
}

/** The system browser, for https pages only (the sign-in page again). */
function openExternal(url: string): void {
  if (isSafeExternalUrl(url)) void shell.openExternal(url);
}

/** The tray icon's click: the compact list beside the icon, or away again. */
function togglePopover(): void {
  if (!tray) return;
  popover ??= createTrayPopover({
    preload: join(root, 'dist', 'preload', 'index.cjs'),
    url: `${APP_ORIGIN}/index.html`,
    icon: asset('icon.png'),
  });
  if (popover.isVisible()) return popover.hide();
  const pointer = screen.getCursorScreenPoint();
  const { x, y } = popoverPosition(tray.bounds(), pointer, screen.getDisplayNearestPoint(pointer).workArea);
  popover.setPosition(x, y);
  popover.show();
  popover.focus();
}

function showWindow(): void {
  popover?.hide();
  if (!window || window.isDestroyed()) return;
  if (window.isMinimized()) window.restore();
  window.show();
  window.focus();
}

function quit(): void {
  quitting = true;
  app.quit();
}

app.on('before-quit', (event) => {
  if (!manager || (quitting && !manager.listenerCount('event'))) return;
  // Close the local listeners cleanly once, then quit for real.
  quitting = true;
  event.preventDefault();
  manager.off('event', onCoreEvent);
  tray?.destroy();
  tray = undefined;
  void manager.close().finally(() => app.quit());
});

// A tray app keeps running with no window open.
app.on('window-all-closed', () => {});
app.on('activate', showWindow);
