// Builds the renderer once so browser mode serves what is in src/renderer now.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

export default function globalSetup(): void {
  mkdirSync('e2e/artifacts', { recursive: true });
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
}
