// An edge that stops answering without closing anything (SIGSTOP: its kernel still accepts TCP
// connections) behind HAProxy with docs/scale.md's HTTPS health check: the balancer takes it out
// within a few seconds, so new connections stop landing on it, and it comes back after SIGCONT.
// With a TCP check it stayed in, and every third new connection hung for the whole stop.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { freePort, SERVICE_TOKEN, testPki, type TestPki } from '../helpers/chain.js';
import { postgresMissing, startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { haproxyMissing, startHaproxy, type RunningHaproxy } from '../helpers/haproxy.js';
import { edgeConnector, multiEdgeYaml, writeConfig } from '../helpers/multi-edge.js';
import { airlock, type Running } from '../helpers/processes.js';
import { download, startOrigin, type Origin } from '../helpers/transfer.js';
import type { Connector } from '../../src/connector/connector.js';
import { LocalListener } from '../../src/core/local-listener.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';

const skip = postgresMissing ?? haproxyMissing;
if (skip) console.log(`# frozen-edge suite skipped: ${skip}`);

const APP = 'frozen.airlock.test';
const STOP_MS = 12_000;
/** Time the balancer is given to notice: two failed checks at 500 ms, each allowed 1 s. */
const NOTICE_MS = 4_000;

let pki: TestPki;
let db: RunningPostgres;
let origin: Origin;
let lb: RunningHaproxy;
const edges: Running[] = [];
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
  for (const port of ports)
    edges.push(
      airlock([
        'edge',
        '--config',
        writeConfig(
          pki,
          multiEdgeYaml({ pki, port, publicPort: lb.port, pgUrl: db.url, app, relayPort: await freePort() }),
        ),
      ]),
    );
  await Promise.all(edges.map((edge) => edge.waitFor(/edge listening/, 30_000)));
  await lb.waitAllUp();
  connector = edgeConnector(pki, { ports, hostname: APP, service: app.service, connections: 3 });
  await connector.waitConnected(3);
  localPort = await freePort();
  // Plain streams: each new connection is one new TCP connection through the balancer.
  listener = new LocalListener({
    target: resolveEdgeTarget({ hostname: APP, edge: `https://127.0.0.1:${lb.port}`, caFile: pki.ca }),
    local: { host: '127.0.0.1', port: localPort },
    credential: async () => ({ kind: 'service-token', ...SERVICE_TOKEN }),
    resume: false,
  });
  await listener.start();
});

after(async () => {
  if (skip) return;
  for (const edge of edges) edge.child.kill('SIGCONT');
  await listener?.stop();
  await connector?.stop(200);
  await Promise.all(edges.map((edge) => edge.stop()));
  await lb?.stop();
  await origin?.close();
  db?.destroy();
});

test(
  'SIGSTOP of one of three edges: the HTTPS health check takes it out, and new connections made after that all complete',
  { skip, timeout: 90_000 },
  async (t) => {
    const frozen = edges[1]!;
    frozen.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    const late: { atMs: number; tookMs: number; complete: boolean }[] = [];
    try {
      // Connections one after another through the stop, each given 3 s (a hung one waits them out).
      while (Date.now() - stoppedAt < STOP_MS) {
        const startedAt = Date.now();
        const result = await download(localPort, 64 * 1024, { timeoutMs: 3_000 });
        if (startedAt - stoppedAt >= NOTICE_MS)
          late.push({ atMs: startedAt - stoppedAt, tookMs: Date.now() - startedAt, complete: result.complete });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      frozen.child.kill('SIGCONT');
    }
    const failed = late.filter((attempt) => !attempt.complete);
    t.diagnostic(
      `${late.length} connections from ${NOTICE_MS} ms after the stop to ${STOP_MS} ms: ${failed.length} failed or hung; slowest ${Math.max(...late.map((a) => a.tookMs))} ms`,
    );
    assert.ok(late.length >= 5, 'enough connections were tried after the balancer had time to notice');
    assert.deepEqual(failed, [], 'no new connection landed on the stopped edge once the check had failed');
    const cameBackAt = Date.now();
    await lb.waitAllUp(15_000);
    t.diagnostic(`the edge was back in the balancer ${Date.now() - cameBackAt} ms after SIGCONT`);
  },
);
