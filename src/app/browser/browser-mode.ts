// `airlock ui`: a ResourceManager on the saved resources file plus the UI server, in one call.
import { fileURLToPath } from 'node:url';
import type { AuthProvider } from '../service/auth-provider.js';
import { defaultDataFile } from '../service/config-dir.js';
import { ResourceManager } from '../service/resource-manager.js';
import { JsonFileStorage } from '../service/resource-store.js';
import { startUiServer, type UiServer } from './ui-server.js';

export interface BrowserModeOptions {
  /** The saved resources (default: defaultDataFile()). The desktop app's electron-store uses the same file. */
  dataFile?: string;
  /** The built renderer (default: dist/renderer of this package). */
  staticDir?: string;
  port?: number;
  auth?: AuthProvider;
  caFile?: string;
  /**
   * After Quit in the UI has stopped the server and every listener (`airlock ui` exits here).
   * Without it, Quit still stops them and the process decides what to do next.
   */
  onQuit?: () => void;
}

export interface BrowserMode extends UiServer {
  manager: ResourceManager;
}

/** dist/renderer next to this module's package, whether run from src (tsx) or dist. */
export function defaultRendererDir(): string {
  return fileURLToPath(new URL('../../../dist/renderer', import.meta.url));
}

/** bin/airlock.js of this package, run by this Node: what ssh's ProxyCommand starts (it has no PATH of ours). */
export function airlockCommand(): string[] {
  return [process.execPath, fileURLToPath(new URL('../../../bin/airlock.js', import.meta.url))];
}

export async function startBrowserMode(options: BrowserModeOptions = {}): Promise<BrowserMode> {
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await server.close();
      await manager.close();
    })());
  const manager = new ResourceManager({
    storage: new JsonFileStorage(options.dataFile ?? defaultDataFile()),
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.caFile ? { caFile: options.caFile } : {}),
    airlockCommand: airlockCommand(),
    // Quit in the page: the same as Ctrl-C in the terminal. The page says Airlock has quit.
    quit: () => void close().then(() => options.onQuit?.()),
  });
  const server = await startUiServer({
    service: manager,
    staticDir: options.staticDir ?? defaultRendererDir(),
    ...(options.port ? { port: options.port } : {}),
  });
  await manager.connectAutomatic();
  return {
    ...server,
    manager,
    close,
  };
}
