// Where the saved resources live: one file the desktop app (electron-store) and browser mode share.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Per-user config folder: XDG on Linux, Application Support on macOS, %APPDATA% on Windows. */
export function defaultConfigDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (env.AIRLOCK_CONFIG_DIR) return env.AIRLOCK_CONFIG_DIR;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Airlock');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Airlock');
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'airlock');
}

export const RESOURCES_FILE_NAME = 'resources.json';

export function defaultDataFile(): string {
  return join(defaultConfigDir(), RESOURCES_FILE_NAME);
}
