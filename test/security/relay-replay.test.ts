// Edge-to-edge relay: an assertion (valid 30 s) is single use at the receiving edge, and streams
// relayed in count toward the identity's per-app stream cap like those that arrive directly.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { freePort, SERVICE_TOKEN, testPki, TUNNEL, type TestPki } from '../helpers/chain.js';
import { postgresMissing, startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { edgeConnector, multiEdgeYaml, writeConfig } from '../helpers/multi-edge.js';
import { startOrigin, type Origin } from '../helpers/transfer.js';
import { loadEdgeConfig } from '../../src/edge/config/config.js';
import { startEdge, type RunningEdge } from '../../src/edge/edge-server.js';
import { RELAY, signRelayAssertion } from '../../src/edge/relay/edge-relay.js';
import type { Connector } from '../../src/connector/connector.js';

const skip = postgresMissing;
const APP = 'relay-cap.airlock.test';
const CAP = 5;

let pki: TestPki;
let db: RunningPostgres;
let origin: Origin;
let edge: RunningEdge;
let connector: Connector;
let relayPort: number;
let issuer: string;
const open: WebSocket[] = [];

before(async () => {
  if (skip) return;
  pki = await testPki();
  db = await startPostgres();
  origin = await startOrigin();
  const port = await freePort();
  relayPort = await freePort();
  issuer = `https://auth.airlock.test:${port}`;
  const app = { hostname: APP, aud: randomBytes(16).toString('hex'), service: `tcp://127.0.0.1:${origin.port}` };
  const yaml = `${multiEdgeYaml({ pki, port, publicPort: port, pgUrl: db.url, app, relayPort })}limits: { maxStreamsPerIdentity: ${CAP} }\n`;
  edge = await startEdge({ config: loadEdgeConfig(writeConfig(pki, yaml)) });
  connector = edgeConnector(pki, { ports: [port], hostname: APP, service: app.service, connections: 1 });
  await connector.waitConnected(1);
});

after(async () => {
  if (skip) return;
  for (const ws of open) ws.terminate();
  await connector?.stop(200);
  await edge?.close(200);
  await origin?.close();
  db?.destroy();
});

/** An assertion as another edge of this deployment signs it (same keys, same issuer). */
function assertion(sid = randomUUID()): string {
  return signRelayAssertion(edge.keys, issuer, {
    tun: TUNNEL.id,
    host: APP,
    svc: `127.0.0.1:${origin.port}`,
    sid,
    principal: { kind: 'service-token', id: SERVICE_TOKEN.id },
  });
}

/** Opens a relayed stream; 101 keeps it open (in `open`), otherwise the refusal's status. */
function relay(token: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`wss://127.0.0.1:${relayPort}/`, {
      headers: { [RELAY.header]: token },
      ca: readFileSync(pki.ca),
    });
    ws.on('error', () => resolve(0));
    ws.once('open', () => (open.push(ws), resolve(101)));
    ws.once('unexpected-response', (_request, response) => (ws.terminate(), resolve(response.statusCode ?? 0)));
  });
}

async function closeAll(): Promise<void> {
  await Promise.all(
    open.splice(0).map((ws) => new Promise<void>((resolve) => (ws.once('close', () => resolve()), ws.close()))),
  );
  await new Promise((resolve) => setTimeout(resolve, 300)); // the edge releases the streams
}

describe('relay assertions', { skip }, () => {
  test('a relay assertion opens one stream: a replay of it is refused', async () => {
    const once = assertion();
    assert.equal(await relay(once), 101);
    const replays = await Promise.all(Array.from({ length: 5 }, () => relay(once)));
    assert.deepEqual(replays, [403, 403, 403, 403, 403]);
    await closeAll();
  });

  test("streams relayed in count toward the identity's stream cap", async () => {
    const statuses: number[] = [];
    for (let n = 0; n < CAP + 3; n++) statuses.push(await relay(assertion()));
    assert.deepEqual(statuses, [...Array(CAP).fill(101), 429, 429, 429]);
    await closeAll();
    assert.equal(await relay(assertion()), 101, 'served again once streams close');
    await closeAll();
  });
});
