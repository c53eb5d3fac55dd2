// `airlock access ssh` as OpenSSH's ProxyCommand, with the block `airlock access ssh-config` prints:
// real ssh, through a real edge and connector, to a real sshd, with no local port anywhere.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChain, startEchoServer, SERVICE_TOKEN, type Chain } from '../helpers/chain.js';
import { startSshd } from '../helpers/origins.js';
import { AIRLOCK_BIN, hasCommand, runToEnd } from '../helpers/processes.js';
import { shellWord, sshConfigBlock } from '../../src/shared/contract/ssh-config.js';

let chain: Chain | undefined;
let sshd: Awaited<ReturnType<typeof startSshd>> | undefined;
let echo: Awaited<ReturnType<typeof startEchoServer>>;
const home = mkdtempSync(join(tmpdir(), 'airlock-ssh-'));
const env = {
  ...process.env,
  XDG_CONFIG_HOME: home,
  AIRLOCK_NO_BROWSER: '1',
  AIRLOCK_SERVICE_TOKEN_ID: SERVICE_TOKEN.id,
  AIRLOCK_SERVICE_TOKEN_SECRET: SERVICE_TOKEN.secret,
};

before(async () => {
  echo = await startEchoServer();
  if (hasCommand('/usr/sbin/sshd') && hasCommand('/usr/bin/ssh')) sshd = await startSshd();
  chain = await startChain([
    { hostname: 'echo.airlock.test', service: `tcp://127.0.0.1:${echo.port}` },
    ...(sshd ? [{ hostname: 'ssh.airlock.test', service: `tcp://127.0.0.1:${sshd.port}` }] : []),
  ]);
});

after(async () => {
  await chain?.close();
  await Promise.all([echo?.close(), sshd?.process.stop()]);
});

test('sshConfigBlock quotes words the shell would split and leaves %h to ssh', () => {
  const block = sshConfigBlock({
    hostPattern: '*.example.com',
    command: ['/usr/bin/node', '/home/ada/my airlock/bin/airlock.js'],
    extraArguments: ['--edge', 'https://edge.example.com'],
  });
  assert.equal(
    block,
    "Host *.example.com\n  ProxyCommand /usr/bin/node '/home/ada/my airlock/bin/airlock.js' access ssh --hostname %h --edge https://edge.example.com\n",
  );
  assert.equal(shellWord("it's"), `'it'\\''s'`);
});

test('`airlock access ssh` carries bytes over stdin and stdout and ends when the far end does', async () => {
  const result = await runToEnd(
    process.execPath,
    [AIRLOCK_BIN, 'access', 'ssh', '--hostname', 'echo.airlock.test', '--edge', chain!.edgeUrl, '--ca', chain!.pki.ca],
    { env, input: 'hello over stdio\n', timeoutMs: 30_000 },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'hello over stdio\n', 'only the echoed bytes on stdout');
});

test('real ssh with the block from `airlock access ssh-config` reaches sshd through the edge', async (t) => {
  if (!sshd) return t.skip('sshd or ssh is not installed (Debian packages openssh-server, openssh-client)');
  const printed = await runToEnd(
    process.execPath,
    [
      AIRLOCK_BIN,
      'access',
      'ssh-config',
      '--hostname',
      '*.airlock.test',
      '--edge',
      chain!.edgeUrl,
      '--ca',
      chain!.pki.ca,
    ],
    { env, timeoutMs: 30_000 },
  );
  assert.equal(printed.code, 0, printed.stderr);
  assert.match(printed.stdout, /^Host \*\.airlock\.test\n {2}ProxyCommand .* access ssh --hostname %h /);
  const configFile = join(home, 'ssh_config');
  writeFileSync(configFile, printed.stdout, { mode: 0o600 });
  const result = await runToEnd(
    'ssh',
    [
      '-F',
      configFile,
      '-i',
      sshd.keyFile,
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'BatchMode=yes',
      '-o',
      'LogLevel=ERROR',
      `${sshd.user}@ssh.airlock.test`,
      'echo hello-from-sshd; uname -s',
    ],
    { env, timeoutMs: 60_000 },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'hello-from-sshd\nLinux\n');
});
