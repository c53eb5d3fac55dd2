// An edge that stops answering without closing anything (SIGSTOP: its kernel still accepts TCP
// connections) behind HAProxy with docs/scale.md's HTTPS health check: the balancer takes it out
// within a few seconds, so new connections stop landing on it, and it comes back after SIGCONT.
// With a TCP check it stayed in, and every third new connection hung for the whole stop.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresMissing } from '../helpers/postgres.js';
import { haproxyMissing } from '../helpers/haproxy.js';
import { edgeConnector, startMultiEdgeChain, type MultiEdgeChain } from '../helpers/multi-edge.js';
import { download } from '../helpers/transfer.js';
import type { Connector } from '../../src/connector/connector.js';
import type { LocalListener } from '../../src/core/local-listener.js';

const skip = postgresMissing ?? haproxyMissing;
if (skip) console.log(`# frozen-edge suite skipped: ${skip}`);

const STOP_MS = 12_000;
/** Time the balancer is given to notice: two failed checks at 500 ms, each allowed 1 s. */
const NOTICE_MS = 4_000;

let chain: MultiEdgeChain;
let connector: Connector;
let listener: LocalListener;
let localPort: number;

before(async () => {
  if (skip) return;
  chain = await startMultiEdgeChain({ hostname: 'frozen.airlock.test', count: 3 });
  connector = edgeConnector(chain.pki, {
    ports: chain.edges.map((edge) => edge.port),
    hostname: chain.app.hostname,
    service: chain.app.service,
    connections: 3,
  });
  await connector.waitConnected(3);
  // Plain streams: each new connection is one new TCP connection through the balancer.
  ({ listener, port: localPort } = await chain.listen({ resume: false }));
});

after(async () => {
  if (skip) return;
  await listener?.stop();
  await connector?.stop(200);
  await chain?.stop();
});

test(
  'SIGSTOP of one of three edges: the HTTPS health check takes it out, and new connections made after that all complete',
  { skip, timeout: 90_000 },
  async (t) => {
    const frozen = chain.edges[1]!.process;
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
    await chain.lb.waitAllUp(15_000);
    t.diagnostic(`the edge was back in the balancer ${Date.now() - cameBackAt} ms after SIGCONT`);
  },
);
