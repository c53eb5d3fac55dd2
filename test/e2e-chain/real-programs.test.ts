// The full chain client → edge → connector → origin with real programs at both ends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startChain, startEchoServer, type Chain } from '../helpers/chain.js';
import { startClient, download, upload, echoRoundTrip } from '../helpers/client.js';
import { startRedis, startSshd, startTransferServer } from '../helpers/origins.js';
import { hasCommand, runToEnd, type Running } from '../helpers/processes.js';

const MB = 1024 * 1024;
let chain: Chain;
let redis: { port: number; process: Running } | undefined;
let sshd: Awaited<ReturnType<typeof startSshd>> | undefined;
let transfer: Awaited<ReturnType<typeof startTransferServer>>;
let echo: Awaited<ReturnType<typeof startEchoServer>>;

before(async () => {
  transfer = await startTransferServer(100 * MB);
  echo = await startEchoServer();
  if (hasCommand('/usr/bin/redis-server')) redis = await startRedis();
  if (hasCommand('/usr/sbin/sshd')) sshd = await startSshd();
  chain = await startChain(
    [
      { hostname: 'transfer.airlock.test', service: `tcp://127.0.0.1:${transfer.port}` },
      { hostname: 'echo.airlock.test', service: `tcp://127.0.0.1:${echo.port}` },
      ...(redis ? [{ hostname: 'redis.airlock.test', service: `tcp://127.0.0.1:${redis.port}` }] : []),
      ...(sshd ? [{ hostname: 'ssh.airlock.test', service: `tcp://127.0.0.1:${sshd.port}` }] : []),
    ],
    { connector: { connections: 4 } },
  );
});

after(async () => {
  await chain?.close();
  await Promise.all([transfer?.close(), echo?.close(), redis?.process.stop(), sshd?.process.stop()]);
});

test('ssh runs a command on a throwaway sshd through the tunnel', async (t) => {
  if (!sshd) return t.skip('sshd is not installed (Debian package openssh-server)');
  const client = await startClient(chain, 'ssh.airlock.test');
  t.after(() => client.listener.stop());
  const result = await runToEnd(
    'ssh',
    [
      '-p',
      String(client.port),
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
      `${sshd.user}@127.0.0.1`,
      'echo hello-from-sshd; uname -s',
    ],
    { timeoutMs: 30_000 },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^hello-from-sshd\nLinux\n$/);
});

test('redis-cli PING, SET and GET through the tunnel', async (t) => {
  if (!redis) return t.skip('redis-server is not installed (Debian package redis-server)');
  const client = await startClient(chain, 'redis.airlock.test');
  t.after(() => client.listener.stop());
  const cli = (...args: string[]) => runToEnd('redis-cli', ['-h', '127.0.0.1', '-p', String(client.port), ...args]);
  assert.equal((await cli('PING')).stdout.trim(), 'PONG');
  const value = `airlock-${Date.now()}`;
  assert.equal((await cli('SET', 'airlock:test', value)).stdout.trim(), 'OK');
  assert.equal((await cli('GET', 'airlock:test')).stdout.trim(), value);
});

test('a 100 MB download arrives with the sha256 the origin sent (and raw loopback for comparison)', async (t) => {
  const client = await startClient(chain, 'transfer.airlock.test');
  t.after(() => client.listener.stop());
  const rawStarted = performance.now();
  const raw = await download(transfer.port);
  const rawMs = performance.now() - rawStarted;
  const started = performance.now();
  const tunnelled = await download(client.port);
  const chainMs = performance.now() - started;
  assert.equal(raw.bytes, 100 * MB);
  assert.equal(tunnelled.bytes, 100 * MB);
  assert.equal(tunnelled.digest, transfer.sentDigests[1]);
  t.diagnostic(`100 MB download: raw loopback ${rawMs.toFixed(0)} ms, through the chain ${chainMs.toFixed(0)} ms`);
});

test('a 100 MB upload reaches the origin with the sha256 the client sent', async (t) => {
  const client = await startClient(chain, 'transfer.airlock.test');
  t.after(() => client.listener.stop());
  const started = performance.now();
  const result = await upload(client.port, 100 * MB);
  assert.equal(result.received, result.sent);
  t.diagnostic(`100 MB upload through the chain: ${(performance.now() - started).toFixed(0)} ms`);
});

test('200 concurrent connections all echo their own bytes', async (t) => {
  const client = await startClient(chain, 'echo.airlock.test');
  t.after(() => client.listener.stop());
  const results = await Promise.all(Array.from({ length: 200 }, () => echoRoundTrip(client.port, 16 * 1024)));
  assert.equal(results.filter(Boolean).length, 200);
  assert.equal(client.listener.status().totalConnections, 200);
  assert.equal(client.listener.status().lastError, undefined);
});
