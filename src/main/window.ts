// The windows: the full window and the tray popover, both sandboxed, isolated, no Node;
// navigation and new windows denied; https links go to the system browser. Closing the full
// window hides it to the tray; the popover hides when it loses focus.
import { BrowserWindow, shell, type BrowserWindowConstructorOptions, type Event } from 'electron';
import { isSafeExternalUrl } from '../app/service/external-url.js';
import { POPOVER_SIZE } from '../app/service/tray-popover.js';

export interface WindowPaths {
  preload: string;
  /** The renderer's page (app://airlock/index.html). */
  url: string;
  icon?: string;
}

export function createMainWindow(paths: WindowPaths, isQuitting: () => boolean): BrowserWindow {
  const window = secureWindow(paths, { width: 1000, height: 720, minWidth: 360, minHeight: 480, title: 'Airlock' });
  window.on('close', (event) => {
    if (isQuitting()) return;
    event.preventDefault();
    window.hide();
  });
  void window.loadURL(paths.url);
  return window;
}

/** The compact list opened from the tray icon: the same page at #tray, frameless, gone on blur. */
export function createTrayPopover(paths: WindowPaths): BrowserWindow {
  const popover = secureWindow(paths, {
    ...POPOVER_SIZE,
    frame: false,
    resizable: false,
    movable: false,
    minimizable: false,
    maximizable: false,
    fullscreenable: false,
    skipTaskbar: true,
    alwaysOnTop: true,
    title: 'Airlock',
  });
  popover.on('blur', () => popover.hide());
  void popover.loadURL(`${paths.url}#tray`);
  return popover;
}

function secureWindow(paths: WindowPaths, options: BrowserWindowConstructorOptions): BrowserWindow {
  const window = new BrowserWindow({
    ...options,
    show: false,
    ...(paths.icon ? { icon: paths.icon } : {}),
    webPreferences: {
      preload: paths.preload,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  window.removeMenu();

  const contents = window.webContents;
  contents.setWindowOpenHandler(({ url }) => {
    if (isSafeExternalUrl(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  const denyNavigation = (event: Event, url: string) => {
    if (url !== contents.getURL()) {
      event.preventDefault();
      if (isSafeExternalUrl(url)) void shell.openExternal(url);
    }
  };
  contents.on('will-navigate', denyNavigation);
  contents.on('will-redirect', denyNavigation);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.session.setPermissionRequestHandler((_contents, permission, callback) =>
    callback(permission === 'clipboard-sanitized-write'),
  );
  return window;
}
