// `npm start` rebuilds keytar for Electron first (scripts/electron-native.mjs): a failure says what
// it means and keeps the Node build, instead of stopping the start or losing the keychain module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runToEnd } from '../helpers/processes.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(root, 'scripts', 'electron-native.mjs');
const require = createRequire(join(root, 'package.json'));
const installed = (specifier: string) => {
  try {
    return dirname(require.resolve(specifier));
  } catch {
    return undefined;
  }
};
const keytarDir = installed('keytar/package.json');
const addonApiDir = installed('node-addon-api/package.json');
const skipRebuild =
  !keytarDir || !existsSync(join(keytarDir, 'build', 'Release', 'keytar.node'))
    ? 'keytar is not installed with a build (its native build needs libsecret-1-dev)'
    : !installed('@electron/rebuild') || !addonApiDir
      ? '@electron/rebuild or node-addon-api is not installed'
      : undefined;

test('without keytar there is nothing to rebuild: it says the app keeps tokens in a safeStorage-encrypted file', async () => {
  const project = mkdtempSync(join(tmpdir(), 'airlock-native-'));
  writeFileSync(join(project, 'package.json'), '{"name":"empty","version":"1.0.0"}');
  const result = await runToEnd(process.execPath, [SCRIPT, '--module-dir', project]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /keytar is not installed .*a file encrypted with Electron's safeStorage/);
});

test(
  "a rebuild that fails (no Electron headers) says so, exits 0 and leaves keytar's Node build in place",
  { skip: skipRebuild },
  async () => {
    // A copy of keytar in a project of its own: the repository's keytar is never touched.
    const project = mkdtempSync(join(tmpdir(), 'airlock-native-'));
    mkdirSync(join(project, 'node_modules'));
    cpSync(keytarDir!, join(project, 'node_modules', 'keytar'), { recursive: true });
    cpSync(addonApiDir!, join(project, 'node_modules', 'node-addon-api'), { recursive: true });
    writeFileSync(
      join(project, 'package.json'),
      '{"name":"copy","version":"1.0.0","optionalDependencies":{"keytar":"*"}}',
    );
    const binary = join(project, 'node_modules', 'keytar', 'build', 'Release', 'keytar.node');
    const before = readFileSync(binary);
    // Headers from a loopback port where nothing listens: node-gyp fails after it has cleaned the build.
    const result = await runToEnd(
      process.execPath,
      [SCRIPT, '--module-dir', project, '--build-from-source', '--dist-url', 'http://127.0.0.1:1'],
      { timeoutMs: 120_000 },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^airlock: could not rebuild keytar for Electron \d+\.\d+\.\d+ \(exit status \d+, output above\)\. Starting anyway with keytar's Node build/m,
    );
    assert.match(result.stdout, /npm run rebuild:electron/);
    assert.ok(readFileSync(binary).equals(before), 'keytar.node is the Node build it was');
  },
);
