// The operator's three steps end to end: the real IdP, a real edge, Chromium through
// `airlock tunnel login`, `airlock tunnel --hostname … --url tcp://…` in front of a real
// redis-server, then redis-cli PING through `airlock access tcp` as a signed-in user.
import { CLOCK } from '../../src/shared/constants.js';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { freePort } from '../helpers/chain.js';
import { startRedis } from '../helpers/origins.js';
import { AIRLOCK_BIN, airlock, run, runToEnd, hasCommand, type Running } from '../helpers/processes.js';
import { chromiumMissing, launchChromium, signInInBrowser } from '../helpers/browser.js';
import { ADMIN, USER, edgeJson, startHostEdge, type HostEdge } from '../helpers/host-edge.js';
import { startIdp, type RunningIdp } from '../../src/idp/provider.js';
import { PATH } from '../../src/shared/constants.js';
import { edgeKey } from '../../src/cli/operator/operator-files.js';

/** Issued long enough ago that it expired beyond the clock tolerance the edge allows. */
const EXPIRED_LONG_AGO_MS = (CLOCK.toleranceSeconds + 5) * 1000;

const EVE = { email: 'eve@example.com', password: 'eve-password', groups: ['sales'] };
const skip =
  chromiumMissing ??
  (hasCommand('/usr/bin/redis-server') ? undefined : 'redis-server is not installed (Debian package redis-server)');

let edge: HostEdge;
let idp: RunningIdp;
let redis: { port: number; process: Running };
let browser: Browser;
let opsHome: string;
const started: Running[] = [];
const LOGIN_URL = /\n {2}(https:\/\/127\.0\.0\.1:\d+\/cdn-cgi\/access\/cli\?\S+)/;

before(async () => {
  if (skip) return;
  redis = await startRedis();
  const edgePort = await freePort();
  idp = await startIdp({
    users: [ADMIN, USER, EVE],
    clients: [
      {
        clientId: 'edge',
        clientSecret: 'test-idp-secret',
        redirectUris: [`https://127.0.0.1:${edgePort}${PATH.callback}`],
      },
    ],
  });
  edge = await startHostEdge({
    listenPort: edgePort,
    idp: `idp: { issuer: "${idp.issuer}", clientId: edge, clientSecret: test-idp-secret }`,
  });
  browser = await launchChromium();
  opsHome = mkdtempSync(join(tmpdir(), 'airlock-ops-'));
});

after(async () => {
  if (skip) return;
  await Promise.all(started.map((process) => process.stop()));
  await browser?.close();
  await edge?.close();
  await idp?.close();
  await redis?.process.stop();
});

function cli(args: string[], home = opsHome): Running {
  const process = airlock(args, { XDG_CONFIG_HOME: home });
  started.push(process);
  return process;
}

const credentialFile = () => join(opsHome, 'airlock', 'operator', `${edgeKey(edge.edgeUrl)}.json`);

