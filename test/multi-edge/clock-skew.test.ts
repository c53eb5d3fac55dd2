// Two edge processes on one PostgreSQL, edge B's clock 20 s ahead (AIRLOCK_TEST_CLOCK_OFFSET_MS,
// the whole process shifted): a sign-in at B gives a token edge A accepts, a stream that lands on
// A is relayed to B, B's connector accepts B's stream assertions, and B's /healthz reports the
// skew. Before the clock leeway, B's fresh tokens were refused at A and every relay failed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { freePort, SERVICE_TOKEN, testPki, type TestPki } from '../helpers/chain.js';
import { CookieJar, follow, signInAtIdp, step } from '../helpers/cookie-fetch.js';
import { postgresMissing, startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { edgeConnector, multiEdgeYaml, writeConfig } from '../helpers/multi-edge.js';
import { airlock, type Running } from '../helpers/processes.js';
import { waitUntil } from '../helpers/airlock-processes.js';
import { download, startOrigin, type Origin } from '../helpers/transfer.js';
import { s256 } from '../../src/edge/sign-in/login-codes.js';
import { startIdp, type RunningIdp } from '../../src/idp/provider.js';
import type { Connector } from '../../src/connector/connector.js';
import { LocalListener } from '../../src/core/local-listener.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';
import { HEADER, PATH } from '../../src/shared/constants.js';

const skip = postgresMissing;
if (skip) console.log(`# clock-skew suite skipped: ${skip}`);

const SIGN_IN = 'auth.airlock.test';
const APP = 'skew.airlock.test';
const AUD = randomBytes(16).toString('hex');
const USER = { email: 'ada@example.com', password: 'ada-password', groups: ['eng'] };
const LOOPBACK = 'http://127.0.0.1:45679/callback';
const OFFSET_MS = 20_000;

let pki: TestPki;
let db: RunningPostgres;
let idp: RunningIdp;
let origin: Origin;
let portA: number;
let portB: number;
const edges: Running[] = [];
let connector: Connector;

const jar = () => new CookieJar(readFileSync(pki.ca), '127.0.0.1');

before(
  async () => {
    if (skip) return;
    pki = await testPki();
    db = await startPostgres();
    origin = await startOrigin();
    [portA, portB] = [await freePort(), await freePort()];
    // Sign-ins go to edge B (the sign-in domain's port is B's).
    idp = await startIdp({
      users: [USER],
      clients: [
        {
          clientId: 'edge',
          clientSecret: 'skew-secret',
          redirectUris: [`https://${SIGN_IN}:${portB}${PATH.callback}`],
        },
      ],
    });
    const app = { hostname: APP, aud: AUD, service: `tcp://127.0.0.1:${origin.port}` };
    for (const [port, offset] of [
      [portA, 0],
      [portB, OFFSET_MS],
    ] as const) {
      const yaml = multiEdgeYaml({
        pki,
        port,
        publicPort: portB,
        pgUrl: db.url,
        app,
        relayPort: await freePort(),
        idp: { issuer: idp.issuer, clientId: 'edge', clientSecret: 'skew-secret' },
      });
      edges.push(
        airlock(
          ['edge', '--config', writeConfig(pki, yaml)],
          offset ? { AIRLOCK_TEST_CLOCK_OFFSET_MS: `${offset}` } : {},
        ),
      );
    }
    await Promise.all(edges.map((edge) => edge.waitFor(/edge listening/, 60_000)));
    // The connector (real clock) holds edge B only: B signs every stream assertion it checks.
    connector = edgeConnector(pki, { ports: [portB], hostname: APP, service: app.service, connections: 2 });
    await connector.waitConnected(2);
  },
  { timeout: 120_000 },
);

after(async () => {
  if (skip) return;
  await connector?.stop(200);
  await Promise.all(edges.map((edge) => edge.stop()));
  await idp?.close();
  await origin?.close();
  db?.destroy();
});

async function health(port: number): Promise<{ status: string; clock?: { skewMs: number; warning: boolean } }> {
  return JSON.parse((await step(jar(), `https://127.0.0.1:${port}${PATH.health}`)).text) as never;
}

/** A client of the app through `port`, with the service token. */
async function listenerTo(port: number): Promise<{ port: number; stop(): Promise<void> }> {
  const local = await freePort();
  const listener = new LocalListener({
    target: resolveEdgeTarget({ hostname: APP, edge: `https://127.0.0.1:${port}`, caFile: pki.ca }),
    local: { host: '127.0.0.1', port: local },
    credential: async () => ({ kind: 'service-token', ...SERVICE_TOKEN }),
  });
  await listener.start();
  return { port: local, stop: () => listener.stop() };
}

describe('one edge 20 s ahead', { skip }, () => {
  test("/healthz reports each edge's clock against PostgreSQL's: B's skew, and degraded", async (t) => {
    await waitUntil('both edges to measure', async () => (await health(portB)).clock !== undefined, 10_000, 100);
    const [a, b] = [await health(portA), await health(portB)];
    t.diagnostic(`edge A skew ${a.clock?.skewMs} ms, edge B skew ${b.clock?.skewMs} ms`);
    assert.ok(Math.abs(a.clock!.skewMs) < 2_000, `A is in step (${a.clock!.skewMs} ms)`);
    assert.equal(a.clock!.warning, false);
    assert.ok(Math.abs(b.clock!.skewMs - OFFSET_MS) < 2_000, `B is 20 s ahead (${b.clock!.skewMs} ms)`);
    assert.equal(b.clock!.warning, true);
    assert.equal(b.status, 'degraded');
    const metrics = (await step(jar(), `https://127.0.0.1:${portB}${PATH.metrics}`)).text;
    const seconds = Number(/^airlock_edge_clock_skew_seconds (\S+)$/m.exec(metrics)?.[1]);
    assert.ok(Math.abs(seconds - OFFSET_MS / 1000) < 2, `the metric says ${seconds} s`);
  });

  test("streams at B itself: the connector accepts B's stream assertions (20 s in its future)", async () => {
    const client = await listenerTo(portB);
    try {
      for (let round = 0; round < 5; round++) {
        const result = await download(client.port, 256 * 1024, { timeoutMs: 20_000 });
        assert.equal(result.complete && result.intact, true, `download ${round + 1} of 5`);
      }
    } finally {
      await client.stop();
    }
  });

  test('a stream that lands on A is relayed to B (5 of 5)', async () => {
    const client = await listenerTo(portA);
    try {
      // B's heartbeat has announced the tunnel.
      await waitUntil(
        'the relay to work',
        async () => (await download(client.port, 1, { timeoutMs: 5_000 })).complete,
        15_000,
        200,
      );
      for (let round = 0; round < 5; round++) {
        const result = await download(client.port, 256 * 1024, { timeoutMs: 20_000 });
        assert.equal(result.complete && result.intact, true, `relayed download ${round + 1} of 5`);
      }
    } finally {
      await client.stop();
    }
  });

  test('a sign-in at B gives a token edge A accepts', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const params = new URLSearchParams({
      aud: AUD,
      redirect_url: LOOPBACK,
      state: randomBytes(16).toString('base64url'),
      code_challenge: s256(verifier),
      code_challenge_method: 'S256',
    });
    const browser = jar();
    const loginPage = await follow(browser, `https://${SIGN_IN}:${portB}${PATH.cli}?${params}`);
    const posted = await signInAtIdp(browser, loginPage, USER.email, USER.password);
    const { url: callback } = await follow(browser, posted.location!, (next) => next.pathname === PATH.callback);
    const landed = await step(browser, callback);
    const code = new URL(landed.location!).searchParams.get('code')!;
    const exchanged = await step(jar(), `https://${SIGN_IN}:${portB}${PATH.token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code, code_verifier: verifier }),
    });
    assert.equal(exchanged.status, 200, exchanged.text);
    const token = (JSON.parse(exchanged.text) as { token: string }).token;
    // 426: the edge accepted the token (a GET on a TCP app); 302 would be a refusal.
    const atA = await step(jar(), `https://${APP}:${portA}/`, { headers: { [HEADER.accessToken]: token } });
    assert.equal(atA.status, 426, 'the token minted 20 s ahead verifies at A');
    const atB = await step(jar(), `https://${APP}:${portB}/`, { headers: { [HEADER.accessToken]: token } });
    assert.equal(atB.status, 426);
  });
});
