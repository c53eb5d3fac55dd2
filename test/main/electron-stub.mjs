// A stand-in for the `electron` module so the main process's wiring runs under plain Node (the
// Electron binary is not available everywhere). Records what the shell asks Electron to do.
import { EventEmitter } from 'node:events';

export const recorded = {
  ipcHandlers: new Map(),
  windows: [],
  trays: [],
  notifications: [],
  loginItem: undefined,
  protocols: [],
  defaultProtocolClient: undefined,
  openedExternally: [],
  sent: [],
  quits: 0,
};
globalThis.electronStub = recorded;

class WebContents extends EventEmitter {
  constructor() {
    super();
    this.mainFrame = { url: 'app://airlock/index.html' };
    this.session = { setPermissionRequestHandler: (handler) => (this.permissionHandler = handler) };
  }
  setWindowOpenHandler(handler) {
    this.windowOpenHandler = handler;
  }
  send(channel, payload) {
    recorded.sent.push({ channel, payload });
  }
  getURL() {
    return 'app://airlock/index.html';
  }
}

export class BrowserWindow extends EventEmitter {
  constructor(options) {
    super();
    this.options = options;
    this.webContents = new WebContents();
    this.visible = false;
    recorded.windows.push(this);
    setImmediate(() => this.emit('ready-to-show'));
  }
  removeMenu() {}
  loadURL(url) {
    this.loadedUrl = url;
    return Promise.resolve();
  }
  show() {
    this.visible = true;
  }
  isVisible() {
    return this.visible;
  }
  setPosition(x, y) {
    this.position = { x, y };
  }
  hide() {
    this.visible = false;
  }
  focus() {}
  isMinimized() {
    return false;
  }
  restore() {}
  isDestroyed() {
    return false;
  }
  close() {
    const event = {
      defaultPrevented: false,
      preventDefault() {
        this.defaultPrevented = true;
      },
    };
    this.emit('close', event);
  }
}

class App extends EventEmitter {
  constructor() {
    super();
    this.ready = false;
  }
  requestSingleInstanceLock() {
    return true;
  }
  whenReady() {
    this.ready = true;
    return Promise.resolve();
  }
  isReady() {
    return this.ready;
  }
  setAsDefaultProtocolClient(scheme) {
    recorded.defaultProtocolClient = scheme;
  }
  getPath(name) {
    return `${process.env.AIRLOCK_CONFIG_DIR}/${name}`;
  }
  getVersion() {
    return '0.0.0-test';
  }
  getLoginItemSettings() {
    return { wasOpenedAtLogin: false };
  }
  setLoginItemSettings(settings) {
    recorded.loginItem = settings;
  }
  quit() {
    recorded.quits++;
    this.emit('before-quit', { preventDefault() {} });
  }
  exit() {}
}
export const app = new App();

export const ipcMain = {
  handle: (channel, handler) => recorded.ipcHandlers.set(channel, handler),
  on: () => {},
};

export class Tray {
  constructor(image) {
    this.image = image;
    recorded.trays.push(this);
  }
  on(event, handler) {
    if (event === 'click') this.clickHandler = handler;
  }
  click() {
    this.clickHandler?.();
  }
  getBounds() {
    return { x: 0, y: 0, width: 0, height: 0 }; // as most Linux trays report
  }
  setToolTip(text) {
    this.tooltip = text;
  }
  setContextMenu(menu) {
    this.menu = menu;
  }
  destroy() {
    this.destroyed = true;
  }
}

export const Menu = { buildFromTemplate: (template) => ({ template }) };
export const nativeImage = { createFromPath: (path) => ({ path, setTemplateImage() {} }) };

export class Notification extends EventEmitter {
  static isSupported() {
    return true;
  }
  constructor(options) {
    super();
    this.options = options;
  }
  show() {
    recorded.notifications.push(this.options);
  }
}

export const shell = {
  openExternal: (url) => recorded.openedExternally.push(url),
  writeShortcutLink: () => true,
  openPath: () => Promise.resolve(''),
};
export const protocol = {
  registerSchemesAsPrivileged: (schemes) => recorded.protocols.push(...schemes),
  handle: (scheme, handler) => (recorded.protocolHandler = { scheme, handler }),
};
export const screen = {
  getCursorScreenPoint: () => ({ x: 1900, y: 10 }),
  getDisplayNearestPoint: () => ({ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }),
};
export const net = { fetch: (url) => Promise.resolve(new Response(`fetched ${url}`)) };
// Reversible, not secret: the shell's wiring is under test here, not the cipher.
export const safeStorage = {
  isEncryptionAvailable: () => true,
  getSelectedStorageBackend: () => 'gnome_libsecret',
  encryptString: (plain) => Buffer.from(plain, 'utf8').reverse(),
  decryptString: (data) => Buffer.from(data).reverse().toString('utf8'),
};

export default {
  app,
  ipcMain,
  BrowserWindow,
  Tray,
  Menu,
  nativeImage,
  Notification,
  shell,
  protocol,
  net,
  safeStorage,
  screen,
};
