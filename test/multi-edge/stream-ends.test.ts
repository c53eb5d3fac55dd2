// Access that ends ends open streams at every edge (two edges on one PostgreSQL, HAProxy in front,
// the connector on edge A only, so a stream that lands on edge B is relayed): a sign-out made at
// edge A ends, within 1 s, a stream whose client WebSocket edge B holds; a lock made at edge A ends
// a service token's streams at both edges and refuses its next connection until it is unlocked; a
// session's expiry ends a stream edge B holds unless its user signed in again in time at edge A.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { WebSocket } from 'ws';
import { freePort, SERVICE_TOKEN, startEchoServer, testPki, type TestPki } from '../helpers/chain.js';
import { edgeJson } from '../helpers/host-edge.js';
import { issueConnectorCredential } from '../../src/edge/tunnels/connector-credential.js';
import { isAirlockError } from '../../src/shared/errors.js';
import { CookieJar, follow, signInAtIdp, step } from '../helpers/cookie-fetch.js';
import { s256 } from '../../src/edge/sign-in/login-codes.js';
import { haproxyMissing, startHaproxy, type RunningHaproxy } from '../helpers/haproxy.js';
import { postgresMissing, startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { edgeConnector, multiEdgeYaml, writeConfig } from '../helpers/multi-edge.js';
import { waitUntil } from '../helpers/airlock-processes.js';
import { loadEdgeConfig } from '../../src/edge/config/config.js';
import { startEdge, type RunningEdge } from '../../src/edge/edge-server.js';
import { issueAppToken } from '../../src/edge/tokens/app-token.js';
import type { Connector } from '../../src/connector/connector.js';
import { startIdp, type RunningIdp } from '../../src/idp/provider.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';
import { dialTunnel } from '../../src/core/tunnel-dial.js';
import { credentialHeaders, type Credential } from '../../src/core/credentials.js';
import { webSocketStream } from '../../src/shared/websocket-stream.js';
import { CLOSE, HEADER, PATH, STREAM_END_REASON } from '../../src/shared/constants.js';

const skip = postgresMissing ?? haproxyMissing;
if (skip) console.log(`# multi-edge stream-end suite skipped: ${skip}`);

const SIGN_IN = 'auth.airlock.test';
const APP = 'db.airlock.test';
const AUD = randomBytes(16).toString('hex');

let pki: TestPki;
let db: RunningPostgres;
let idp: RunningIdp;
let lb: RunningHaproxy;
let echo: Awaited<ReturnType<typeof startEchoServer>>;
let connector: Connector;
const edges: Array<{ edge: RunningEdge; port: number }> = [];
let issuer: string;

before(async () => {
  if (skip) return;
  pki = await testPki();
  db = await startPostgres();
  echo = await startEchoServer();
  const ports = [await freePort(), await freePort()];
  lb = await startHaproxy(ports);
  issuer = `https://${SIGN_IN}:${lb.port}`;
  idp = await startIdp({
    users: [{ email: 'ada@example.com', password: 'ada-password', groups: ['eng'] }],
    clients: [{ clientId: 'edge', clientSecret: 'stream-ends-secret', redirectUris: [`${issuer}${PATH.callback}`] }],
  });
  const app = { hostname: APP, aud: AUD, service: `tcp://127.0.0.1:${echo.port}` };
  for (const port of ports) {
    const yaml = multiEdgeYaml({
      pki,
      port,
      publicPort: lb.port,
      pgUrl: db.url,
      app,
      relayPort: await freePort(),
      // Gives the edges an `admins:` policy (group ops), for the admin API's locks.
      unpublished: { hostname: 'later.airlock.test', aud: randomBytes(16).toString('hex') },
      idp: { issuer: idp.issuer, clientId: 'edge', clientSecret: 'stream-ends-secret' },
    });
    edges.push({ edge: await startEdge({ config: loadEdgeConfig(writeConfig(pki, yaml)) }), port });
  }
  // The connector reaches edge A only: what lands on edge B is relayed to A.
  connector = edgeConnector(pki, { ports: [ports[0]!], hostname: APP, service: app.service, connections: 1 });
  await connector.waitConnected(1);
  await lb.waitAllUp();
  // Edge A's heartbeat has announced the tunnel, so edge B relays.
  const token = (await signIn()).token;
  await waitUntil(
    'edge B to relay',
    async () => {
      const stream = await openStream(ports[1]!, { kind: 'app-token', token }).catch(() => undefined);
      stream?.ws.close();
      return stream !== undefined;
    },
    10_000,
    200,
  );
});

after(async () => {
  if (skip) return;
  await connector?.stop(200);
  for (const { edge } of edges) await edge.close(200);
  await lb?.stop();
  await idp?.close();
  await echo?.close();
  db?.destroy();
});

/** An app token, minted with edge A's key as its sign-in would (every edge verifies it). */
function signIn({ user = 'ada', sessionMs = 3_600_000 } = {}) {
  return issueAppToken({
    keys: edges[0]!.edge.keys,
    issuer,
    aud: AUD,
    sub: user,
    email: `${user}@example.com`,
    groups: ['eng'],
    sessionMs,
  });
}

/** A tunnel through `port` (an edge's, or the balancer's) that echoes; `closed` says how it ended. */
async function openStream(port: number, credential: Credential) {
  const target = resolveEdgeTarget({ hostname: APP, edge: `https://127.0.0.1:${port}`, caFile: pki.ca });
  const { ws, socket } = await dialTunnel({ target, headers: credentialHeaders(credential) });
  const tunnel = webSocketStream(ws, socket);
  tunnel.on('error', () => undefined);
  let echoed = 0;
  tunnel.on('data', (chunk: Buffer) => (echoed += chunk.length));
  /** Writes `text` and waits (bounded) for it to come back. */
  const roundTrip = async (text: string) => {
    const before = echoed;
    tunnel.write(text);
    await waitUntil('the echo', async () => echoed >= before + text.length, 5_000);
  };
  await roundTrip('ping');
  const closed = once(ws as WebSocket, 'close').then(([code, reason]) => ({
    code: code as number,
    reason: String(reason),
    at: Date.now(),
  }));
  return { ws, closed, roundTrip };
}

/** The sign-out a client makes (`airlock access logout`), at one edge. */
async function signOutAt(port: number, token: string): Promise<void> {
  const answer = await step(
    new CookieJar(readFileSync(pki.ca), '127.0.0.1'),
    `https://${SIGN_IN}:${port}${PATH.logout}`,
    {
      method: 'POST',
      headers: { [HEADER.accessToken]: token },
    },
  );
  assert.deepEqual(JSON.parse(answer.text), { signed_out: true });
}

describe('open streams end at every edge', { skip }, () => {
  test('a sign-out at edge A ends, within 1 s, a stream edge B holds and relays (close 1008 "signed out")', async (t) => {
    const session = await signIn();
    const stream = await openStream(edges[1]!.port, { kind: 'app-token', token: session.token });
    const signedOutAt = Date.now();
    await signOutAt(edges[0]!.port, session.token);
    const closed = await stream.closed;
    assert.equal(closed.code, CLOSE.accessEnded);
    assert.equal(closed.reason, STREAM_END_REASON.signedOut);
    assert.ok(closed.at - signedOutAt < 1_000, `ended ${closed.at - signedOutAt} ms after the sign-out`);
    t.diagnostic(`the stream at edge B ended ${closed.at - signedOutAt} ms after the sign-out at edge A`);
  });

  test('through HAProxy: every stream of the session ends within 1 s of a sign-out at one edge', async (t) => {
    const session = await signIn();
    // Round robin per connection: four streams land on both edges.
    const streams = await Promise.all(
      [1, 2, 3, 4].map(() => openStream(lb.port, { kind: 'app-token', token: session.token })),
    );
    const signedOutAt = Date.now();
    await signOutAt(edges[0]!.port, session.token);
    const ended = await Promise.all(streams.map((stream) => stream.closed));
    for (const closed of ended) {
      assert.equal(closed.code, CLOSE.accessEnded);
      assert.equal(closed.reason, STREAM_END_REASON.signedOut);
      assert.ok(closed.at - signedOutAt < 1_000, `ended ${closed.at - signedOutAt} ms after the sign-out`);
    }
    t.diagnostic(`ended ${ended.map((closed) => closed.at - signedOutAt).join(', ')} ms after the sign-out`);
  });
});

describe('a lock made at one edge', { skip }, () => {
  const service: Credential = { kind: 'service-token', ...SERVICE_TOKEN };
  const admin = async (port: number, method: string, path: string, body?: unknown) => {
    const credential = await issueConnectorCredential(
      { edgeOrigin: issuer, keys: edges[0]!.edge.keys },
      { sub: 'ops@example.com', email: 'ops@example.com', groups: ['ops'] },
    );
    return edgeJson(
      { edgeUrl: `https://127.0.0.1:${port}`, ca: readFileSync(pki.ca) },
      method,
      `/cdn-cgi/admin/${path}`,
      {
        token: credential.token,
        ...(body ? { body } : {}),
      },
    );
  };

  test("ends a service token's streams at both edges within 1 s and refuses its next connection until unlocked", async (t) => {
    const atA = await openStream(edges[0]!.port, service);
    const atB = await openStream(edges[1]!.port, service);
    const lockedAt = Date.now();
    const locked = await admin(edges[0]!.port, 'POST', 'locks', { identity: SERVICE_TOKEN.id, reason: 'leaked in CI' });
    assert.equal(locked.status, 201, JSON.stringify(locked.body));
    const ended = await Promise.all([atA.closed, atB.closed]);
    for (const closed of ended) {
      assert.equal(closed.code, CLOSE.accessEnded);
      assert.equal(closed.reason, STREAM_END_REASON.locked);
      assert.ok(closed.at - lockedAt < 1_000, `ended ${closed.at - lockedAt} ms after the lock`);
    }
    t.diagnostic(
      `ended at edges A and B ${ended.map((closed) => closed.at - lockedAt).join(' and ')} ms after the lock`,
    );
    for (const { port } of edges) {
      const refused = await openStream(port, service).then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(isAirlockError(refused) && refused.code === 'ACCESS_DENIED', `refused at ${port}: ${String(refused)}`);
      assert.match(refused.message, /locked by an administrator \(leaked in CI\)/);
    }
    const listed = await admin(edges[1]!.port, 'GET', 'locks');
    assert.deepEqual(
      (listed.body as { locks: Array<{ identity: string }> }).locks.map((lock) => lock.identity),
      [`service-token:${SERVICE_TOKEN.id}`],
    );
    const unlocked = await admin(edges[1]!.port, 'DELETE', `locks/${SERVICE_TOKEN.id}`);
    assert.equal(unlocked.status, 200, JSON.stringify(unlocked.body));
    await waitUntil(
      'the unlock to reach edge A',
      () =>
        openStream(edges[0]!.port, service).then(
          (stream) => (stream.ws.close(), true),
          () => false,
        ),
      2_000,
    );
  });
});

/**
 * `airlock access login` at one edge, as the native app runs it: the IdP's form, the loopback code,
 * and the token exchange at `port`, the edge that issues the new app token.
 */
async function signInAgainAt(port: number): Promise<{ token: string; expiresAt: number }> {
  const verifier = randomBytes(32).toString('base64url');
  const params = new URLSearchParams({
    aud: AUD,
    redirect_url: 'http://127.0.0.1:45679/callback',
    state: randomBytes(16).toString('base64url'),
    code_challenge: s256(verifier),
    code_challenge_method: 'S256',
  });
  const jar = new CookieJar(readFileSync(pki.ca), '127.0.0.1');
  const loginPage = await follow(jar, `https://${SIGN_IN}:${port}${PATH.cli}?${params}`);
  const posted = await signInAtIdp(jar, loginPage, 'ada@example.com', 'ada-password');
  const { url: callback } = await follow(jar, posted.location!, (next) => next.pathname === PATH.callback);
  const landed = await step(jar, callback);
  const code = new URL(landed.location!).searchParams.get('code')!;
  const answer = await step(jar, `https://${SIGN_IN}:${port}${PATH.token}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, code_verifier: verifier }),
  });
  const body = JSON.parse(answer.text) as { token: string; expires_at: number };
  return { token: body.token, expiresAt: body.expires_at * 1000 };
}

describe("a session's expiry", { skip }, () => {
  test("ends a stream edge B holds at expiry; a sign-in again at edge A before it keeps its user's open", async (t) => {
    // Sessions as short as the test can afford: long enough for both sign-ins to finish before expiry.
    const first = await signIn({ sessionMs: 8_000 });
    const other = await signIn({ user: 'bob', sessionMs: 8_000 });
    const kept = await openStream(edges[1]!.port, { kind: 'app-token', token: first.token });
    const ending = await openStream(edges[1]!.port, { kind: 'app-token', token: other.token });
    const again = await signInAgainAt(edges[0]!.port);
    assert.ok(Date.now() < first.expiresAt.getTime(), 'the sign-in again finished before the first session expired');
    assert.ok(again.expiresAt > first.expiresAt.getTime(), 'the new session lasts longer');
    t.diagnostic(`signed in again ${first.expiresAt.getTime() - Date.now()} ms before the first session expired`);

    const ended = await ending.closed;
    assert.equal(ended.code, CLOSE.accessEnded);
    assert.equal(ended.reason, STREAM_END_REASON.expired);
    assert.ok(ended.at >= other.expiresAt.getTime() - 50, 'not before the session expired');
    t.diagnostic(`bob's stream at edge B ended ${ended.at - other.expiresAt.getTime()} ms after his session expired`);
    // Past the sweep that ended bob's: ada's stream is still open at edge B and carries bytes.
    await waitUntil('a second past the expiry', async () => Date.now() > first.expiresAt.getTime() + 1_000, 5_000);
    assert.equal(kept.ws.readyState, kept.ws.OPEN, "ada's stream outlived her first session");
    await kept.roundTrip('carried over');
    kept.ws.close();
  });
});
