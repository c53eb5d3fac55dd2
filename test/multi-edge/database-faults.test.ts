// Two edges on one PostgreSQL, reached through a loopback proxy that can black-hole it: a sign-out
// during an outage is refused with nothing recorded and honoured everywhere once it is made again;
// a relay keeps working while the database is down; a database that stops answering without
// closing its connections is noticed, and sign-in and revocations recover soon after it returns.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { freePort, SERVICE_TOKEN, testPki, TUNNEL, type TestPki } from '../helpers/chain.js';
import { CookieJar, follow, signInAtIdp, step } from '../helpers/cookie-fetch.js';
import { postgresMissing, startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { startStallProxy, type StallProxy } from '../helpers/stall-proxy.js';
import { edgeConnector, multiEdgeYaml, writeConfig } from '../helpers/multi-edge.js';
import { waitUntil } from '../helpers/airlock-processes.js';
import { download, startOrigin, type Origin } from '../helpers/transfer.js';
import { s256 } from '../../src/edge/sign-in/login-codes.js';
import { loadEdgeConfig } from '../../src/edge/config/config.js';
import { startEdge, type RunningEdge } from '../../src/edge/edge-server.js';
import { Connector } from '../../src/connector/connector.js';
import { startIdp, type RunningIdp } from '../../src/idp/provider.js';
import { LocalListener } from '../../src/core/local-listener.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';
import { revokeAtEdge } from '../../src/core/edge-logout.js';
import { HEADER, PATH } from '../../src/shared/constants.js';

const skip = postgresMissing;
if (skip) console.log(`# database-faults suite skipped: ${skip}`);

const SIGN_IN = 'auth.airlock.test';
const APP = 'faults.airlock.test';
const AUD = randomBytes(16).toString('hex');
const USER = { email: 'grace@example.com', password: 'grace-password', groups: ['eng'] };
const LOOPBACK = 'http://127.0.0.1:45681/callback';

let pki: TestPki;
let db: RunningPostgres;
let proxy: StallProxy;
let idp: RunningIdp;
let origin: Origin;
/** Edge A holds no connector; edge B holds the tunnel's only one. */
let edgeA: RunningEdge;
let edgeB: RunningEdge;
let connector: Connector;
let listener: LocalListener;
let localPort: number;

before(async () => {
  if (skip) return;
  pki = await testPki();
  db = await startPostgres();
  proxy = await startStallProxy({ host: '127.0.0.1', port: db.port });
  origin = await startOrigin();
  const [portA, portB] = [await freePort(), await freePort()];
  // Both edges share one sign-in origin (a balancer's, here edge A's port) as they would behind HAProxy.
  idp = await startIdp({
    users: [USER],
    clients: [
      {
        clientId: 'edge',
        clientSecret: 'faults-secret',
        redirectUris: [`https://${SIGN_IN}:${portA}${PATH.callback}`],
      },
    ],
  });
  const app = { hostname: APP, aud: AUD, service: `tcp://127.0.0.1:${origin.port}` };
  const start = async (port: number) =>
    startEdge({
      config: loadEdgeConfig(
        writeConfig(
          pki,
          multiEdgeYaml({
            pki,
            port,
            publicPort: portA,
            pgUrl: `postgres://airlock@127.0.0.1:${proxy.port}/postgres`,
            app,
            relayPort: await freePort(),
            idp: { issuer: idp.issuer, clientId: 'edge', clientSecret: 'faults-secret' },
          }),
        ),
      ),
    });
  edgeA = await start(portA);
  edgeB = await start(portB);
  connector = edgeConnector(pki, { ports: [portB], hostname: APP, service: app.service, connections: 2 });
  await connector.waitConnected(2);
  localPort = await freePort();
  listener = new LocalListener({
    target: resolveEdgeTarget({ hostname: APP, edge: `https://127.0.0.1:${portA}`, caFile: pki.ca }),
    local: { host: '127.0.0.1', port: localPort },
    credential: async () => ({ kind: 'service-token', ...SERVICE_TOKEN }),
  });
  await listener.start();
  await waitUntil('edge B to announce its tunnel', async () => (await download(localPort, 1)).complete, 10_000, 200);
});

after(async () => {
  if (skip) return;
  await listener?.stop();
  await connector?.stop(200);
  await edgeA?.close(200);
  await edgeB?.close(200);
  await proxy?.close();
  await idp?.close();
  await origin?.close();
  db?.destroy();
});

const jar = () => new CookieJar(readFileSync(pki.ca), '127.0.0.1');

/** The native-app flow at edge A: a fresh app token for USER. */
async function signIn(): Promise<string> {
  const verifier = randomBytes(32).toString('base64url');
  const params = new URLSearchParams({
    aud: AUD,
    redirect_url: LOOPBACK,
    state: randomBytes(16).toString('base64url'),
    code_challenge: s256(verifier),
    code_challenge_method: 'S256',
  });
  const browser = jar();
  const loginPage = await follow(browser, `https://${SIGN_IN}:${edgeA.port}${PATH.cli}?${params}`);
  const posted = await signInAtIdp(browser, loginPage, USER.email, USER.password);
  const { url: callback } = await follow(browser, posted.location!, (next) => next.pathname === PATH.callback);
  const code = new URL((await step(browser, callback)).location!).searchParams.get('code')!;
  const exchanged = await step(browser, `https://${SIGN_IN}:${edgeA.port}${PATH.token}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, code_verifier: verifier }),
  });
  assert.equal(exchanged.status, 200, exchanged.text);
  return (JSON.parse(exchanged.text) as { token: string }).token;
}

/** 426: the edge accepted the token (a GET on a TCP app); 302: it refused it. */
async function tokenStatus(edge: RunningEdge, token: string): Promise<number> {
  return (await step(jar(), `https://${APP}:${edge.port}/`, { headers: { [HEADER.accessToken]: token } })).status;
}

async function signOut(edge: RunningEdge, token: string) {
  const answer = await step(jar(), `https://${SIGN_IN}:${edge.port}${PATH.logout}`, {
    method: 'POST',
    headers: { [HEADER.accessToken]: token, accept: 'application/json' },
  });
  return { status: answer.status, body: JSON.parse(answer.text) as Record<string, unknown> };
}

/** A sign-in can start: the edge stored its login state (302 to the IdP), or why not. */
async function signInStarts(edge: RunningEdge): Promise<number> {
  return (await step(jar(), `https://${SIGN_IN}:${edge.port}${PATH.login}${APP}`)).status;
}

async function health(edge: RunningEdge): Promise<{ status: string; store: { reachable: boolean } }> {
  return JSON.parse((await step(jar(), `https://127.0.0.1:${edge.port}${PATH.health}`)).text);
}

describe('PostgreSQL faults at several edges', { skip }, () => {
  test('a sign-out during an outage is refused with nothing recorded, and honoured at every edge once made again', async (t) => {
    const token = await signIn();
    assert.equal(await tokenStatus(edgeB, token), 426);
    db.stop();
    try {
      const refused = await signOut(edgeA, token);
      assert.equal(refused.status, 503);
      assert.equal(refused.body.error, 'sign_out_not_recorded');
      assert.match(String(refused.body.message), /not recorded/);
      // The client says so and keeps its token, rather than reporting a sign-out that did not happen.
      await assert.rejects(
        revokeAtEdge({
          edgeOrigin: `https://${SIGN_IN}:${edgeA.port}`,
          token,
          dial: resolveEdgeTarget({ hostname: APP, edge: `https://127.0.0.1:${edgeA.port}`, caFile: pki.ca }),
        }),
        (error: Error & { code?: string }) =>
          error.code === 'STORE_UNAVAILABLE' && /did not record/.test(error.message),
      );
      // A browser's sign-out (cookie, same-origin POST) gets a page that says it did not happen.
      const page = await step(jar(), `https://${SIGN_IN}:${edgeA.port}${PATH.logout}`, {
        method: 'POST',
        headers: { cookie: `CF_Authorization=${token}`, 'sec-fetch-site': 'same-origin' },
      });
      assert.equal(page.status, 503);
      assert.match(page.text, /could not record your sign-out/);
      // Nothing was recorded anywhere: the edge that refused does not quietly enforce it alone.
      assert.equal(await tokenStatus(edgeA, token), 426);
      assert.equal(await tokenStatus(edgeB, token), 426);
    } finally {
      db.start();
    }
    await waitUntil('sign-in to work again at edge A', async () => (await signInStarts(edgeA)) === 302, 15_000, 200);
    const started = Date.now();
    const honoured = await signOut(edgeA, token);
    assert.deepEqual(honoured, { status: 200, body: { signed_out: true } }, 'made again, it is a real sign-out');
    const refusedAfter = await Promise.all(
      [edgeA, edgeB].map((edge) =>
        waitUntil(
          'the revocation to reach this edge',
          async () => (await tokenStatus(edge, token)) === 302,
          1_000,
        ).then(() => Date.now() - started),
      ),
    );
    t.diagnostic(
      `sign-out made again after the outage: refused at edges A and B after ${refusedAfter.join(' and ')} ms`,
    );
  });

  test('during an outage a stream on the edge without the connector is still relayed to the edge with it', async (t) => {
    db.stop();
    try {
      // Longer than a directory entry stays fresh: the relay must not depend on the database.
      await new Promise((resolve) => setTimeout(resolve, 7_000));
      assert.equal((await health(edgeA)).store.reachable, false);
      const result = await download(localPort, 1_000_000, { timeoutMs: 20_000 });
      assert.equal(result.complete, true, `relayed during the outage (ended: ${result.ended}, ${result.bytes} B)`);
      assert.equal(result.intact, true);
      assert.equal(edgeA.registry.count(TUNNEL.id), 0, 'edge A holds no connector: the stream was relayed');
      t.diagnostic(`1 MB relayed edge A → edge B with PostgreSQL stopped for 7 s`);
    } finally {
      db.start();
    }
    await waitUntil('sign-in to work again', async () => (await signInStarts(edgeA)) === 302, 15_000, 200);
  });

  test('a database that stops answering without closing connections: noticed, and sign-in and revocations recover soon after it returns', async (t) => {
    const token = await signIn();
    proxy.stall();
    const stalledAt = Date.now();
    let resumedAt = 0;
    try {
      const degradedMs = await waitUntil(
        'edge B to report the store unreachable',
        async () => (await health(edgeB)).store.reachable === false,
        15_000,
        250,
      );
      // Sign-in answers (503), rather than hanging on a connection that will never reply.
      const asked = Date.now();
      assert.equal(await signInStarts(edgeA), 503);
      const answeredMs = Date.now() - asked;
      assert.ok(answeredMs < 15_000, `sign-in answered in ${answeredMs} ms`);
      // Past a directory entry's freshness (6 s) with the database silent, not refusing: a stream at
      // the edge without the connector is still relayed (the attack run saw "no connector" here).
      await new Promise((resolve) => setTimeout(resolve, Math.max(3_000, 7_500 - (Date.now() - stalledAt))));
      const relayed = await download(localPort, 1_000_000, { timeoutMs: 20_000 });
      assert.equal(relayed.complete, true, `relayed during the stall (ended: ${relayed.ended}, ${relayed.bytes} B)`);
      assert.equal(edgeA.registry.count(TUNNEL.id), 0, 'edge A holds no connector: the stream was relayed');
      t.diagnostic(
        `stalled: degraded in /healthz after ${degradedMs} ms; sign-in answered 503 in ${answeredMs} ms; ` +
          `1 MB relayed ${((Date.now() - stalledAt) / 1000).toFixed(1)} s into the stall`,
      );
    } finally {
      proxy.resume();
      resumedAt = Date.now();
    }
    const signInBack = await waitUntil(
      'sign-in to work again at both edges',
      async () => (await signInStarts(edgeA)) === 302 && (await signInStarts(edgeB)) === 302,
      15_000,
      200,
    );
    const healthyBack = await waitUntil(
      'both edges to see the store (and its notifications) again',
      async () => (await health(edgeA)).status === 'ok' && (await health(edgeB)).status === 'ok',
      15_000,
      200,
    );
    assert.ok(Date.now() - resumedAt <= 15_000 + 1_000, 'recovered within 15 s of the database working');
    const revokedAt = Date.now();
    assert.deepEqual(await signOut(edgeA, token), { status: 200, body: { signed_out: true } });
    const refusedMs = await waitUntil(
      'edge B to refuse the revoked token',
      async () => (await tokenStatus(edgeB, token)) === 302,
      1_000,
    );
    t.diagnostic(
      `black hole for ${((resumedAt - stalledAt) / 1000).toFixed(1)} s (${proxy.stalledCount()} connections left dead); ` +
        `sign-in back at both edges ${signInBack} ms after it ended, healthy after ${signInBack + healthyBack} ms; ` +
        `a revocation at edge A refused at edge B ${refusedMs} ms (${Date.now() - revokedAt} ms) later`,
    );
  });
});
