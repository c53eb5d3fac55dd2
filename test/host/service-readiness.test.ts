// `airlock service install` refuses a unit that could not start: node or airlock under /tmp (hidden
// by PrivateTmp=yes), or out of reach of the DynamicUser (a 0700/0750 directory above them, a file
// without the "others" bit). Real directories with real modes; the tests run as root, who may read
// everything, which is why readability is worked out from the mode bits and not from access(2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modeOnDisk, serviceStartProblems, type ServiceFile } from '../../src/connector/service-readiness.js';
import { edgeKey } from '../../src/cli/operator/operator-files.js';
import { runToEnd } from '../helpers/processes.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A scratch directory outside /tmp (so PrivateTmp does not decide), removed when the test ends. */
function scratchOutsideTmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync('/run/airlock-svc-');
  chmodSync(dir, 0o755);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function file(path: string, use: ServiceFile['use'] = 'read'): ServiceFile {
  return { path, use, fix: 'FIX' };
}

test('a 0750 or 0700 directory above the file shuts the dynamic user out; 0755 lets it in', (t) => {
  const home = join(scratchOutsideTmp(t), 'home');
  const script = join(home, 'airlock', 'bin', 'airlock.js');
  mkdirSync(join(home, 'airlock', 'bin'), { recursive: true });
  writeFileSync(script, '// airlock\n', { mode: 0o644 });
  const check = () => serviceStartProblems([file(script)], { privateTmp: true, modeOf: modeOnDisk });

  chmodSync(home, 0o750);
  assert.deepEqual(check(), [
    `the service's user (DynamicUser=yes) cannot enter ${home} (mode 0750), so it cannot read ${script}: FIX`,
  ]);
  chmodSync(home, 0o700);
  assert.match(check()[0]!, /cannot enter \S+\/home \(mode 0700\)/);
  chmodSync(home, 0o711); // x without r: others may pass through, which is all a path needs
  assert.deepEqual(check(), []);
  chmodSync(home, 0o755);
  assert.deepEqual(check(), []);
});

test('a file without the "others" bit it needs is named with its mode: r to read, x to execute', (t) => {
  const dir = scratchOutsideTmp(t);
  const script = join(dir, 'airlock.js');
  const node = join(dir, 'node');
  writeFileSync(script, '// airlock\n', { mode: 0o600 });
  writeFileSync(node, '#!/bin/sh\n', { mode: 0o754 });
  chmodSync(script, 0o600);
  chmodSync(node, 0o754);
  const problems = serviceStartProblems([file(script), file(node, 'execute')], {
    privateTmp: true,
    modeOf: modeOnDisk,
  });
  assert.deepEqual(problems, [
    `the service's user (DynamicUser=yes) cannot read ${script} (mode 0600): FIX`,
    `the service's user (DynamicUser=yes) cannot execute ${node} (mode 0754): FIX`,
  ]);
  chmodSync(script, 0o644);
  chmodSync(node, 0o755);
  assert.deepEqual(
    serviceStartProblems([file(script), file(node, 'execute')], { privateTmp: true, modeOf: modeOnDisk }),
    [],
  );
  assert.match(
    serviceStartProblems([file(join(dir, 'gone.js'))], { privateTmp: true, modeOf: modeOnDisk })[0]!,
    /cannot read \S+gone\.js: it does not exist/,
  );
});

