#!/usr/bin/env node
// Rebuilds keytar (the OS-keychain module) for Electron before `npm start`: `npm ci` built it for
// Node. Never fails the start: keytar is optional, and without it the app keeps sign-in tokens in a
// file encrypted with Electron's safeStorage (its log says which store is in use).
//   node scripts/electron-native.mjs [--module-dir DIR] [more @electron/rebuild options]
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const REBUILD_TIMEOUT_MS = 10 * 60_000;

/** Returns a sentence saying what happened; throws nothing. */
export function rebuildKeytarForElectron({ moduleDir = root, extraArguments = [] } = {}) {
  const require = createRequire(join(moduleDir, 'package.json'));
  const keytarDir = packageDir(require, 'keytar');
  if (!keytarDir) {
    return "keytar is not installed (it is optional; on Linux its build needs libsecret-1-dev): the app keeps sign-in tokens in a file encrypted with Electron's safeStorage.";
  }
  const ours = createRequire(join(root, 'package.json'));
  const rebuildMain = resolveOrUndefined(ours, '@electron/rebuild');
  const electronDir = packageDir(ours, 'electron');
  if (!rebuildMain || !electronDir) {
    return `${rebuildMain ? 'electron' : '@electron/rebuild'} is not installed, so keytar keeps its Node build. It uses Node-API, which Electron loads too; if the keychain still cannot be used, the app keeps sign-in tokens in a file encrypted with safeStorage.`;
  }
  const electronVersion = JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8')).version;
  // A failed node-gyp rebuild deletes keytar's build first: keep the Node build to put back.
  const binary = join(keytarDir, 'build', 'Release', 'keytar.node');
  const backup = existsSync(binary) ? join(mkdtempSync(join(tmpdir(), 'airlock-keytar-')), 'keytar.node') : undefined;
  if (backup) copyFileSync(binary, backup);
  const result = spawnSync(
    process.execPath,
    [
      join(dirname(rebuildMain), 'cli.js'),
      '--version',
      electronVersion,
      '--module-dir',
      moduleDir,
      '--only',
      'keytar',
      ...extraArguments,
    ],
    // Under `npm start`, npm exports npm_config_nodedir (Debian's: /usr): node-gyp would then build
    // against Node's headers while naming Electron's version. The rebuild must use Electron's.
    { stdio: 'inherit', timeout: REBUILD_TIMEOUT_MS, env: withoutNodeDir(process.env) },
  );
  try {
    if (result.status === 0) return `keytar is built for Electron ${electronVersion}.`;
    if (backup && !existsSync(binary)) {
      mkdirSync(dirname(binary), { recursive: true });
      copyFileSync(backup, binary);
    }
    const why = result.error
      ? result.error.message
      : result.signal
        ? `stopped by ${result.signal}`
        : `exit status ${result.status}, output above`;
    return (
      `airlock: could not rebuild keytar for Electron ${electronVersion} (${why}). Starting anyway with keytar's Node build ` +
      '(it uses Node-API, which Electron loads too); if the keychain still cannot be used, the app keeps sign-in tokens in a file ' +
      'encrypted with safeStorage and its log says so. To try again: npm run rebuild:electron'
    );
  } finally {
    if (backup) rmSync(dirname(backup), { recursive: true, force: true });
  }
}

function withoutNodeDir(env) {
  return Object.fromEntries(Object.entries(env).filter(([key]) => key.toLowerCase() !== 'npm_config_nodedir'));
}

function packageDir(require, name) {
  const manifest = resolveOrUndefined(require, `${name}/package.json`);
  return manifest ? dirname(manifest) : undefined;
}

function resolveOrUndefined(require, specifier) {
  try {
    return require.resolve(specifier);
  } catch {
    return undefined;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--module-dir');
  const moduleDir = at >= 0 ? resolve(argv[at + 1] ?? '.') : root;
  const extraArguments = at >= 0 ? [...argv.slice(0, at), ...argv.slice(at + 2)] : argv;
  console.log(rebuildKeytarForElectron({ moduleDir, extraArguments }));
}
