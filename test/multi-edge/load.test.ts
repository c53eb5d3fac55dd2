// docs/scale.md's topology under load: PostgreSQL, three edge processes behind HAProxy, two
// connector processes on different edges (the third edge relays). Thirty clients each echo 4 MB
// at once: every echo comes back whole (sha256 equal at both ends) and no connector exits. Before
// the liveness check counted received frames as life, busy edge ↔ connector sessions were
// destroyed under this load (streams cut part-way, many at once) and a ping on a session destroyed
// a tick earlier crashed the connector.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { freePort, SERVICE_TOKEN, testPki, TUNNEL, type TestPki } from '../helpers/chain.js';
import { postgresMissing, startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { haproxyMissing, startHaproxy, type RunningHaproxy } from '../helpers/haproxy.js';
import { multiEdgeYaml, writeConfig } from '../helpers/multi-edge.js';
import { airlock, type Running } from '../helpers/processes.js';
import { echoStream, startOrigin, type Origin } from '../helpers/transfer.js';
import { LocalListener } from '../../src/core/local-listener.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';
import { encodeTunnelToken } from '../../src/shared/secrets.js';

const skip = postgresMissing ?? haproxyMissing;
if (skip) console.log(`# multi-edge load suite skipped: ${skip}`);

const APP = 'load.airlock.test';
const CLIENTS = 30;
/**
 * The issue's figure is 20 MB each; the runner gives a file 180 s, and on this 2-core machine under
 * the suite's load (about 3 MB/s through the whole chain) 30 × 20 MB takes minutes. 4 MB each still
 * showed the cuts (25 of 30 streams, all within their first 1.4 MB); AIRLOCK_TEST_ECHO_MB=20 runs
 * the full figure where there is time.
 */
const SIZE = Number(process.env.AIRLOCK_TEST_ECHO_MB ?? 4) * 1024 * 1024;

let pki: TestPki;
let db: RunningPostgres;
let origin: Origin;
let lb: RunningHaproxy;
const edges: Running[] = [];
const connectors: Running[] = [];
let listener: LocalListener;
let localPort: number;
/** Why the client's streams ended in error, if any did (the test's diagnostics). */
const refusals: string[] = [];

before(
  async () => {
    if (skip) return;
    pki = await testPki();
    db = await startPostgres();
    origin = await startOrigin();
    const ports = [await freePort(), await freePort(), await freePort()];
    lb = await startHaproxy(ports);
    const app = { hostname: APP, aud: randomBytes(16).toString('hex'), service: `tcp://127.0.0.1:${origin.port}` };
    for (const port of ports) {
      const yaml = multiEdgeYaml({ pki, port, publicPort: lb.port, pgUrl: db.url, app, relayPort: await freePort() });
      edges.push(airlock(['edge', '--config', writeConfig(pki, yaml)]));
    }
    await Promise.all(edges.map((edge) => edge.waitFor(/edge listening/, 60_000)));
    await lb.waitAllUp();
    // Connector A holds edge 1, connector B edge 2: a stream that lands on edge 3 is relayed.
    for (const port of ports.slice(0, 2)) {
      const connector = airlock(
        [
          'tunnel',
          'run',
          '--edge',
          `https://127.0.0.1:${port}`,
          '--url',
          app.service,
          '--ca',
          pki.ca,
          '--connections',
          '2',
        ],
        { AIRLOCK_TUNNEL_TOKEN: encodeTunnelToken(TUNNEL.id, TUNNEL.secret), AIRLOCK_LOG_LEVEL: 'info' },
      );
      connectors.push(connector);
      await connector.waitFor(/connected to edge[^\n]*\n[^]*connected to edge/, 20_000);
    }
    localPort = await freePort();
    listener = new LocalListener({
      target: resolveEdgeTarget({ hostname: APP, edge: `https://127.0.0.1:${lb.port}`, caFile: pki.ca }),
      local: { host: '127.0.0.1', port: localPort },
      credential: async () => ({ kind: 'service-token', ...SERVICE_TOKEN }),
    });
    listener.on('event', (event) => {
      if (event.type === 'connection-closed' && event.error)
        refusals.push(`${event.error.code}: ${event.error.message}`);
    });
    await listener.start();
    // Every edge routes the app (edge 3 by relay, once the others' heartbeats have announced the tunnel).
    for (let attempt = 0; attempt < 100; attempt++) {
      const probes = await Promise.all(Array.from({ length: 6 }, () => echoStream(localPort, 1024, 5_000)));
      if (probes.every((probe) => probe.ended === 'complete')) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  },
  { timeout: 120_000 },
);

after(async () => {
  if (skip) return;
  await listener?.stop();
  await Promise.all(connectors.map((connector) => connector.stop()));
  await Promise.all(edges.map((edge) => edge.stop()));
  await lb?.stop();
  await origin?.close();
  db?.destroy();
});

test(
  `${CLIENTS} concurrent ${SIZE / 1024 / 1024} MB echoes through HAProxy come back whole, and no connector exits`,
  { skip },
  async (t) => {
    refusals.length = 0; // errors while the setup waited for every edge to route the app are not the test's
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: CLIENTS }, () => echoStream(localPort, SIZE, 120_000)));
    const seconds = (Date.now() - started) / 1000;
    const whole = results.filter((result) => result.ended === 'complete' && result.sent === result.received);
    const cut = results.filter((result) => result.ended !== 'complete');
    const echoed = results.reduce((sum, result) => sum + result.bytes, 0);
    t.diagnostic(
      `${whole.length} of ${CLIENTS} echoes whole in ${seconds.toFixed(1)} s (${(echoed / 1e6 / seconds).toFixed(1)} MB/s each way); ` +
        `cut: ${cut.map((result) => `${(result.bytes / 1e6).toFixed(1)} MB ${result.ended}`).join(', ') || 'none'}` +
        (refusals.length > 0 ? `; client errors: ${[...new Set(refusals)].join(' | ')}` : ''),
    );
    const exited = connectors.filter((connector) => connector.child.exitCode !== null || connector.child.signalCode);
    assert.deepEqual(
      exited.map((connector) => connector.output().slice(-1500)),
      [],
      'no connector exited',
    );
    for (const result of results) {
      assert.equal(result.ended, 'complete', `an echo ended early (${result.bytes} of ${SIZE} bytes)`);
      assert.equal(result.received, result.sent, 'sha256 of what came back equals what was sent');
    }
  },
);
