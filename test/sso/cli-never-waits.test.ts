// A program's connection never waits on a sign-in no one can see: after `access logout`, the
// running `access tcp` refuses the next connection at once (a reset) with the sign-in URL, keeps
// listening, and serves again once someone signs in at that URL. A busy port is found before
// anyone is sent through the browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startChain, freePort, type Chain } from '../helpers/chain.js';
import { startRedis } from '../helpers/origins.js';
import { airlock, runToEnd, hasCommand, type Running } from '../helpers/processes.js';
import { chromiumMissing, launchChromium, signInInBrowser } from '../helpers/browser.js';
import { startIdp, type RunningIdp } from '../../src/idp/provider.js';
import { PATH } from '../../src/shared/constants.js';

const skip =
  chromiumMissing ??
  (hasCommand('/usr/bin/redis-server') ? undefined : 'redis-server is not installed (Debian package redis-server)');
const SIGN_IN_URL = /(https:\/\/127\.0\.0\.1:\d+\/cdn-cgi\/access\/cli\?\S+)/;

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
    users: [{ email: 'ada@example.com', password: 'ada-password', groups: ['eng'] }],
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

function cli(args: string[], { remembered = false } = {}): Running {
  const target = remembered ? [] : ['--edge', chain.edgeUrl, '--ca', chain.pki.ca];
  const process = airlock([...args, ...target], { XDG_CONFIG_HOME: home });
  started.push(process);
  return process;
}

const ping = (port: number) =>
  runToEnd('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'PING'], { timeoutMs: 60_000 });

/** Connects and waits for the connection to end; how it ended (a reset is ECONNRESET). */
function connectionEnd(port: number): Promise<{ how: string; ms: number }> {
  const startedAt = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (how: string) => resolve({ how, ms: performance.now() - startedAt });
    socket.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    socket.on('close', () => done('closed'));
    socket.setTimeout(60_000, () => socket.destroy(new Error('still open after 60 s')));
  });
}

test('a busy local port is refused before any sign-in', { skip }, async () => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const { port } = holder.address() as net.AddressInfo;
  try {
    const client = cli(['access', 'tcp', '--hostname', 'redis.airlock.test', '--url', `127.0.0.1:${port}`]);
    assert.equal(await client.exited(30_000), 1, client.output());
    assert.match(client.output(), /\[PORT_IN_USE\] 127\.0\.0\.1:\d+ is already in use/);
    assert.doesNotMatch(client.output(), /cdn-cgi\/access\/cli/, 'nobody was sent through the browser');
  } finally {
    holder.close();
  }
});