test(
  'step 1: `airlock tunnel login` signs an admin in through the browser and stores a 0600 credential',
  { skip },
  async () => {
    const login = cli(['tunnel', 'login', '--edge', edge.edgeUrl, '--ca', edge.pki.ca]);
    const [, url] = await login.waitFor(LOGIN_URL);
    const page = await signInInBrowser(browser, url!, ADMIN.email, ADMIN.password);
    assert.match(page, /Signed in to 127\.0\.0\.1:\d+ \(tunnel administration\)/);
    assert.equal(await login.exited(), 0, login.output());
    assert.match(login.output(), /Logged in to https:\/\/127\.0\.0\.1:\d+ as ops@example\.com, operator until/);
    assert.equal(statSync(credentialFile()).mode & 0o777, 0o600);
    assert.equal(statSync(join(opsHome, 'airlock', 'operator')).mode & 0o777, 0o700);
    const stored = JSON.parse(readFileSync(credentialFile(), 'utf8')) as { token: string };
    const claims = JSON.parse(Buffer.from(stored.token.split('.')[1]!, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(claims.type, 'connector');
    assert.deepEqual(claims.aud, [new URL(edge.edgeUrl).origin]);
  },
);

test(
  'headless: the browser on another machine, the callback address pasted into `airlock tunnel login`',
  { skip },
  async () => {
    const home = mkdtempSync(join(tmpdir(), 'airlock-paste-'));
    const login = run(process.execPath, [AIRLOCK_BIN, 'tunnel', 'login', '--edge', edge.edgeUrl, '--ca', edge.pki.ca], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, AIRLOCK_NO_BROWSER: '1', XDG_CONFIG_HOME: home },
    });
    started.push(login);
    const [, url] = await login.waitFor(LOGIN_URL);
    await login.waitFor(/copy that address from its address bar and paste it here/);
    // A browser on another machine: it reaches the edge and the IdP, but not this machine's loopback
    // listener (every other loopback port goes through a proxy that is not there).
    const context = await browser.newContext({
      ignoreHTTPSErrors: true,
      proxy: {
        server: 'http://127.0.0.1:9',
        bypass: `<-loopback>,127.0.0.1:${new URL(edge.edgeUrl).port},127.0.0.1:${new URL(idp.issuer).port}`,
      },
    });
    let callback = '';
    const page = await context.newPage();
    page.on('requestfailed', (request) => {
      if (/^http:\/\/127\.0\.0\.1:\d+\/callback\?/.test(request.url())) callback = request.url();
    });
    await page.goto(url!);
    await page.fill('input[name=email]', ADMIN.email);
    await page.fill('input[name=password]', ADMIN.password);
    await page.click('button[type=submit]');
    const deadline = Date.now() + 15_000;
    while (!callback && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    await context.close();
    assert.match(callback, /^http:\/\/127\.0\.0\.1:\d+\/callback\?code=/);
    login.child.stdin!.write('not a url\n');
    await login.waitFor(/That is not the address of this sign-in/);
    login.child.stdin!.write(`${callback}\n`);
    assert.equal(await login.exited(), 0, login.output());
    assert.match(login.output(), /Logged in to https:\/\/127\.0\.0\.1:\d+ as ops@example\.com/);
    assert.ok(existsSync(join(home, 'airlock', 'operator', `${edgeKey(edge.edgeUrl)}.json`)));
  },
);

test(
  'a non-admin who signs in at `airlock tunnel login` sees a refusal page and gets no credential',
  { skip },
  async () => {
    const home = mkdtempSync(join(tmpdir(), 'airlock-user-'));
    const login = cli(['tunnel', 'login', '--edge', edge.edgeUrl, '--ca', edge.pki.ca], home);
    const [, url] = await login.waitFor(LOGIN_URL);
    const page = await signInInBrowser(browser, url!, USER.email, USER.password);
    assert.match(page, /Access denied/);
    assert.match(page, /not allowed to reach 127\.0\.0\.1:\d+ \(tunnel administration\)/);
    assert.equal(await login.exited(), 1);
    assert.match(login.output(), /your account is not allowed to reach/);
    assert.ok(!existsSync(join(home, 'airlock', 'operator')), 'no credential was stored');
  },
);

test(
  'step 2: `airlock tunnel --hostname` publishes redis; step 3: redis-cli PING through `airlock access tcp` as a signed-in user',
  { skip },
  async () => {
    const publish = cli(['tunnel', '--hostname', 'redis.airlock.test', '--url', `tcp://127.0.0.1:${redis.port}`]);
    await publish.waitFor(/Published redis\.airlock\.test: the connector is connected/);
    assert.match(
      publish.output(),
      /Created tunnel redis\.airlock\.test; redis\.airlock\.test → tcp:\/\/127\.0\.0\.1:\d+/,
    );
    const tunnelFile = join(opsHome, 'airlock', 'tunnels', edgeKey(edge.edgeUrl), 'redis.airlock.test.json');
    assert.equal(statSync(tunnelFile).mode & 0o777, 0o600);

    const userHome = mkdtempSync(join(tmpdir(), 'airlock-user-'));
    const port = await freePort();
    const client = cli(
      [
        'access',
        'tcp',
        '--hostname',
        'redis.airlock.test',
        '--url',
        `127.0.0.1:${port}`,
        '--edge',
        edge.edgeUrl,
        '--ca',
        edge.pki.ca,
      ],
      userHome,
    );
    const [, url] = await client.waitFor(LOGIN_URL);
    assert.match(await signInInBrowser(browser, url!, USER.email, USER.password), /Signed in to redis\.airlock\.test/);
    await client.waitFor(/Listening on 127\.0\.0\.1:\d+/);
    const ping = await runToEnd('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'PING']);
    assert.equal(ping.stdout.trim(), 'PONG');
    await client.stop();
  },
);

test('`airlock tunnel list` and `airlock route list` show what was published', { skip }, async () => {
  const tunnels = cli(['tunnel', 'list']);
  assert.equal(await tunnels.exited(), 0, tunnels.output());
  assert.match(
    tunnels.output(),
    /NAME +OWNER +CONNECTIONS +ROUTES +CREATED\nredis\.airlock\.test +ops@example\.com +[1-4] +redis\.airlock\.test /,
  );
  const routes = cli(['route', 'list']);
  assert.equal(await routes.exited(), 0, routes.output());
  assert.match(
    routes.output(),
    /redis\.airlock\.test +redis\.airlock\.test +tcp:\/\/127\.0\.0\.1:\d+ +ops@example\.com +operator/,
  );
  assert.match(routes.output(), /fixed\.airlock\.test +file-tunnel +tcp:\/\/127\.0\.0\.1:5432 +- +edge\.yaml/);
});

for (const [name, hostname, url, message] of [
  [
    "a hostname outside the edge's domains",
    'redis.example.org',
    'tcp://127.0.0.1:6379',
    /redis\.example\.org is not under a domain this edge serves: it serves airlock\.test/,
  ],
  [
    'a hostname without an access policy',
    'cache.airlock.test',
    'tcp://127.0.0.1:6379',
    /cache\.airlock\.test has no access policy[^]*  - hostname: cache\.airlock\.test\n    aud: [0-9a-f]{64}\n    policy:\n      include: \[\{ email: ops@example\.com \}\]/,
  ],
  [
    'a hostname already routed to another tunnel',
    'redis.airlock.test',
    'tcp://127.0.0.1:6380',
    /redis\.airlock\.test is already routed to tunnel redis\.airlock\.test .*never taken over/,
  ],
  [
    'a service URL that is not tcp://host:port',
    'pg.airlock.test',
    'http://127.0.0.1:5432',
    /service must be tcp:\/\/HOST:PORT/,
  ],
  ['port 0', 'pg.airlock.test', 'tcp://127.0.0.1:0', /service port must be from 1 to 65535, got 0/],
  ['a port above 65535', 'pg.airlock.test', 'tcp://127.0.0.1:70000', /service port must be from 1 to 65535, got 70000/],
] as const) {
  test(`\`airlock tunnel\` refuses ${name}, exits non-zero and leaves no tunnel behind`, { skip }, async () => {
    const publish = cli([
      'tunnel',
      '--hostname',
      hostname,
      '--url',
      url,
      '--name',
      `refused-${Math.random().toString(36).slice(2, 8)}`,
    ]);
    const code = await publish.exited();
    assert.notEqual(code, 0);
    assert.match(publish.output(), message);
    const { body } = await edgeJson(edge, 'GET', '/cdn-cgi/admin/tunnels', {
      token: JSON.parse(readFileSync(credentialFile(), 'utf8')).token,
    });
    assert.ok(!(body.tunnels as Array<{ name: string }>).some((tunnel) => tunnel.name.startsWith('refused-')));
  });
}

test('an expired operator credential: commands say how to log in again and exit non-zero', { skip }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'airlock-expired-'));
  const expired = await edge.credential(ADMIN, 1000, EXPIRED_LONG_AGO_MS);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(home, 'airlock', 'operator'), { recursive: true });
  // As the edge sees it (the local copy thinks it is still valid): the edge's refusal is what is shown.
  writeFileSync(
    join(home, 'airlock', 'operator', `${edgeKey(edge.edgeUrl)}.json`),
    JSON.stringify({
      edge: new URL(edge.edgeUrl).origin,
      token: expired,
      email: ADMIN.email,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      caFile: edge.pki.ca,
    }),
    { mode: 0o600 },
  );
  await new Promise((resolve) => setTimeout(resolve, 2100));
  const list = cli(['tunnel', 'list'], home);
  assert.equal(await list.exited(), 1);
  assert.match(list.output(), /token has expired.*run `airlock tunnel login --edge https:\/\/127\.0\.0\.1:\d+` again/);
  // Known to be expired locally: said without asking the edge.
  writeFileSync(
    join(home, 'airlock', 'operator', `${edgeKey(edge.edgeUrl)}.json`),
    JSON.stringify({
      edge: new URL(edge.edgeUrl).origin,
      token: expired,
      email: ADMIN.email,
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    }),
    { mode: 0o600 },
  );
  const publish = cli(['tunnel', '--hostname', 'pg.airlock.test', '--url', 'tcp://127.0.0.1:5432'], home);
  assert.equal(await publish.exited(), 1);
  assert.match(
    publish.output(),
    /operator credential for https:\/\/127\.0\.0\.1:\d+ expired at .*; run `airlock tunnel login --edge https:\/\/127\.0\.0\.1:\d+` again/,
  );
});

