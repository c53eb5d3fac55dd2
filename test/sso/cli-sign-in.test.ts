// `airlock access tcp` with single sign-on, end to end: the real IdP, the real edge and connector,
// Chromium on the real login page, then redis-cli through the tunnel.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startChain, freePort, type Chain } from '../helpers/chain.js';
import { startRedis } from '../helpers/origins.js';
import { airlock, runToEnd, hasCommand, type Running } from '../helpers/processes.js';
import { chromiumMissing, launchChromium, signInInBrowser } from '../helpers/browser.js';
import { startIdp, type RunningIdp } from '../../src/idp/provider.js';
import { PATH } from '../../src/shared/constants.js';

const USERS = [
  { email: 'ada@example.com', password: 'ada-password', groups: ['eng'] },
  { email: 'eve@example.com', password: 'eve-password', groups: ['sales'] },
];
const skip =
  chromiumMissing ??
  (hasCommand('/usr/bin/redis-server') ? undefined : 'redis-server is not installed (Debian package redis-server)');

let chain: Chain;
let idp: RunningIdp;
let redis: { port: number; process: Running };
let browser: Browser;
let home: string;
const started: Running[] = [];

before(async () => {
  if (skip) return;
  redis = await startRedis();
  const edgePort = await freePort();
  idp = await startIdp({
    users: USERS,
    clients: [
      {
        clientId: 'edge',
        clientSecret: 'test-idp-secret',
        redirectUris: [`https://127.0.0.1:${edgePort}${PATH.callback}`],
      },
    ],
  });
  chain = await startChain(
    [
      {
        hostname: 'redis.airlock.test',
        service: `tcp://127.0.0.1:${redis.port}`,
        policy: '      include: [{ group: eng }]',
      },
    ],
    {
      listenPort: edgePort,
      extraYaml: `idp: { issuer: "${idp.issuer}", clientId: edge, clientSecret: test-idp-secret }\n`,
    },
  );
  browser = await launchChromium();
  home = mkdtempSync(join(tmpdir(), 'airlock-home-'));
});

after(async () => {
  if (skip) return;
  await Promise.all(started.map((process) => process.stop()));
  await browser?.close();
  await chain?.close();
  await idp?.close();
  await redis?.process.stop();
});

function accessTcp(port: number): Running {
  // A private config dir, and no D-Bus unless the suite runs under scripts/with-keyring.sh.
  const process = airlock(
    [
      'access',
      'tcp',
      '--hostname',
      'redis.airlock.test',
      '--url',
      `127.0.0.1:${port}`,
      '--edge',
      chain.edgeUrl,
      '--ca',
      chain.pki.ca,
    ],
    { XDG_CONFIG_HOME: home },
  );
  started.push(process);
  return process;
}

const ping = (port: number) => runToEnd('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'PING']);

test('signs in through the browser, then redis-cli PING goes through the tunnel', { skip }, async () => {
  const port = await freePort();
  const client = accessTcp(port);
  const [, url] = await client.waitFor(/\n {2}(https:\/\/127\.0\.0\.1:\d+\/cdn-cgi\/access\/cli\?\S+)/);
  const page = await signInInBrowser(browser, url!, 'ada@example.com', 'ada-password');
  assert.match(page, /Signed in to redis\.airlock\.test — you may close this tab/);
  await client.waitFor(/Signed in to redis\.airlock\.test as ada@example\.com/);
  await client.waitFor(/Listening on 127\.0\.0\.1:\d+/);
  assert.equal((await ping(port)).stdout.trim(), 'PONG');
});

test('a second client within the token life does not sign in again', { skip }, async (t) => {
  const port = await freePort();
  const startedAt = performance.now();
  const client = accessTcp(port);
  await client.waitFor(/Listening on 127\.0\.0\.1:\d+/);
  const firstByteMs = performance.now() - startedAt;
  assert.doesNotMatch(client.output(), /cdn-cgi\/access\/cli/, 'no sign-in URL this time');
  const pingStarted = performance.now();
  assert.equal((await ping(port)).stdout.trim(), 'PONG');
  t.diagnostic(
    `launch to listening with a cached token: ${firstByteMs.toFixed(0)} ms; first PING ${(performance.now() - pingStarted).toFixed(0)} ms`,
  );
});

test('`access token` prints the stored token and `access logout` revokes it at the edge', { skip }, async () => {
  const target = ['--edge', chain.edgeUrl, '--ca', chain.pki.ca];
  const env = { XDG_CONFIG_HOME: home };
  const tokenRun = airlock(['access', 'token', '--app', 'redis.airlock.test', ...target], env);
  assert.equal(await tokenRun.exited(), 0, tokenRun.output());
  const token = tokenRun.output().trim().split('\n').pop()!;
  assert.match(token, /^ey[\w-]+\.[\w-]+\.[\w-]+$/);
  const logout = airlock(['access', 'logout', 'redis.airlock.test', ...target], env);
  assert.equal(await logout.exited(), 0, logout.output());
  assert.match(logout.output(), /session is revoked at the edge/);
  assert.equal(chain.edge.revoked.size, 1);
  // The revoked token no longer opens anything, even if someone kept a copy.
  const withOldToken = airlock(
    [
      'access',
      'tcp',
      '--hostname',
      'redis.airlock.test',
      '--url',
      `127.0.0.1:${await freePort()}`,
      ...target,
      '--token',
      token,
    ],
    env,
  );
  assert.equal(await withOldToken.exited(), 1);
  assert.match(withOldToken.output(), /refused the app token/);
});

test('a user the policy does not admit is told so, and the CLI stops waiting', { skip }, async () => {
  const eveHome = mkdtempSync(join(tmpdir(), 'airlock-home-'));
  const client = airlock(['access', 'login', 'redis.airlock.test', '--edge', chain.edgeUrl, '--ca', chain.pki.ca], {
    XDG_CONFIG_HOME: eveHome,
  });
  started.push(client);
  const [, url] = await client.waitFor(/\n {2}(https:\/\/127\.0\.0\.1:\d+\/cdn-cgi\/access\/cli\?\S+)/);
  const page = await signInInBrowser(browser, url!, 'eve@example.com', 'eve-password');
  assert.match(page, /Access denied/);
  assert.equal(await client.exited(), 1);
  assert.match(client.output(), /your account is not allowed to reach redis\.airlock\.test/);
});
