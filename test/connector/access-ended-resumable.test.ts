// A resumable stream that the edge ends on purpose (here its app's idle timeout; a sign-out, a lock
// and an expiry take the same path) must end at the origin too, at once: the connector is told by
// the stream's RST_STREAM code that no resume will come. Before, it held the origin socket for the
// whole resume window (60 s), as after a broken transport.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startChain, type Chain } from '../helpers/chain.js';
import { startClient } from '../helpers/client.js';
import { waitUntil } from '../helpers/airlock-processes.js';
import { recordingOrigin } from '../helpers/socket-ends.js';

const IDLE = 'idle-resumable.airlock.test';

let chain: Chain;
let origin: Awaited<ReturnType<typeof recordingOrigin>>;

before(async () => {
  origin = await recordingOrigin();
  chain = await startChain([
    { hostname: IDLE, service: `tcp://127.0.0.1:${origin.port}`, extra: '    idleTimeout: 1s' },
  ]);
});
after(async () => {
  await chain?.close();
  await origin?.close();
});

test('a resumable stream ended by the edge (idle timeout) resets the origin within seconds, not after the 60 s window', async (t) => {
  const client = await startClient(chain, IDLE);
  t.after(() => client.listener.stop());
  const socket = net.connect(client.port, '127.0.0.1');
  let localEnd: string | undefined;
  socket.on('error', (error: NodeJS.ErrnoException) => (localEnd ??= error.code ?? error.message));
  socket.on('end', () => (localEnd ??= 'fin'));
  socket.write('one byte to open the origin connection');
  await waitUntil('the origin connection', () => origin.connections === 1, 5_000);
  const idleFrom = Date.now();
  await waitUntil('the local program to see the end', () => localEnd !== undefined, 10_000);
  const localAfterMs = Date.now() - idleFrom;
  await waitUntil('the origin to see the end', () => origin.ends.length === 1, 10_000).catch(() => {});
  const originAfterMs = Date.now() - idleFrom;
  t.diagnostic(
    `local program: ${localEnd} after ${localAfterMs} ms; origin: ${origin.ends[0] ?? 'still open'} after ${originAfterMs} ms (idleTimeout 1 s)`,
  );
  socket.destroy();
  assert.equal(localEnd, 'ECONNRESET', 'the local program saw a reset');
  assert.equal(origin.ends[0], 'ECONNRESET', 'the origin saw a reset within 10 s of the idle end');
});