test('a revoked operator credential: commands say how to log in again and exit non-zero', { skip }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'airlock-revoked-'));
  const { issueConnectorCredential } = await import('../../src/edge/tunnels/connector-credential.js');
  const issued = await issueConnectorCredential(
    { edgeOrigin: new URL(edge.edgeUrl).origin, keys: edge.edge.keys },
    { sub: ADMIN.email, ...ADMIN },
  );
  await edge.edge.revoked.revoke(issued.sessionId, issued.expiresAt);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(home, 'airlock', 'operator'), { recursive: true });
  writeFileSync(
    join(home, 'airlock', 'operator', `${edgeKey(edge.edgeUrl)}.json`),
    JSON.stringify({
      edge: new URL(edge.edgeUrl).origin,
      token: issued.token,
      email: ADMIN.email,
      expiresAt: issued.expiresAt.toISOString(),
      caFile: edge.pki.ca,
    }),
    { mode: 0o600 },
  );
  const list = cli(['route', 'list'], home);
  assert.equal(await list.exited(), 1);
  assert.match(
    list.output(),
    /session was signed out.*run `airlock tunnel login --edge https:\/\/127\.0\.0\.1:\d+` again/,
  );
});

test(
  'running `airlock tunnel --hostname` again on the same machine reuses the tunnel and its stored token',
  { skip },
  async () => {
    const again = cli([
      'tunnel',
      '--hostname',
      'redis.airlock.test',
      '--url',
      `tcp://127.0.0.1:${redis.port}`,
      '--connections',
      '1',
    ]);
    await again.waitFor(/Published redis\.airlock\.test: the connector is connected/);
    assert.match(again.output(), /Reusing tunnel redis\.airlock\.test/);
    assert.doesNotMatch(again.output(), /asking the edge for a new one/);
    await again.stop();
  },
);

test(
  '`airlock tunnel delete` removes the tunnel and its route; its connector stops, exit non-zero',
  { skip },
  async () => {
    const publish = started.find((process) => process.output().includes('Published redis.airlock.test'))!;
    const remove = cli(['tunnel', 'delete', 'redis.airlock.test']);
    assert.equal(await remove.exited(), 0, remove.output());
    assert.match(remove.output(), /Deleted tunnel redis\.airlock\.test and its routes: redis\.airlock\.test/);
    assert.equal(await publish.exited(20_000), 1);
    assert.match(publish.output(), /refused the tunnel token/);
    const answer = await edgeJson(edge, 'GET', '/', { host: 'redis.airlock.test' });
    assert.equal(answer.status, 503, 'unpublished again');
    assert.deepEqual(readdirSync(join(opsHome, 'airlock', 'tunnels', edgeKey(edge.edgeUrl))), []);
  },
);
