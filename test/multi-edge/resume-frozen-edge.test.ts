// A connector that dials one edge only, and that edge frozen (SIGSTOP) for 25 s under open
// resumable streams, behind HAProxy with a second edge. The clients see their edge go silent and
// come back through the other edge, which cannot reach the connector: it answers 503 with
// Retry-After (the tunnel's edge went silent without leaving), so the clients keep trying for
// their window instead of giving up after 5 s, and every stream resumes after SIGCONT. Before,
// every such stream was reset after 5 s, while the same streams with --no-resume came through.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresMissing } from '../helpers/postgres.js';
import { haproxyMissing } from '../helpers/haproxy.js';
import { edgeConnector, startMultiEdgeChain, type MultiEdgeChain } from '../helpers/multi-edge.js';
import { echoSession } from '../helpers/echo-session.js';
import type { Connector } from '../../src/connector/connector.js';
import type { LocalListener } from '../../src/core/local-listener.js';

const skip = postgresMissing ?? haproxyMissing;
if (skip) console.log(`# resume-frozen-edge suite skipped: ${skip}`);

/** Longer than the client's silence detection (10–15 s) and its old 5 s give-up together. */
const FREEZE_MS = 25_000;
const SESSIONS = 4;

let chain: MultiEdgeChain;
let connector: Connector;
let listener: LocalListener;
let localPort: number;
const closes: string[] = [];

before(async () => {
  if (skip) return;
  chain = await startMultiEdgeChain({ hostname: 'frozen-resume.airlock.test', count: 2 });
  // The connector knows edge A only: no edge reaches it while A is frozen.
  connector = edgeConnector(chain.pki, {
    ports: [chain.edges[0]!.port],
    hostname: chain.app.hostname,
    service: chain.app.service,
    connections: 2,
    backoff: { baseMs: 100, maxMs: 1_000 },
  });
  await connector.waitConnected(2);
  // Edge B learns where the tunnel is from the directory (two heartbeats).
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  ({ listener, port: localPort } = await chain.listen());
  listener.on('event', (event) => {
    if (event.type === 'connection-closed' && event.error) closes.push(`${event.error.code} ${event.error.message}`);
  });
});

after(async () => {
  if (skip) return;
  await listener?.stop();
  await connector?.stop(200);
  await chain?.stop();
});

test(
  "the connector's only edge frozen 25 s under resumable streams: each stream waits, then resumes after SIGCONT; none is reset",
  { skip, timeout: 150_000 },
  async (t) => {
    const sessions = Array.from({ length: SESSIONS }, () => echoSession(localPort));
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.ok(
        sessions.every((session) => session.echoes > 5),
        'every session echoes before the freeze',
      );
      const [edgeA] = chain.edges;
      edgeA!.process.child.kill('SIGSTOP');
      const frozenAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, FREEZE_MS));
      edgeA!.process.child.kill('SIGCONT');
      const thawedAt = Date.now();
      // Every session catches up: the client retries at most 10 s apart, HAProxy re-admits A in ~1 s.
      await Promise.all(sessions.map((session) => session.caughtUp(45_000)));
      const caughtUpAfterMs = Date.now() - thawedAt;
      for (const session of sessions) session.stopSending();
      await new Promise((resolve) => setTimeout(resolve, 500));
      const resumes = chain.audit().filter((line) => line.event === 'stream-resume');
      t.diagnostic(
        `frozen ${Date.now() - frozenAt - caughtUpAfterMs - 500} ms; every session caught up ${caughtUpAfterMs} ms after SIGCONT; ` +
          `echoes ${sessions.map((session) => `${session.echoes}/${session.sent}`).join(', ')}; ` +
          `stream-resume records: ${resumes.map((line) => line.outcome).join(', ') || 'none'}; client closes: ${closes.join(' | ') || 'none'}`,
      );
      for (const [index, session] of sessions.entries()) {
        assert.equal(session.ended, undefined, `session ${index} is still open (not reset)`);
        assert.equal(session.echoes, session.sent, `session ${index}: every echo came back`);
        assert.ok(session.inOrder(), `session ${index}: echoes in order, once each`);
      }
      assert.ok(
        resumes.some((line) => line.outcome === 'resumed'),
        'at least one stream was resumed (the ones on the frozen edge)',
      );
      assert.ok(!resumes.some((line) => line.outcome === 'refused'), 'no resume was refused');
    } finally {
      for (const session of sessions) session.close();
    }
  },
);
