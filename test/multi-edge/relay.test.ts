// A stream that lands on an edge without its tunnel's connector is relayed to the edge that has
// one (two edges, one PostgreSQL): the bytes arrive (sha256), the relay is counted in both edges'
// metrics, and a relay request that no edge of this deployment signed is refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { freePort, SERVICE_TOKEN, testPki, TUNNEL, type TestPki } from '../helpers/chain.js';
import { postgresMissing, startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { edgeConnector, multiEdgeYaml, writeConfig } from '../helpers/multi-edge.js';
import { waitUntil } from '../helpers/airlock-processes.js';
import { download, startOrigin, upload, type Origin } from '../helpers/transfer.js';
import { CookieJar, step } from '../helpers/cookie-fetch.js';
import { loadEdgeConfig } from '../../src/edge/config/config.js';
import { startEdge, type RunningEdge } from '../../src/edge/edge-server.js';
import { RELAY, signRelayAssertion } from '../../src/edge/relay/edge-relay.js';
import { SigningKeys } from '../../src/edge/tokens/signing-keys.js';
import { Connector } from '../../src/connector/connector.js';
import { LocalListener } from '../../src/core/local-listener.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';
import { HEADER } from '../../src/shared/constants.js';
import { issueConnectorCredential } from '../../src/edge/tunnels/connector-credential.js';
import { edgeJson } from '../helpers/host-edge.js';

const skip = postgresMissing;
if (skip) console.log(`# relay suite skipped: ${skip}`);

const APP = 'relay.airlock.test';
const AUD = randomBytes(16).toString('hex');
const SIZE = 20 * 1024 * 1024;
/** Published through the admin API at one edge, used through the other. */
const PUBLISHED = 'published.airlock.test';

let pki: TestPki;
let db: RunningPostgres;
let origin: Origin;
let edgeA: RunningEdge;
let edgeB: RunningEdge;
let relayPortB: number;
let connector: Connector;
let listener: LocalListener;
let localPort: number;
/** Both edges' publicUrl: the deployment's issuer. */
let issuer: string;

before(async () => {
  if (skip) return;
  pki = await testPki();
  db = await startPostgres();
  origin = await startOrigin();
  const [portA, portB, relayA] = [await freePort(), await freePort(), await freePort()];
  relayPortB = await freePort();
  const app = { hostname: APP, aud: AUD, service: `tcp://127.0.0.1:${origin.port}` };
  issuer = `https://auth.airlock.test:${portA}`;
  const unpublished = { hostname: PUBLISHED, aud: randomBytes(16).toString('hex') };
  edgeA = await startEdge({
    config: loadEdgeConfig(
      writeConfig(
        pki,
        multiEdgeYaml({ pki, port: portA, publicPort: portA, pgUrl: db.url, app, relayPort: relayA, unpublished }),
      ),
    ),
  });
  edgeB = await startEdge({
    config: loadEdgeConfig(
      writeConfig(
        pki,
        multiEdgeYaml({ pki, port: portB, publicPort: portA, pgUrl: db.url, app, relayPort: relayPortB, unpublished }),
      ),
    ),
  });
  // The connector reaches edge B only.
  connector = edgeConnector(pki, { ports: [portB], hostname: APP, service: app.service, connections: 2 });
  await connector.waitConnected(2);
  // The client lands on edge A, which holds no connector of the tunnel.
  localPort = await freePort();
  listener = new LocalListener({
    target: resolveEdgeTarget({ hostname: APP, edge: `https://127.0.0.1:${portA}`, caFile: pki.ca }),
    local: { host: '127.0.0.1', port: localPort },
    credential: async () => ({ kind: 'service-token', ...SERVICE_TOKEN }),
  });
  await listener.start();
  // Edge B's heartbeat has announced the tunnel.
  await waitUntil('edge B to announce its tunnel', async () => (await download(localPort, 1)).complete, 10_000, 200);
});

after(async () => {
  if (skip) return;
  await listener?.stop();
  await connector?.stop(200);
  await edgeA?.close(200);
  await edgeB?.close(200);
  await origin?.close();
  db?.destroy();
});

async function metric(edge: RunningEdge, direction: 'in' | 'out'): Promise<number> {
  const text = (await step(new CookieJar(readFileSync(pki.ca)), `https://127.0.0.1:${edge.port}/metrics`)).text;
  return Number(
    new RegExp(`airlock_edge_relayed_streams_total\\{direction="${direction}"\\} (\\d+)`).exec(text)?.[1] ?? 0,
  );
}

describe('edge-to-edge relay', { skip }, () => {
  test('a stream that lands on the edge without the connector is relayed: bytes arrive both ways (sha256), counted in metrics', async (t) => {
    const outBefore = await metric(edgeA, 'out');
    const inBefore = await metric(edgeB, 'in');
    const uploaded = await upload(localPort, SIZE);
    assert.equal(uploaded.received, uploaded.sent);
    const downloaded = await download(localPort, SIZE);
    assert.equal(downloaded.complete, true);
    assert.equal(downloaded.intact, true);
    assert.equal(await metric(edgeA, 'out'), outBefore + 2);
    assert.equal(await metric(edgeB, 'in'), inBefore + 2);
    assert.equal(edgeA.registry.count(TUNNEL.id), 0, 'edge A never held the connector');
    t.diagnostic(`relayed ${SIZE} B up and ${SIZE} B down through edge A → edge B`);
  });

  test('a relay request without an edge assertion is refused', async () => {
    assert.equal(await relayStatus({}), 403);
  });

  test("a relay request signed by another deployment's edge is refused", async () => {
    const foreign = await SigningKeys.open(join(mkdtempSync(join(pki.dir, 'foreign-')), 'keys'));
    const assertion = signRelayAssertion(foreign, issuer, {
      tun: TUNNEL.id,
      host: APP,
      svc: `127.0.0.1:${origin.port}`,
      sid: 'forged',
      principal: { kind: 'service-token', id: SERVICE_TOKEN.id },
    });
    assert.equal(await relayStatus({ [RELAY.header]: assertion }), 403);
  });

  test('a relay request for a service this edge does not route the app to is refused', async () => {
    const assertion = signRelayAssertion(edgeA.keys, issuer, {
      tun: TUNNEL.id,
      host: APP,
      svc: '127.0.0.1:22',
      sid: 'other-service',
      principal: { kind: 'service-token', id: SERVICE_TOKEN.id },
    });
    assert.equal(await relayStatus({ [RELAY.header]: assertion }), 403);
  });

  test('a route registered through one edge is used through the other', async (t) => {
    const admin = await issueConnectorCredential(
      { edgeOrigin: issuer, keys: edgeA.keys },
      { sub: 'ops@example.com', email: 'ops@example.com', groups: ['ops'] },
    );
    const api = (edge: RunningEdge, method: string, path: string, body?: unknown) =>
      edgeJson(
        { edgeUrl: `https://127.0.0.1:${edge.port}`, ca: readFileSync(pki.ca) },
        method,
        `/cdn-cgi/admin/${path}`,
        { token: admin.token, ...(body ? { body } : {}) },
      );
    const created = await api(edgeA, 'POST', 'tunnels', { name: 'shared' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const routed = await api(edgeA, 'POST', 'routes', {
      hostname: PUBLISHED,
      tunnel: 'shared',
      service: `tcp://127.0.0.1:${origin.port}`,
    });
    assert.equal(routed.status, 201, JSON.stringify(routed.body));
    const started = Date.now();
    const seenMs = await waitUntil(
      'edge B to list the route',
      async () => {
        const routes = (await api(edgeB, 'GET', 'routes')).body.routes as Array<{ hostname: string }>;
        return routes.some((route) => route.hostname === PUBLISHED);
      },
      1_000,
      20,
    );
    // A connector with the new tunnel's token, at edge B; a client of the new hostname, at edge B too.
    const published = edgeConnector(pki, {
      ports: [edgeB.port],
      hostname: PUBLISHED,
      service: `tcp://127.0.0.1:${origin.port}`,
      connections: 1,
      token: String(created.body.token),
    });
    const port = await freePort();
    const client = new LocalListener({
      target: resolveEdgeTarget({ hostname: PUBLISHED, edge: `https://127.0.0.1:${edgeB.port}`, caFile: pki.ca }),
      local: { host: '127.0.0.1', port },
      credential: async () => ({ kind: 'service-token', ...SERVICE_TOKEN }),
    });
    try {
      await published.waitConnected(1);
      await client.start();
      const result = await download(port, 1024 * 1024);
      assert.equal(result.complete && result.intact, true);
      t.diagnostic(
        `registered at edge A; edge B listed it after ${seenMs} ms (${Date.now() - started} ms to a working stream)`,
      );
    } finally {
      await client.stop();
      await published.stop(200);
    }
  });

  test('a connector given several edges spreads its connections over them', async () => {
    const spread = edgeConnector(pki, {
      ports: [edgeA.port, edgeB.port],
      hostname: APP,
      service: `tcp://127.0.0.1:${origin.port}`,
      connections: 2,
    });
    try {
      await spread.waitConnected(2);
      assert.equal(edgeA.registry.count(TUNNEL.id), 1);
      assert.equal(edgeB.registry.count(TUNNEL.id), 3);
    } finally {
      await spread.stop(200);
    }
  });
});

describe('several edges count failed service-token attempts together', { skip }, () => {
  // Last in the file: it leaves 127.0.0.1 refused for service tokens for a minute.
  test('ten failures spread over two edges refuse the address at both (429)', async () => {
    const attempt = async (edge: RunningEdge, secret: string) =>
      (
        await step(new CookieJar(readFileSync(pki.ca)), `https://127.0.0.1:${edge.port}/`, {
          headers: { host: APP, [HEADER.clientId]: SERVICE_TOKEN.id, [HEADER.clientSecret]: secret },
        })
      ).status;
    for (let index = 0; index < 10; index++)
      assert.equal(await attempt(index % 2 === 0 ? edgeA : edgeB, `wrong-${index}`), 302);
    assert.equal(
      await attempt(edgeB, SERVICE_TOKEN.secret),
      429,
      'refused at edge B, which saw the tenth, right secret or not',
    );
    // Edge A hears of the block by NOTIFY (it checks blocks in memory, not the database, per connect).
    await waitUntil(
      'edge A to refuse the address too',
      async () => (await attempt(edgeA, SERVICE_TOKEN.secret)) === 429,
      1_000,
      20,
    );
  });
});

function relayStatus(headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`wss://127.0.0.1:${relayPortB}/`, { headers, ca: readFileSync(pki.ca) });
    ws.once('open', () => (ws.terminate(), resolve(101)));
    ws.once('unexpected-response', (_request, response) => (ws.terminate(), resolve(response.statusCode ?? 0)));
    ws.once('error', () => resolve(0));
  });
}
