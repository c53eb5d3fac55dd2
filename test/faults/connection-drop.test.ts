// One of the connector's four edge connections drops (faults). Streams on the other three
// carry on; new streams go to the survivors with no error to users; the slot reconnects.
// The streams on the dropped one are resumable (the client's default): they resume over another
// connection and finish intact. (A plain stream could not move: it would end with an intact prefix
// and a reset, never a clean end.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startChain, SERVICE_TOKEN } from '../helpers/chain.js';
import { waitUntil } from '../helpers/airlock-processes.js';
import { download, echoRoundTrip, startOrigin } from '../helpers/transfer.js';
import { LocalListener } from '../../src/core/local-listener.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';

const MB = 1024 * 1024;

test('one of four connector connections dropped: new streams use the others, in-flight streams elsewhere finish intact', async (t) => {
  const origin = await startOrigin();
  const chain = await startChain([{ hostname: 'four.airlock.test', service: `tcp://127.0.0.1:${origin.port}` }], {
    connector: { connections: 4 },
  });
  const listener = new LocalListener({
    target: resolveEdgeTarget({ hostname: 'four.airlock.test', edge: chain.edgeUrl, caFile: chain.pki.ca }),
    local: { host: '127.0.0.1', port: 0 },
    credential: async () => ({ kind: 'service-token', ...SERVICE_TOKEN }),
  });
  const port = Number((await listener.start()).split(':').pop());
  t.after(async () => {
    await listener.stop();
    await chain.close();
    await origin.close();
  });

  // Eight slow downloads spread over the four connections (least loaded first).
  const inFlight = Array.from({ length: 8 }, () => download(port, 3 * MB, { paceMs: 40, timeoutMs: 30_000 }));
  await waitUntil('8 streams open', () => chain.edge.registry.all().reduce((sum, c) => sum + c.streams, 0) === 8, 5000);
  const connections = chain.edge.registry.all();
  assert.equal(connections.length, 4);
  const victim = connections.reduce((most, c) => (c.streams > most.streams ? c : most));
  const lost = victim.streams;
  victim.session.destroy(); // dropped under its streams: no graceful GOAWAY drain

  // Twenty new connections right after the drop: every one succeeds.
  const fresh = await Promise.all(Array.from({ length: 20 }, () => echoRoundTrip(port, 128 * 1024)));
  for (const echo of fresh) assert.equal(echo.received, echo.sent);

  const results = await Promise.all(inFlight);
  const finished = results.filter((r) => r.complete);
  const cut = results.filter((r) => !r.complete);
  t.diagnostic(`dropped connection carried ${lost} streams; ${finished.length} finished, ${cut.length} cut`);
  assert.ok(
    results.every((r) => r.intact),
    'no stream received a wrong byte',
  );
  assert.ok(
    results.every((r) => r.ended !== 'timeout'),
    'no stream hung',
  );
  assert.ok(
    cut.every((r) => r.ended === 'close'),
    `every cut stream reached its program as a reset, not a FIN: ${cut.map((r) => r.ended).join(', ')}`,
  );
  assert.ok(cut.length <= lost, `only streams on the dropped connection were cut (${cut.length} cut, ${lost} there)`);
  assert.equal(cut.length, 0, 'the streams on the dropped connection resumed elsewhere and finished');
  assert.equal(finished.length, 8 - cut.length);
  await waitUntil(
    'origin records',
    () => origin.records.filter((r) => r.kind === 'send' && r.complete).length >= finished.length,
    5000,
  );
  const sent = new Set(origin.records.filter((r) => r.kind === 'send' && r.complete).map((r) => r.sha256));
  for (const result of finished) assert.ok(sent.has(result.sha256), 'sha256 at the client matches the origin');

  // The connector notices and redials the slot.
  await waitUntil(
    'the dropped slot reconnected',
    () => chain.edge.registry.count() === 4 && chain.connector.connectedCount === 4,
    5000,
  );
  const after = await echoRoundTrip(port);
  assert.equal(after.received, after.sent);
});
