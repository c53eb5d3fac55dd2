// The one window: sandboxed, isolated, no Node; navigation and new windows denied; https links go
// to the system browser. Closing hides it to the tray.
import { BrowserWindow, shell, type Event } from 'electron';
import { isSafeExternalUrl } from '../core/external-url.js';

export interface WindowPaths {
  preload: string;
  /** The renderer's page (app://airlock/index.html). */
  url: string;
  icon?: string;
}

export function createMainWindow(paths: WindowPaths, isQuitting: () => boolean): BrowserWindow {
  const window = new BrowserWindow({
    width: 1000,
    height: 720,
    minWidth: 640,
    minHeight: 480,
    show: false,
    title: 'Airlock',
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
  contents.session.setPermissionRequestHandler((_contents, permission, callback) => callback(permission === 'clipboard-sanitized-write'));

  window.on('close', (event) => {
    if (isQuitting()) return;
    event.preventDefault();
    window.hide();
  });

  void window.loadURL(paths.url);
  return window;
}
