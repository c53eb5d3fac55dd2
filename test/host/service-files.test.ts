// `airlock service install|uninstall`: the files it writes, checked as text, by the real parsers
// where there is one (systemd-analyze verify, the connector's own config loader), and through the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildConnectorYaml,
  buildLaunchdPlist,
  buildSystemdUnit,
  buildWindowsCommands,
  servicePaths,
  systemdQuote,
  type ServiceSpec,
} from '../../src/connector/service-files.js';
import { loadConnectorConfig } from '../../src/connector/config.js';
import { edgeKey } from '../../src/cli/operator/operator-files.js';
import { AIRLOCK_BIN, airlock, hasCommand, runToEnd } from '../helpers/processes.js';

const TOKEN = 'eyJ0IjoidC0wMTIzIiwicyI6InNlY3JldC1zZWNyZXQifQ';
const spec: ServiceSpec = {
  name: 'redis.airlock.test',
  hostname: 'redis.airlock.test',
  edge: 'https://edge.airlock.test',
  url: 'tcp://127.0.0.1:6379',
  nodePath: process.execPath,
  airlockBin: AIRLOCK_BIN,
};

test('the systemd unit restarts always, runs hardened as a dynamic user, and reads the token from an EnvironmentFile', () => {
  const unit = buildSystemdUnit(
    { ...spec, airlockBin: '/usr/lib/airlock/bin/airlock.js' },
    { secrets: '/etc/airlock/airlock-redis.airlock.test.env' },
  );
  for (const line of [
    'Restart=always',
    'MemoryMax=2G',
    'DynamicUser=yes',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'CapabilityBoundingSet=',
    'WantedBy=multi-user.target',
    'EnvironmentFile=/etc/airlock/airlock-redis.airlock.test.env',
  ]) {
    assert.ok(unit.split('\n').includes(line), `missing ${line}`);
  }
  assert.match(
    unit,
    /^ExecStart=\S+ --initial-old-space-size=64 \/usr\/lib\/airlock\/bin\/airlock\.js tunnel run --edge https:\/\/edge\.airlock\.test --url tcp:\/\/127\.0\.0\.1:6379$/m,
  );
  assert.doesNotMatch(unit, /--token/);
});

test('an airlock installed under /home keeps ProtectHome read-only, so the service can still start', () => {
  assert.match(
    buildSystemdUnit({ ...spec, airlockBin: '/home/ops/airlock/bin/airlock.js' }, { secrets: '/etc/airlock/x.env' }),
    /^ProtectHome=read-only$/m,
  );
});

test('ExecStart quotes paths with spaces and escapes % specifiers', () => {
  assert.equal(systemdQuote('/opt/My Apps/airlock.js'), '"/opt/My Apps/airlock.js"');
  assert.equal(systemdQuote('/opt/100%/a'), '/opt/100%%/a');
  assert.equal(systemdQuote('say "hi"'), '"say \\"hi\\""');
});

test('systemd-analyze verify accepts the unit without a single warning', async (t) => {
  if (!hasCommand('/usr/bin/systemd-analyze')) {
    t.skip('systemd-analyze is not installed (Debian package systemd)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'airlock-unit-'));
  const file = join(dir, 'airlock-redis.service');
  writeFileSync(file, buildSystemdUnit(spec, { secrets: join(dir, 'airlock-redis.env'), ca: join(dir, 'ca.pem') }));
  const result = await runToEnd('systemd-analyze', ['verify', file]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr.trim(), '', `systemd-analyze warned:\n${result.stderr}`);
});

test('the launchd plist keeps the daemon alive as nobody, with no token in it', async () => {
  const plist = buildLaunchdPlist(spec, {
    config: '/Library/Application Support/Airlock/airlock-redis.airlock.test.yaml',
  });
  assert.match(plist, /<key>KeepAlive<\/key>\s*<true\/>/);
  assert.match(plist, /<key>RunAtLoad<\/key>\s*<true\/>/);
  assert.match(plist, /<key>UserName<\/key>\s*<string>nobody<\/string>/);
  assert.match(plist, /<string>--initial-old-space-size=64<\/string>\s*<string>[^<]*airlock\.js<\/string>/);
  assert.match(
    plist,
    /<string>--config<\/string>\s*<string>\/Library\/Application Support\/Airlock\/airlock-redis\.airlock\.test\.yaml<\/string>/,
  );
  if (hasCommand('/usr/bin/xmllint')) {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-plist-'));
    writeFileSync(join(dir, 'a.plist'), plist);
    const result = await runToEnd('xmllint', ['--noout', join(dir, 'a.plist')]);
    assert.equal(result.code, 0, result.stderr);
  }
});

test('the Windows commands create an auto-start service that restarts on failure, with no token on the command line', () => {
  const paths = servicePaths('win32', spec.name);
  const text = buildWindowsCommands(
    { ...spec, nodePath: 'C:\\Program Files\\nodejs\\node.exe', airlockBin: 'C:\\airlock\\bin\\airlock.js' },
    { config: paths.config!, secrets: paths.secrets },
  );
  assert.match(
    text,
    /^sc\.exe create airlock-redis\.airlock\.test binPath= "\\"C:\\Program Files\\nodejs\\node\.exe\\" --initial-old-space-size=64 \\"C:\\airlock\\bin\\airlock\.js\\" tunnel run --config \\"C:\\ProgramData\\Airlock\\airlock-redis\.airlock\.test\.yaml\\"" start= delayed-auto/m,
  );
  assert.match(text, /^sc\.exe failure airlock-redis\.airlock\.test reset= 86400 actions= restart\/5000/m);
  assert.doesNotMatch(text, /--token/);
});

test("the connector.yaml for launchd and Windows loads with the connector's own loader", () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-yaml-'));
  writeFileSync(join(dir, 'redis.token'), `${TOKEN}\n`, { mode: 0o600 });
  writeFileSync(
    join(dir, 'redis.yaml'),
    buildConnectorYaml(spec, { secrets: join(dir, 'redis.token'), ca: join(dir, 'ca.pem') }),
  );
  const config = loadConnectorConfig(join(dir, 'redis.yaml'));
  assert.equal(config.token, TOKEN);
  assert.deepEqual(config.edges, ['https://edge.airlock.test']);
  assert.deepEqual(config.rules, [
    { hostname: 'redis.airlock.test', service: 'tcp://127.0.0.1:6379' },
    { service: 'http_status:404' },
  ]);
});

function homeWithTunnel(): string {
  const home = mkdtempSync(join(tmpdir(), 'airlock-svc-'));
  const dir = join(home, 'airlock', 'tunnels', edgeKey(spec.edge));
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `${spec.name}.json`),
    JSON.stringify({ edge: spec.edge, name: spec.name, hostname: spec.hostname, url: spec.url, token: TOKEN }),
    { mode: 0o600 },
  );
  return home;
}

