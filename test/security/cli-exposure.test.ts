// The CLI does not expose a credential to other users or hosts by default: a non-loopback listener
// needs --allow-remote (and warns), and secrets passed as flags warn that `ps` shows them, with
// environment variables and 0600 files as the quiet ways in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChain, startEchoServer, freePort, SERVICE_TOKEN, type Chain } from '../helpers/chain.js';
import { airlock } from '../helpers/processes.js';
import { echoRoundTrip } from '../helpers/client.js';

let chain: Chain;
let echo: Awaited<ReturnType<typeof startEchoServer>>;
const dir = mkdtempSync(join(tmpdir(), 'airlock-secrets-'));

before(async () => {
  echo = await startEchoServer();
  chain = await startChain([{ hostname: 'echo.airlock.test', service: `tcp://127.0.0.1:${echo.port}` }]);
});
after(async () => {
  await chain.close();
  await echo.close();
});

const accessTcp = (extra: string[], env: NodeJS.ProcessEnv = {}) =>
  airlock(
    [
      'access',
      'tcp',
      '--hostname',
      'echo.airlock.test',
      '--edge',
      chain.edgeUrl,
      '--ca',
      chain.pki.ca,
      '--service-token-id',
      SERVICE_TOKEN.id,
      ...extra,
    ],
    env,
  );

function secretFile(mode: number): string {
  const file = join(mkdtempSync(join(dir, 'f-')), 'secret');
  writeFileSync(file, `${SERVICE_TOKEN.secret}\n`);
  chmodSync(file, mode);
  return file;
}

test('--url on a non-loopback address is refused without --allow-remote, listening on nothing', async () => {
  const port = await freePort();
  const client = accessTcp(['--url', `0.0.0.0:${port}`], { AIRLOCK_SERVICE_TOKEN_SECRET: SERVICE_TOKEN.secret });
  assert.equal(await client.exited(), 2, client.output());
  assert.match(client.output(), /listens beyond this machine.*pass --allow-remote/s);
});

test('--allow-remote listens there and says so', async () => {
  const port = await freePort();
  const client = accessTcp(['--url', `0.0.0.0:${port}`, '--allow-remote'], {
    AIRLOCK_SERVICE_TOKEN_SECRET: SERVICE_TOKEN.secret,
  });
  try {
    await client.waitFor(/Listening on 0\.0\.0\.0:\d+/);
    assert.match(
      client.output(),
      /warning: \[LISTENER_EXPOSED\] listening on 0\.0\.0\.0:\d+; every host that reaches it uses echo\.airlock\.test with your credential/,
    );
  } finally {
    await client.stop();
  }
});

test('a secret given as a flag works, with a warning that ps shows it', async () => {
  const port = await freePort();
  const client = accessTcp(['--url', `127.0.0.1:${port}`, '--service-token-secret', SERVICE_TOKEN.secret]);
  try {
    await client.waitFor(/Listening on/);
    assert.match(
      client.output(),
      /--service-token-secret puts the secret on the command line.*use AIRLOCK_SERVICE_TOKEN_SECRET=… or --service-token-secret-file FILE/,
    );
  } finally {
    await client.stop();
  }
});

test('a secret from a 0600 file works quietly; a file others can read is refused', async () => {
  const port = await freePort();
  const client = accessTcp(['--url', `127.0.0.1:${port}`, '--service-token-secret-file', secretFile(0o600)]);
  try {
    await client.waitFor(/Listening on/);
    assert.doesNotMatch(client.output(), /command line/);
    assert.equal(await echoRoundTrip(port, 1024), true);
  } finally {
    await client.stop();
  }
  const open = accessTcp(['--url', `127.0.0.1:${await freePort()}`, '--service-token-secret-file', secretFile(0o644)]);
  assert.equal(await open.exited(), 2, open.output());
  assert.match(open.output(), /can be read by other users \(mode 644\); run chmod 600/);
});

test('`airlock tunnel run --token` warns too; --token-file does not', async () => {
  const flagged = airlock([
    'tunnel',
    'run',
    '--edge',
    chain.edgeUrl,
    '--ca',
    chain.pki.ca,
    '--url',
    `tcp://127.0.0.1:${echo.port}`,
    '--token',
    chain.tunnelToken,
  ]);
  try {
    await flagged.waitFor(/--token puts the secret on the command line/);
  } finally {
    await flagged.stop();
  }
  const file = join(mkdtempSync(join(dir, 't-')), 'token');
  writeFileSync(file, chain.tunnelToken, { mode: 0o600 });
  const quiet = airlock([
    'tunnel',
    'run',
    '--edge',
    chain.edgeUrl,
    '--ca',
    chain.pki.ca,
    '--url',
    `tcp://127.0.0.1:${echo.port}`,
    '--token-file',
    file,
  ]);
  try {
    await quiet.waitFor(/connected to edge/);
    assert.doesNotMatch(quiet.output(), /command line/);
  } finally {
    await quiet.stop();
  }
});
