// Several edges on one PostgreSQL, behind HAProxy in TCP mode: a sign-in that starts at one edge
// and comes back to another, a one-time code raced at two edges, a sign-out seen by every edge,
// tokens from any edge verified by all, and a database outage that streams ride through.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { freePort, SERVICE_TOKEN, testPki, type TestPki } from '../helpers/chain.js';
import { chromiumMissing, launchChromium } from '../helpers/browser.js';
import { CookieJar, follow, signInAtIdp, step } from '../helpers/cookie-fetch.js';
import { haproxyMissing, startHaproxy, type RunningHaproxy } from '../helpers/haproxy.js';
import { postgresMissing, startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { startEchoServer } from '../helpers/chain.js';
import { waitUntil } from '../helpers/airlock-processes.js';
import { airlock } from '../helpers/processes.js';
import { s256 } from '../../src/edge/sign-in/login-codes.js';
import { loadEdgeConfig } from '../../src/edge/config/config.js';
import { MIGRATIONS } from '../../src/edge/state/postgres.js';
import { startEdge, type RunningEdge } from '../../src/edge/edge-server.js';
import { Connector } from '../../src/connector/connector.js';
import { startIdp, type RunningIdp } from '../../src/idp/provider.js';
import { edgeConnector, multiEdgeYaml, writeConfig } from '../helpers/multi-edge.js';
import { HEADER, PATH } from '../../src/shared/constants.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';
import { dialTunnel } from '../../src/core/tunnel-dial.js';
import { credentialHeaders } from '../../src/core/credentials.js';
import { webSocketStream } from '../../src/shared/websocket-stream.js';

const skip = postgresMissing ?? haproxyMissing ?? chromiumMissing;
if (skip) console.log(`# multi-edge suite skipped: ${skip}`);

const SIGN_IN = 'auth.airlock.test';
const APP = 'db.airlock.test';
const AUD = randomBytes(16).toString('hex');
const USER = { email: 'ada@example.com', password: 'ada-password', groups: ['eng'] };
const LOOPBACK = 'http://127.0.0.1:45679/callback';

let pki: TestPki;
let db: RunningPostgres;
let idp: RunningIdp;
let lb: RunningHaproxy;
let echo: { port: number; close(): Promise<void> };
let browser: Browser;
const edges: { edge: RunningEdge; port: number; logs: Array<Record<string, unknown>>; connector: Connector }[] = [];
let signInOrigin: string;

const edgeYaml = (port: number, publicPort: number, pgUrl: string) =>
  multiEdgeYaml({
    pki,
    port,
    publicPort,
    pgUrl,
    app: { hostname: APP, aud: AUD, service: `tcp://127.0.0.1:${echo.port}` },
    idp: { issuer: idp.issuer, clientId: 'edge', clientSecret: 'multi-edge-secret' },
  });
const configFile = (text: string) => writeConfig(pki, text);

const logger = (logs: Array<Record<string, unknown>>) => {
  const write = (fields: Record<string, unknown> | string) =>
    void logs.push(typeof fields === 'string' ? { message: fields } : fields);
  return { info: write, warn: write, error: write, debug: () => undefined, child: () => logger(logs) } as never;
};

before(async () => {
  if (skip) return;
  pki = await testPki();
  db = await startPostgres();
  echo = await startEchoServer();
  const ports = [await freePort(), await freePort(), await freePort()];
  lb = await startHaproxy(ports);
  signInOrigin = `https://${SIGN_IN}:${lb.port}`;
  idp = await startIdp({
    users: [USER],
    clients: [
      { clientId: 'edge', clientSecret: 'multi-edge-secret', redirectUris: [`${signInOrigin}${PATH.callback}`] },
    ],
  });
  // Three edges start at once: the migrations run once, under the advisory lock.
  await Promise.all(
    ports.map(async (port) => {
      const logs: Array<Record<string, unknown>> = [];
      const edge = await startEdge({
        config: loadEdgeConfig(configFile(edgeYaml(port, lb.port, db.url))),
        log: logger(logs),
      });
      // One connector per edge here; edge-to-edge relaying is not part of this suite.
      const connector = edgeConnector(pki, {
        ports: [port],
        hostname: APP,
        service: `tcp://127.0.0.1:${echo.port}`,
        connections: 1,
      });
      await connector.waitConnected(1);
      edges.push({ edge, port, logs, connector });
    }),
  );
  edges.sort((a, b) => ports.indexOf(a.port) - ports.indexOf(b.port));
  await lb.waitAllUp();
  browser = await launchChromium({ mapToLoopback: ['*.airlock.test'] });
});

after(async () => {
  if (skip) return;
  await browser?.close();
  for (const { edge, connector } of edges) {
    await connector.stop(200);
    await edge.close(200);
  }
  await lb?.stop();
  await idp?.close();
  await echo?.close();
  db?.destroy();
});

/** A cookie-keeping client that dials every name at 127.0.0.1 (the edge is chosen by the URL's port). */
const jarFor = (_port?: number) => new CookieJar(readFileSync(pki.ca), '127.0.0.1');

/** Runs the native-app flow at `startPort` until the loopback redirect; returns the code and verifier. */
async function cliCode(startPort: number, callbackPort: number): Promise<{ code: string; verifier: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const params = new URLSearchParams({
    aud: AUD,
    redirect_url: LOOPBACK,
    state: randomBytes(16).toString('base64url'),
    code_challenge: s256(verifier),
    code_challenge_method: 'S256',
  });
  const jar = jarFor();
  const loginPage = await follow(jar, `https://${SIGN_IN}:${startPort}${PATH.cli}?${params}`);
  const posted = await signInAtIdp(jar, loginPage, USER.email, USER.password);
  const { url: callback } = await follow(jar, posted.location!, (next) => next.pathname === PATH.callback);
  // The same browser comes back through another edge: its cookies go with it (by host, not port).
  callback.port = String(callbackPort);
  const landed = await step(jar, callback);
  const loopback = new URL(landed.location!);
  return { code: loopback.searchParams.get('code')!, verifier };
}

async function exchange(port: number, code: string, verifier: string) {
  const response = await step(jarFor(port), `https://${SIGN_IN}:${port}${PATH.token}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, code_verifier: verifier }),
  });
  return { status: response.status, body: JSON.parse(response.text) as Record<string, unknown> };
}

/** 426 means the edge accepted the token (a GET on a TCP app), 302 that it refused it. */
async function tokenStatus(port: number, token: string): Promise<number> {
  return (await step(jarFor(port), `https://${APP}:${port}/`, { headers: { [HEADER.accessToken]: token } })).status;
}

describe('several edges on one PostgreSQL', { skip }, () => {
  test('the schema is migrated once, whichever edges start together', async () => {
    const health = await Promise.all(
      edges.map(({ port }) => step(jarFor(port), `https://127.0.0.1:${port}${PATH.health}`)),
    );
    for (const answer of health)
      assert.deepEqual(JSON.parse(answer.text).store, {
        kind: 'postgres',
        reachable: true,
        schemaVersion: MIGRATIONS.length,
      });
  });

  test('a sign-in started at one edge completes at another; its code is honoured once when raced at two', async () => {
    const { code, verifier } = await cliCode(edges[0]!.port, edges[1]!.port);
    const [first, second] = await Promise.all([
      exchange(edges[1]!.port, code, verifier),
      exchange(edges[2]!.port, code, verifier),
    ]);
    assert.deepEqual([first.status, second.status].sort(), [200, 400]);
    const token = (first.status === 200 ? first : second).body.token as string;
    for (const { port } of edges)
      assert.equal(await tokenStatus(port, token), 426, `the token minted at one edge verifies at ${port}`);
  });

  test('every edge serves the union of the signing keys (no private key shared)', async () => {
    const sets = await Promise.all(
      edges.map(
        async ({ port }) =>
          (
            JSON.parse((await step(jarFor(port), `https://127.0.0.1:${port}${PATH.certs}`)).text) as {
              keys: Array<Record<string, unknown>>;
            }
          ).keys,
      ),
    );
    const kids = new Set(edges.map(({ edge }) => edge.keys.current().kid));
    assert.equal(kids.size, 3, 'each edge has its own key');
    for (const keys of sets) {
      assert.deepEqual(new Set(keys.map((key) => key.kid)), kids);
      assert.ok(keys.every((key) => !('d' in key)));
    }
  });

  test('a sign-out at one edge is refused at the other two within 1 s', async (t) => {
    const { code, verifier } = await cliCode(edges[0]!.port, edges[0]!.port);
    const token = (await exchange(edges[0]!.port, code, verifier)).body.token as string;
    for (const { port } of edges) assert.equal(await tokenStatus(port, token), 426);
    const started = Date.now();
    await step(jarFor(edges[0]!.port), `https://${SIGN_IN}:${edges[0]!.port}${PATH.logout}`, {
      method: 'POST',
      headers: { [HEADER.accessToken]: token },
    });
    const times = await Promise.all(
      edges
        .slice(1)
        .map(({ port }) =>
          waitUntil(
            'the revocation to reach this edge',
            async () => (await tokenStatus(port, token)) === 302,
            1_000,
          ).then(() => Date.now() - started),
        ),
    );
    t.diagnostic(`revoked at edge 1; refused at edges 2 and 3 after ${times.join(' and ')} ms`);
  });

  test('through HAProxy in Chromium: the IdP callback lands on a different edge than the start, and signs in', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    let drained = -1;
    try {
      const page = await context.newPage();
      const before = edges.map(({ logs }) => logs.length);
      await page.goto(`https://${APP}:${lb.port}/`);
      assert.equal(new URL(page.url()).origin, idp.issuer);
      const started = edges.findIndex(({ logs }, index) =>
        logs.slice(before[index]).some((line) => line.event === 'login-start'),
      );
      assert.ok(started >= 0, 'one edge started the sign-in');
      // That edge is drained while the user is at the IdP: the callback must land elsewhere.
      drained = started;
      await lb.setServer(started, 'maint');
      await page.fill('input[name=email]', USER.email);
      await page.fill('input[name=password]', USER.password);
      await Promise.all([page.waitForURL(`https://${APP}:${lb.port}/`), page.click('button[type=submit]')]);
      assert.match((await page.textContent('body')) ?? '', /carries TCP/, 'back on the app, signed in');
      const completed = edges.findIndex(({ logs }, index) =>
        logs.slice(before[index]).some((line) => line.event === 'login' && line.flow === 'browser'),
      );
      assert.ok(
        completed >= 0 && completed !== started,
        `started at edge ${started + 1}, completed at edge ${completed + 1}`,
      );
    } finally {
      if (drained >= 0) await lb.setServer(drained, 'ready');
      await context.close();
    }
  });
});

describe('PostgreSQL outage', { skip }, () => {
  test('streams keep flowing, sign-in answers 503, tokens still verify, and all recovers when it returns', async (t) => {
    const { code, verifier } = await cliCode(edges[0]!.port, edges[0]!.port);
    const token = (await exchange(edges[0]!.port, code, verifier)).body.token as string;
    const target = resolveEdgeTarget({ hostname: APP, edge: `https://127.0.0.1:${edges[1]!.port}`, caFile: pki.ca });
    const { ws, socket } = await dialTunnel({
      target,
      headers: credentialHeaders({ kind: 'service-token', ...SERVICE_TOKEN }),
    });
    const tunnel = webSocketStream(ws, socket);
    let echoed = 0;
    tunnel.on('data', (chunk: Buffer) => (echoed += chunk.length));
    db.stop();
    const stoppedAt = Date.now();
    try {
      for (let second = 0; second < 10; second++) {
        const before = echoed;
        tunnel.write(randomBytes(1024));
        await waitUntil('an echo during the outage', () => echoed >= before + 1024, 2_000);
        if (second === 2) {
          const health = JSON.parse(
            (await step(jarFor(edges[2]!.port), `https://127.0.0.1:${edges[2]!.port}${PATH.health}`)).text,
          );
          assert.equal(health.status, 'degraded');
          assert.equal(health.store.reachable, false);
          const signIn = await step(jarFor(edges[2]!.port), `https://${SIGN_IN}:${edges[2]!.port}${PATH.login}${APP}`);
          assert.equal(signIn.status, 503);
          assert.match(signIn.text, /cannot reach its shared state store/);
          assert.equal(await tokenStatus(edges[2]!.port, token), 426, 'a token it can verify locally still works');
        }
        await new Promise((resolve) => setTimeout(resolve, 1_000 - ((Date.now() - stoppedAt) % 1_000)));
      }
    } finally {
      db.start();
    }
    const restartedAt = Date.now();
    const recoveryMs = await waitUntil(
      'sign-in to work again',
      async () =>
        (await step(jarFor(edges[2]!.port), `https://${SIGN_IN}:${edges[2]!.port}${PATH.login}${APP}`)).status === 302,
      15_000,
      200,
    );
    t.diagnostic(
      `PostgreSQL down ${((restartedAt - stoppedAt) / 1000).toFixed(1)} s; ${echoed} B echoed meanwhile; sign-in back ${recoveryMs} ms after it returned`,
    );
    ws.close();
  });

  test('a malformed or unreachable database URL fails start-up with the path and the reason', async () => {
    const port = await freePort();
    const malformed = edgeYaml(port, port, 'mysql://nope').replace('mysql://nope', 'mysql://nope');
    await assert.rejects(
      async () => loadEdgeConfig(configFile(malformed)),
      /state\.postgres\.url: must be a postgres:\/\/ URL/,
    );
    const closed = await freePort();
    const unreachable = loadEdgeConfig(
      configFile(edgeYaml(port, port, `postgres://airlock@127.0.0.1:${closed}/postgres`)),
    );
    await assert.rejects(
      startEdge({ config: unreachable }),
      /state\.postgres\.url: cannot use the database at 127\.0\.0\.1:\d+\/postgres \(ECONNREFUSED/,
    );
    const check = airlock(['edge', '--check', '--config', configFile(edgeYaml(port, port, db.url))]);
    assert.equal(await check.exited(), 0, check.output());
    assert.match(check.output(), new RegExp(`PostgreSQL schema version ${MIGRATIONS.length} \\(current\\)`));
  });
});
