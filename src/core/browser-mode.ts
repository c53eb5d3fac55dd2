// `airlock ui`: a ResourceManager on the saved resources file plus the UI server, in one call.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuthProvider } from './auth-provider.js';
import { ResourceManager } from './resource-manager.js';
import { JsonFileStorage } from './resource-store.js';
import { startUiServer, type UiServer } from './ui-server.js';

export interface BrowserModeOptions {
  /** The saved resources (default: defaultDataFile()). The desktop app's electron-store uses the same file. */
  dataFile?: string;
  /** The built renderer (default: dist/renderer of this package). */
  staticDir?: string;
  port?: number;
  auth?: AuthProvider;
  caFile?: string;
}

export interface BrowserMode extends UiServer {
  manager: ResourceManager;
}

/** Per-user config folder: XDG on Linux, Application Support on macOS, %APPDATA% on Windows. */
export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.AIRLOCK_CONFIG_DIR) return env.AIRLOCK_CONFIG_DIR;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Airlock');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Airlock');
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'airlock');
}

export const RESOURCES_FILE_NAME = 'resources.json';

export function defaultDataFile(): string {
  return join(defaultConfigDir(), RESOURCES_FILE_NAME);
}

/** dist/renderer next to this module's package, whether run from src (tsx) or dist. */
export function defaultRendererDir(): string {
  return fileURLToPath(new URL('../../dist/renderer', import.meta.url));
}

export async function startBrowserMode(options: BrowserModeOptions = {}): Promise<BrowserMode> {
  const manager = new ResourceManager({
    storage: new JsonFileStorage(options.dataFile ?? defaultDataFile()),
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.caFile ? { caFile: options.caFile } : {}),
  });
  const server = await startUiServer({ service: manager, staticDir: options.staticDir ?? defaultRendererDir(), ...(options.port ? { port: options.port } : {}) });
  await manager.connectAutomatic();
  return {
    ...server,
    manager,
    close: async () => {
      await server.close();
      await manager.close();
    },
  };
}