test(
  'the edge is remembered after the first success; after logout a connection is reset at once with the sign-in URL, and the listener keeps serving',
  { skip },
  async (t) => {
    const firstPort = await freePort();
    const first = cli(['access', 'tcp', '--hostname', 'redis.airlock.test', '--url', `127.0.0.1:${firstPort}`]);
    // The port is bound before the sign-in starts: a connection meanwhile is refused, not left hanging.
    const [, firstUrl] = await first.waitFor(SIGN_IN_URL);
    assert.equal((await connectionEnd(firstPort)).how, 'ECONNRESET', 'listening (and refusing) while the sign-in runs');
    await signInInBrowser(browser, firstUrl!, 'ada@example.com', 'ada-password');
    await first.waitFor(/Listening on 127\.0\.0\.1:\d+/);
    await first.stop();

    // The profile: a 0600 file beside the tokens, naming the edge and CA, listed by `access profiles`.
    const profileFile = join(home, 'airlock', 'profiles.json');
    assert.equal(statSync(profileFile).mode & 0o777, 0o600);
    const listed = cli(['access', 'profiles'], { remembered: true });
    assert.equal(await listed.exited(), 0, listed.output());
    assert.ok(
      listed.output().includes(`redis.airlock.test  edge ${chain.edgeUrl}  ca ${chain.pki.ca}`),
      listed.output(),
    );

    // Second time: --hostname alone.
    const port = await freePort();
    const client = cli(['access', 'tcp', '--hostname', 'redis.airlock.test', '--url', `127.0.0.1:${port}`], {
      remembered: true,
    });
    await client.waitFor(/Listening on 127\.0\.0\.1:\d+/);
    assert.ok(client.output().includes(`via ${chain.edgeUrl}`), client.output());
    assert.equal((await ping(port)).stdout.trim(), 'PONG');

    const logout = cli(['access', 'logout', 'redis.airlock.test'], { remembered: true });
    assert.equal(await logout.exited(), 0, logout.output());
    assert.match(logout.output(), /session is revoked at the edge/);

    const refused = await connectionEnd(port);
    t.diagnostic(`connection after logout ended by ${refused.how} after ${refused.ms.toFixed(0)} ms`);
    assert.equal(refused.how, 'ECONNRESET', 'reset, not held open and not a clean close');
    const [line] = await client.waitFor(
      /connection \d+ failed: \[AUTH_REQUIRED\] [^\n]*refused rather than held[^\n]*\n/,
    );
    const url = line.match(SIGN_IN_URL)?.[1];
    assert.ok(url, `the refusal names the sign-in URL: ${line}`);

    // The listener is still there; once someone signs in at that URL, connections go through again.
    await signInInBrowser(browser, url, 'ada@example.com', 'ada-password');
    await client.waitFor(/Signed in to redis\.airlock\.test: connect again/);
    assert.equal((await ping(port)).stdout.trim(), 'PONG');

    // The newcomer's transcript, for the record: what the second `access tcp` printed.
    t.diagnostic(`second access tcp (no --edge/--ca):\n${client.output()}\nlogout:\n${logout.output()}`);

    const forgot = cli(['access', 'profiles', '--forget', 'redis.airlock.test'], { remembered: true });
    assert.equal(await forgot.exited(), 0, forgot.output());
    const empty = cli(['access', 'profiles'], { remembered: true });
    assert.equal(await empty.exited(), 0, empty.output());
    assert.match(empty.output(), /No profiles yet/);
  },
);

test('the edge says why it refused a token: revoked and malformed tokens get their own codes', { skip }, async () => {
  const tokenRun = cli(['access', 'token', '--app', 'redis.airlock.test']);
  assert.equal(await tokenRun.exited(), 0, tokenRun.output());
  const token = tokenRun.output().trim().split('\n').pop()!;
  // --hostname, as access tcp takes it (the other logout here passes HOST as the argument).
  const logout = cli(['access', 'logout', '--hostname', 'redis.airlock.test']);
  assert.equal(await logout.exited(), 0, logout.output());
  const revoked = airlock(
    [
      'access',
      'tcp',
      '--hostname',
      'redis.airlock.test',
      '--url',
      `127.0.0.1:${await freePort()}`,
      '--edge',
      chain.edgeUrl,
      '--ca',
      chain.pki.ca,
    ],
    { XDG_CONFIG_HOME: home, AIRLOCK_TOKEN: token },
  );
  started.push(revoked);
  assert.equal(await revoked.exited(), 1, revoked.output());
  assert.match(
    revoked.output(),
    /\[TOKEN_REVOKED\] the edge refused the app token for redis\.airlock\.test: its session was signed out/,
  );
  const malformed = airlock(
    [
      'access',
      'tcp',
      '--hostname',
      'redis.airlock.test',
      '--url',
      `127.0.0.1:${await freePort()}`,
      '--edge',
      chain.edgeUrl,
      '--ca',
      chain.pki.ca,
    ],
    { XDG_CONFIG_HOME: home, AIRLOCK_TOKEN: 'eyJhbGciOiJFUzI1NiJ9.e30.AAAA' },
  );
  started.push(malformed);
  assert.equal(await malformed.exited(), 1, malformed.output());
  assert.match(malformed.output(), /\[TOKEN_INVALID\] the edge refused the app token/);
});
