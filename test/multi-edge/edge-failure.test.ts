// kill -9 one of three edge processes behind HAProxy during 100 MB downloads: its streams end
// (none hangs), the transfers that complete are intact, and new connections through the balancer
// succeed within 5 s.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { freePort, SERVICE_TOKEN, testPki, type TestPki } from '../helpers/chain.js';
import { postgresMissing, startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { haproxyMissing, startHaproxy, type RunningHaproxy } from '../helpers/haproxy.js';
import { edgeConnector, multiEdgeYaml, writeConfig } from '../helpers/multi-edge.js';
import { airlock, type Running } from '../helpers/processes.js';
import { download, startOrigin, type Origin } from '../helpers/transfer.js';
import { Connector } from '../../src/connector/connector.js';
import { LocalListener } from '../../src/core/local-listener.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';

const skip = postgresMissing ?? haproxyMissing;
if (skip) console.log(`# edge-failure suite skipped: ${skip}`);

const APP = 'failover.airlock.test';
const SIZE = 100_000_000;

let pki: TestPki;
let db: RunningPostgres;
let origin: Origin;
let lb: RunningHaproxy;
const edges: { process: Running; port: number }[] = [];
let connector: Connector;
let listener: LocalListener;
let localPort: number;

before(async () => {
  if (skip) return;
  pki = await testPki();
  db = await startPostgres();
  origin = await startOrigin();
  const ports = [await freePort(), await freePort(), await freePort()];
  lb = await startHaproxy(ports);
  const app = { hostname: APP, aud: randomBytes(16).toString('hex'), service: `tcp://127.0.0.1:${origin.port}` };
  for (const port of ports) {
    const process = airlock([
      'edge',
      '--config',
      writeConfig(
        pki,
        multiEdgeYaml({ pki, port, publicPort: lb.port, pgUrl: db.url, app, relayPort: await freePort() }),
      ),
    ]);
    edges.push({ process, port });
  }
  await Promise.all(edges.map(({ process }) => process.waitFor(/edge listening/, 30_000)));
  await lb.waitAllUp();
  // One connector, its connections spread over the three edges.
  connector = edgeConnector(pki, {
    ports,
    hostname: APP,
    service: app.service,
    connections: 3,
    backoff: { baseMs: 100, maxMs: 1_000 },
  });
  await connector.waitConnected(3);
  localPort = await freePort();
  listener = new LocalListener({
    target: resolveEdgeTarget({ hostname: APP, edge: `https://127.0.0.1:${lb.port}`, caFile: pki.ca }),
    local: { host: '127.0.0.1', port: localPort },
    credential: async () => ({ kind: 'service-token', ...SERVICE_TOKEN }),
  });
  listener.on('event', (event) => {
    if (event.type === 'connection-closed' && event.error)
      console.log(`# listener: ${event.error.code} ${event.error.message}`);
  });
  await listener.start();
});

after(async () => {
  if (skip) return;
  await listener?.stop();
  await connector?.stop(200);
  await Promise.all(edges.map(({ process }) => process.stop()));
  await lb?.stop();
  await origin?.close();
  db?.destroy();
});

test(
  'kill -9 one edge during 100 MB downloads: its streams end, completed ones are intact, new connections work within 5 s',
  { skip },
  async (t) => {
    const transfers = Array.from({ length: 6 }, () => download(localPort, SIZE, { paceMs: 20, timeoutMs: 120_000 }));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const victim = edges[1]!;
    victim.process.child.kill('SIGKILL');
    const killedAt = Date.now();
    let firstSuccessMs = -1;
    for (let attempt = 0; attempt < 50 && firstSuccessMs < 0; attempt++) {
      const probe = await download(localPort, 64 * 1024, { timeoutMs: 2_000 });
      if (probe.complete && probe.intact) firstSuccessMs = Date.now() - killedAt;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const results = await Promise.all(transfers);
    const completed = results.filter((result) => result.complete);
    const cut = results.filter((result) => !result.complete);
    t.diagnostic(
      `new connections worked ${firstSuccessMs} ms after the kill; ${completed.length} of 6 downloads completed, ${cut.length} cut (${cut.map((result) => `${(result.bytes / 1e6).toFixed(1)} MB, ${result.ended}`).join('; ')})`,
    );
    assert.ok(
      firstSuccessMs >= 0 && firstSuccessMs < 5_000,
      `a new connection through the balancer within 5 s (took ${firstSuccessMs} ms)`,
    );
    for (const result of results) {
      assert.equal(result.intact, true, 'every byte received matched, completed or cut');
      assert.notEqual(result.ended, 'timeout', 'no stream hung');
    }
    assert.ok(completed.length >= 1, 'the streams on the live edges completed');
  },
);
