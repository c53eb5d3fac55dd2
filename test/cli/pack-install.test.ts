// What a user installs: `npm pack` of this checkout, installed with `npm install -g --prefix` into an
// empty folder, puts `airlock` on PATH and runs from there (dependencies from the npm cache or
// registry, never from this checkout's node_modules).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/chain.js';
import { hasCommand, run, runToEnd } from '../helpers/processes.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
// npm beside node (an official install), else the one on PATH: Node from the npm registry
// (.ci/node-24.sh) ships node alone, and PATH's npm then runs under it.
const npm =
  [join(dirname(process.execPath), 'npm'), ...(process.env.PATH ?? '').split(':').map((dir) => join(dir, 'npm'))].find(
    (candidate) => existsSync(candidate),
  ) ?? 'npm';

/** The environment without npm's own lifecycle variables (npm test sets npm_config_prefix and friends). */
function cleanEnvironment(): NodeJS.ProcessEnv {
  const kept = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_nodedir']);
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('npm_') || kept.has(name)),
  );
  return { ...env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
}

const OFFLINE = /ENOTCACHED|ENOTFOUND|EAI_AGAIN|ENETUNREACH|ECONNREFUSED|ETIMEDOUT/;

test(
  'the packed tarball installs into an empty prefix and runs `airlock --version` and `airlock demo --service-token`',
  {
    timeout: 180_000,
  },
  async (t) => {
    if (!hasCommand(npm)) return t.skip(`no npm next to ${process.execPath}`);
    if (!existsSync(join(root, 'dist', 'cli', 'main.js')))
      return t.skip('dist/ is not built (npx tsc -p tsconfig.json)');
    const dir = mkdtempSync(join(tmpdir(), 'airlock-pack-'));
    const env = cleanEnvironment();

    // dist/ is already built by the test run; --ignore-scripts skips `prepare` rebuilding it.
    const packed = await runToEnd(npm, ['pack', '--ignore-scripts', '--pack-destination', dir, '--loglevel=error'], {
      cwd: root,
      env,
      timeoutMs: 60_000,
    });
    assert.equal(packed.code, 0, packed.stderr);
    const tarball = join(
      dir,
      readdirSync(dir).find((name) => name.endsWith('.tgz'))!,
    );

    const listing = await runToEnd('tar', ['tzf', tarball]);
    const files = listing.stdout.split('\n').filter(Boolean);
    for (const needed of ['package/bin/airlock.js', 'package/dist/cli/main.js', 'package/package.json'])
      assert.ok(files.includes(needed), `${needed} is in the package`);
    for (const unwanted of ['package/src/', 'package/test/', 'package/e2e/', 'package/node_modules/'])
      assert.ok(!files.some((file) => file.startsWith(unwanted)), `nothing under ${unwanted} is in the package`);

    const prefix = join(dir, 'prefix');
    // npm 11 runs no dependency's install script unless allowed (keytar then falls back to the 0600
    // file); --ignore-scripts says so, and keeps the install inside the runner's 3 minutes per file.
    const installed = await runToEnd(
      npm,
      [
        'install',
        '-g',
        '--prefix',
        prefix,
        tarball,
        '--prefer-offline',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
      ],
      { cwd: dir, env, timeoutMs: 150_000 },
    );
    if (installed.code !== 0 && OFFLINE.test(installed.stderr))
      return t.skip(`npm could reach neither its cache nor the registry: ${installed.stderr.split('\n')[0]}`);
    assert.equal(installed.code, 0, installed.stderr);
    const bin = join(prefix, 'bin', 'airlock');
    assert.ok(existsSync(bin), 'npm put `airlock` in PREFIX/bin');
    assert.ok(
      existsSync(join(prefix, 'lib', 'node_modules', 'airlock', 'node_modules', 'jose')) ||
        existsSync(join(prefix, 'lib', 'node_modules', 'jose')),
      'dependencies were installed with it',
    );

    const shown = await runToEnd(bin, ['--version'], { env, cwd: dir, timeoutMs: 30_000 });
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`^airlock ${version.replaceAll('.', '\\.')} \\(Node\\.js `));

    const demo = run(bin, ['demo', '--service-token', '--port', String(await freePort()), '--dir', join(dir, 'demo')], {
      env: { ...env, AIRLOCK_NO_BROWSER: '1' },
      cwd: dir,
    });
    try {
      await demo.waitFor(/came back through client → edge → connector → service/, 60_000);
      await demo.waitFor(/Ctrl-C stops every part/, 10_000);
    } finally {
      // A clean stop drains the connector: give it longer than the default on a busy machine.
      await demo.stop('SIGINT', 30_000);
    }
    assert.equal(demo.child.signalCode, null, `the demo died of ${demo.child.signalCode}:\n${demo.output()}`);
    assert.equal(demo.child.exitCode, 0, demo.output());
  },
);
