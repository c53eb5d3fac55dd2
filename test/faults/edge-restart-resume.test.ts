// One edge, restarted (kill -9, then started again) under a resumable stream, and the connector that
// holds the stream slow to redial it: the client comes back first and is answered 503 no_connector.
// A freshly started edge answers that with Retry-After while the connector has not redialled it
// yet, so the client keeps trying instead of resetting after 5 s, and the stream resumes when the
// connector is back. The connector's slowness is a SIGSTOP held 8 s past the edge's restart
// (a real one comes from its backoff, up to 30 s). Real processes on loopback, signalled by PID.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { processChain, waitForConnections } from '../helpers/process-chain.js';
import { stopProcess } from '../helpers/airlock-processes.js';
import { startOrigin } from '../helpers/transfer.js';
import { echoSession } from '../helpers/echo-session.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test(
  'edge restarted under a resumable stream, its connector back 8 s after the edge: the stream waits and resumes, no echo lost',
  { timeout: 90_000 },
  async (t) => {
    const origin = await startOrigin();
    const chain = await processChain([{ hostname: 'restart.airlock.test', service: `tcp://127.0.0.1:${origin.port}` }]);
    let edge = await chain.startEdge();
    const connector = await chain.startConnector({ connections: 2 });
    const access = await (async () => {
      await waitForConnections(chain, 2);
      return chain.startAccess('restart.airlock.test');
    })();
    t.after(async () => {
      connector.signal('SIGCONT');
      await stopProcess(access.proc);
      await stopProcess(connector);
      await stopProcess(edge);
      await origin.close();
    });

    const session = echoSession(access.port);
    try {
      await sleep(1_000);
      assert.ok(session.echoes >= 5, 'echoes flow before the restart');
      edge.signal('SIGKILL');
      connector.signal('SIGSTOP');
      await edge.exited;
      edge = await chain.startEdge();
      const restartedAt = Date.now();
      await sleep(8_000);
      connector.signal('SIGCONT');
      await session.caughtUp(30_000);
      const caughtUpAfterMs = Date.now() - restartedAt;
      session.stopSending();
      const closes = access.proc
        .output()
        .split('\n')
        .filter((line) => /connection \d+ (failed|closed)|RESUME_REFUSED/.test(line));
      t.diagnostic(
        `caught up ${caughtUpAfterMs} ms after the edge was back (connector stopped for 8 s of it); ${session.echoes}/${session.sent} echoes; ended: ${session.ended ?? 'no'}; client: ${closes.join(' | ') || 'no failure logged'}`,
      );
      assert.equal(session.ended, undefined, 'the local program was not reset');
      const { sent, echoes } = await session.finish();
      assert.equal(echoes, sent, 'every echo came back, in order, once');
      assert.match(access.proc.output(), /resumed/i, 'the client says it resumed');
    } finally {
      session.close();
    }
  },
);