test('`airlock service install --dry-run` prints the unit and never the token', async (t) => {
  // A checkout under /tmp is refused by the readiness check (PrivateTmp; service-readiness.test.ts).
  if (/^\/(var\/)?tmp\//.test(AIRLOCK_BIN)) return t.skip(`this checkout is under /tmp (${AIRLOCK_BIN})`);
  const run = airlock(['service', 'install', '--dry-run', '--platform', 'linux'], {
    XDG_CONFIG_HOME: homeWithTunnel(),
  });
  assert.equal(await run.exited(), 0, run.output());
  assert.match(run.output(), /# \/etc\/systemd\/system\/airlock-redis\.airlock\.test\.service \(mode 644\)\n\[Unit\]/);
  assert.match(
    run.output(),
    /# \/etc\/airlock\/airlock-redis\.airlock\.test\.env \(mode 600\)\n<the tunnel token; written at install, never printed>/,
  );
  assert.match(run.output(), /systemctl enable --now airlock-redis\.airlock\.test\.service/);
  assert.ok(!run.output().includes(TOKEN));
});

test('`airlock service install --dry-run --platform darwin` prints the plist and connector.yaml', async () => {
  const run = airlock(['service', 'install', '--dry-run', '--platform', 'darwin'], {
    XDG_CONFIG_HOME: homeWithTunnel(),
  });
  assert.equal(await run.exited(), 0, run.output());
  assert.match(run.output(), /# \/Library\/LaunchDaemons\/dev\.airlock\.airlock-redis\.airlock\.test\.plist/);
  assert.match(
    run.output(),
    /tokenFile: "\/Library\/Application Support\/Airlock\/airlock-redis\.airlock\.test\.token"/,
  );
  assert.ok(!run.output().includes(TOKEN));
});

test('`airlock service uninstall --dry-run` lists what it would stop and remove', async () => {
  const run = airlock(['service', 'uninstall', '--dry-run', '--platform', 'linux'], {
    XDG_CONFIG_HOME: homeWithTunnel(),
  });
  assert.equal(await run.exited(), 0, run.output());
  assert.equal(
    run.output().trim(),
    [
      'systemctl disable --now airlock-redis.airlock.test.service',
      'remove /etc/systemd/system/airlock-redis.airlock.test.service',
      'remove /etc/airlock/airlock-redis.airlock.test.env',
      'remove /etc/airlock/airlock-redis.airlock.test-ca.pem',
      'systemctl daemon-reload',
    ].join('\n'),
  );
});

test('`airlock service install` with no tunnel published from this machine says what to run first', async () => {
  const run = airlock(['service', 'install', '--dry-run'], {
    XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'airlock-empty-')),
  });
  assert.equal(await run.exited(), 2);
  assert.match(
    run.output(),
    /no tunnel was published from this machine: run `airlock tunnel --hostname HOST --url tcp:\/\/HOST:PORT` first/,
  );
});

test('`airlock service install --platform` for another system needs --dry-run', async () => {
  const run = airlock(['service', 'install', '--platform', 'win32'], { XDG_CONFIG_HOME: homeWithTunnel() });
  assert.equal(await run.exited(), 2);
  assert.match(run.output(), /--platform win32 differs from this machine \(linux\): add --dry-run/);
});
