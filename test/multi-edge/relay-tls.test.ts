// The relay listener with its own certificate (edge.yaml relay.tls), from an internal CA the public
// certificate's is not: edges relay to each other by the internal one (relay.ca), and the relay
// listener presents it, not the public one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { freePort, SERVICE_TOKEN, testPki, TUNNEL, type TestPki } from '../helpers/chain.js';
import { postgresMissing, startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { edgeConnector, multiEdgeYaml, writeConfig } from '../helpers/multi-edge.js';
import { waitUntil } from '../helpers/airlock-processes.js';
import { download, startOrigin, type Origin } from '../helpers/transfer.js';
import { writeDevCertificates } from '../../src/cli/demo/dev-certs.js';
import { loadEdgeConfig } from '../../src/edge/config/config.js';
import { startEdge, type RunningEdge } from '../../src/edge/edge-server.js';
import { Connector } from '../../src/connector/connector.js';
import { LocalListener } from '../../src/core/local-listener.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';

const skip = postgresMissing;
if (skip) console.log(`# relay-tls suite skipped: ${skip}`);

const APP = 'relay-tls.airlock.test';

let pki: TestPki;
let internal: { ca: string; cert: string; key: string };
let db: RunningPostgres;
let origin: Origin;
const edges: RunningEdge[] = [];
const relayPorts: number[] = [];
let connector: Connector;
let listener: LocalListener;
let localPort: number;

before(async () => {
  if (skip) return;
  pki = await testPki();
  // Another CA, for the internal names only: the public certificate does not chain to it.
  internal = await writeDevCertificates(join(pki.dir, `internal-${randomBytes(4).toString('hex')}`), {
    dns: ['edge.internal'],
    ips: ['127.0.0.1'],
  });
  db = await startPostgres();
  origin = await startOrigin();
  const ports = [await freePort(), await freePort()];
  const app = { hostname: APP, aud: randomBytes(16).toString('hex'), service: `tcp://127.0.0.1:${origin.port}` };
  for (const port of ports) {
    const relayPort = await freePort();
    relayPorts.push(relayPort);
    const yaml = multiEdgeYaml({ pki, port, publicPort: ports[0]!, pgUrl: db.url, app, relayPort }).replace(
      `ca: ${pki.ca} }`,
      `ca: ${internal.ca}, tls: { cert: ${internal.cert}, key: ${internal.key} } }`,
    );
    assert.match(yaml, /relay: \{ listen: .*, tls: \{/);
    edges.push(await startEdge({ config: loadEdgeConfig(writeConfig(pki, yaml)) }));
  }
  connector = edgeConnector(pki, { ports: [ports[1]!], hostname: APP, service: app.service, connections: 1 });
  await connector.waitConnected(1);
  localPort = await freePort();
  listener = new LocalListener({
    target: resolveEdgeTarget({ hostname: APP, edge: `https://127.0.0.1:${ports[0]}`, caFile: pki.ca }),
    local: { host: '127.0.0.1', port: localPort },
    credential: async () => ({ kind: 'service-token', ...SERVICE_TOKEN }),
  });
  await listener.start();
});

after(async () => {
  if (skip) return;
  await listener?.stop();
  await connector?.stop(200);
  for (const edge of edges) await edge.close(200);
  await origin?.close();
  db?.destroy();
});

test('the relay listener presents relay.tls, and edges relay over it trusting relay.ca', { skip }, async () => {
  const presented = await new Promise<X509Certificate>((resolve, reject) => {
    const socket = tls.connect({ port: relayPorts[1]!, host: '127.0.0.1', ca: readFileSync(internal.ca) }, () => {
      resolve(new X509Certificate(socket.getPeerCertificate(true).raw));
      socket.destroy();
    });
    socket.on('error', reject);
  });
  assert.match(presented.subjectAltName ?? '', /DNS:edge\.internal/);
  await waitUntil('a stream relayed edge 1 → edge 2', async () => (await download(localPort, 1)).complete, 10_000, 200);
  const result = await download(localPort, 2_000_000);
  assert.equal(result.complete && result.intact, true);
  assert.equal(edges[0]!.registry.count(TUNNEL.id), 0, 'edge 1 holds no connector: it was relayed');
});
