// Builds the renderer and the Electron bundles once, so every spec runs what is in src/ now.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

export default function globalSetup(): void {
  mkdirSync('e2e/artifacts', { recursive: true });
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'], {
    stdio: 'inherit',
  });
  execFileSync(process.execPath, ['scripts/build-electron.mjs'], { stdio: 'inherit' });
}
