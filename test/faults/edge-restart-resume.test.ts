// One edge, restarted (kill -9, then started again) under a resumable stream, and the connector that
// holds the stream slow to redial it: the client comes back first and is answered 503 no_connector.
// A freshly started edge answers that with Retry-After while the connector has not redialled it
// yet, so the client keeps trying instead of resetting after 5 s, and the stream resumes when the
// connector is back. The connector's slowness is a SIGSTOP held 8 s past the edge's restart
// (a real one comes from its backoff, up to 30 s). Real processes on loopback, signalled by PID.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { processChain, waitForConnections } from '../helpers/process-chain.js';
import { stopProcess } from '../helpers/airlock-processes.js';
import { startOrigin } from '../helpers/transfer.js';

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

    const socket = net.connect(access.port, '127.0.0.1');
    let ended: string | undefined;
    socket.on('error', (error: NodeJS.ErrnoException) => (ended ??= error.code ?? error.message));
    socket.on('close', () => (ended ??= 'closed'));
    socket.write('E');
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    let sent = 0;
    const ticker = setInterval(() => {
      const message = Buffer.alloc(8);
      message.writeUInt32BE(sent++, 0);
      message.writeUInt32BE(0x5e5e5e5e, 4);
      socket.write(message);
    }, 100);
    try {
      await sleep(1_000);
      assert.ok(received.length >= 8 * 5, 'echoes flow before the restart');
      edge.signal('SIGKILL');
      connector.signal('SIGSTOP');
      await edge.exited;
      edge = await chain.startEdge();
      const restartedAt = Date.now();
      await sleep(8_000);
      connector.signal('SIGCONT');
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && !ended && received.length < sent * 8) await sleep(50);
      const caughtUpAfterMs = Date.now() - restartedAt;
      clearInterval(ticker);
      const closes = access.proc
        .output()
        .split('\n')
        .filter((line) => /connection \d+ (failed|closed)|RESUME_REFUSED/.test(line));
      t.diagnostic(
        `caught up ${caughtUpAfterMs} ms after the edge was back (connector stopped for 8 s of it); ${received.length / 8}/${sent} echoes; ended: ${ended ?? 'no'}; client: ${closes.join(' | ') || 'no failure logged'}`,
      );
      assert.equal(ended, undefined, 'the local program was not reset');
      assert.equal(received.length, sent * 8, 'every echo came back');
      for (let index = 0; index < sent; index++)
        assert.equal(received.readUInt32BE(index * 8), index, `echo ${index} in order, once`);
      assert.match(access.proc.output(), /resumed/i, 'the client says it resumed');
    } finally {
      clearInterval(ticker);
      socket.destroy();
    }
  },
);
