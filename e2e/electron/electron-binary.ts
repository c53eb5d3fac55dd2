// Whether the Electron binary is here. Without it the _electron specs skip and print why; a skip is
// reported as skipped by the runner, never as a pass.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function electronBinary(): { path: string } | { reason: string } {
  let path: unknown;
  try {
    path = require('electron');
  } catch (error) {
    return {
      reason: `Electron binary absent (${(error as Error).message.split('\n')[0]}); install it with \`node node_modules/electron/install.js\` to run the _electron specs`,
    };
  }
  if (typeof path !== 'string' || !existsSync(path)) return { reason: `Electron binary absent at ${String(path)}` };
  return { path };
}

export function skipReason(): string | undefined {
  const binary = electronBinary();
  if ('path' in binary) return undefined;
  console.log(`[electron] skipping: ${binary.reason}`);
  return binary.reason;
}