test('under /tmp or /var/tmp only a unit with PrivateTmp=yes is refused (launchd has none)', (t) => {
  const dir = mkdtempSync('/tmp/airlock-svc-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const script = join(dir, 'airlock.js');
  writeFileSync(script, '// airlock\n', { mode: 0o644 });
  assert.deepEqual(serviceStartProblems([file(script)], { privateTmp: true, modeOf: modeOnDisk }), [
    `${script} is under /tmp, which the unit's PrivateTmp=yes replaces with an empty directory: FIX`,
  ]);
  assert.deepEqual(serviceStartProblems([file(script)], { privateTmp: false, modeOf: modeOnDisk }), []);
  assert.match(
    serviceStartProblems([file('/var/tmp/x/airlock.js')], { privateTmp: true, modeOf: modeOnDisk })[0]!,
    /^\/var\/tmp\/x\/airlock\.js is under \/var\/tmp,/,
  );
  assert.deepEqual(serviceStartProblems([file('/tmpfoo/airlock.js')], { privateTmp: true, modeOf: () => 0o755 }), []);
});

/** A copy of this checkout's airlock (bin, dist, package.json; node_modules linked) at `dir`/airlock. */
function copyOfAirlock(dir: string): string {
  const copy = join(dir, 'airlock');
  mkdirSync(join(copy, 'bin'), { recursive: true });
  cpSync(join(root, 'bin', 'airlock.js'), join(copy, 'bin', 'airlock.js'));
  cpSync(join(root, 'package.json'), join(copy, 'package.json'));
  cpSync(join(root, 'dist'), join(copy, 'dist'), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
  return copy;
}

/** An XDG_CONFIG_HOME with one tunnel published from "this machine". */
function configWithTunnel(dir: string): string {
  const config = join(dir, 'config');
  const edge = 'https://edge.airlock.test';
  const tunnels = join(config, 'airlock', 'tunnels', edgeKey(edge));
  mkdirSync(tunnels, { recursive: true });
  writeFileSync(
    join(tunnels, 'redis.json'),
    JSON.stringify({ edge, name: 'redis', hostname: 'redis.airlock.test', url: 'tcp://127.0.0.1:6379', token: 'x.y' }),
    { mode: 0o600 },
  );
  return config;
}

function installDryRun(copy: string, config: string) {
  return runToEnd(
    process.execPath,
    [join(copy, 'bin', 'airlock.js'), 'service', 'install', '--dry-run', '--platform', 'linux'],
    {
      env: { ...process.env, XDG_CONFIG_HOME: config },
      timeoutMs: 30_000,
    },
  );
}

test('`service install --dry-run` from an airlock under /tmp prints the unit, then refuses: PrivateTmp hides it', async (t) => {
  const dir = mkdtempSync('/tmp/airlock-svc-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const copy = copyOfAirlock(dir);
  const result = await installDryRun(copy, configWithTunnel(dir));
  assert.equal(result.code, 2, result.stderr);
  assert.match(
    result.stdout,
    new RegExp(`^ExecStart=\\S+ --initial-old-space-size=64 ${copy}/bin/airlock\\.js tunnel run`, 'm'),
  );
  assert.match(result.stdout, /^PrivateTmp=yes$/m);
  assert.ok(
    result.stderr.startsWith(
      `airlock: [SERVICE_WOULD_NOT_START] the service would not start:\n  - ${copy}/bin/airlock.js is under /tmp, which the unit's PrivateTmp=yes replaces with an empty directory: install airlock where every user can read it, e.g. \`npm pack --ignore-scripts && sudo npm install -g ./airlock-`,
    ),
    result.stderr,
  );
});

test('`service install` from an airlock in a 0750 directory refuses and names the directory; at 0755 the same dry run passes', async (t) => {
  const dir = scratchOutsideTmp(t);
  const home = join(dir, 'home');
  mkdirSync(home, { mode: 0o750 });
  chmodSync(home, 0o750);
  const copy = copyOfAirlock(home);
  const config = configWithTunnel(dir);

  const dry = await installDryRun(copy, config);
  assert.equal(dry.code, 2, dry.stderr);
  assert.match(dry.stdout, /^DynamicUser=yes$/m, 'the dry run still shows the unit');
  assert.match(
    dry.stderr,
    new RegExp(
      `^airlock: \\[SERVICE_WOULD_NOT_START\\] the service would not start:\\n  - the service's user \\(DynamicUser=yes\\) cannot enter ${home} \\(mode 0750\\), so it cannot read ${copy}/bin/airlock\\.js: install airlock where every user can read it`,
    ),
  );
  chmodSync(home, 0o755);
  const fine = await installDryRun(copy, config);
  assert.equal(fine.code, 0, fine.stderr);
  assert.doesNotMatch(fine.stderr, /SERVICE_WOULD_NOT_START/);
});
