#!/usr/bin/env node
// `npm start`: runs the desktop app, or says plainly why it cannot (no Electron binary here).
// First keytar, the keychain module, is rebuilt for Electron (scripts/electron-native.mjs).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { rebuildKeytarForElectron } from './electron-native.mjs';

const require = createRequire(import.meta.url);
let binary;
try {
  binary = require('electron');
} catch {
  binary = undefined;
}
if (typeof binary !== 'string' || !existsSync(binary)) {
  console.error(
    [
      'airlock: the Electron binary is not installed, so the desktop app cannot start.',
      '  It is skipped when ELECTRON_SKIP_BINARY_DOWNLOAD=1 is set or when install scripts are blocked.',
      '  To get it: unset ELECTRON_SKIP_BINARY_DOWNLOAD and run `node node_modules/electron/install.js`.',
      '  Without a desktop, run the same UI in a browser: `airlock ui`.',
    ].join('\n'),
  );
  process.exit(1);
}
console.log(rebuildKeytarForElectron());
const child = spawn(binary, ['.', ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
