// kill -9 of the connector in the middle of a 100 MB download (issue 8, faults).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { processChain, waitForConnections } from '../helpers/process-chain.js';
import { stopProcess, waitUntil } from '../helpers/processes.js';
import { download, echoRoundTrip, startOrigin } from '../helpers/transfer.js';

const MB = 1024 * 1024;

test('kill -9 of the connector mid 100 MB transfer: clean close, listener stays up, service back within 2 s of restart', async (t) => {
  const origin = await startOrigin();
  const chain = await processChain([{ hostname: 'bulk.airlock.test', service: `tcp://127.0.0.1:${origin.port}` }]);
  const edge = await chain.startEdge();
  let connector = await chain.startConnector();
  t.after(async () => {
    await stopProcess(connector);
    await stopProcess(access.proc);
    await stopProcess(edge);
    await origin.close();
  });
  await waitForConnections(chain, 4);
  const access = await chain.startAccess('bulk.airlock.test');

  // Cut the connector off a third of the way through.
  let killedAt = 0;
  const cut = download(access.port, 100 * MB, {
    timeoutMs: 60_000,
    onProgress: (bytes) => {
      if (!killedAt && bytes >= 30 * MB) {
        killedAt = Date.now();
        connector.signal('SIGKILL');
      }
    },
  });
  const result = await cut;
  assert.ok(killedAt > 0, `the transfer ended before the kill (${result.bytes} bytes)`);
  assert.notEqual(result.ended, 'timeout', 'the client hung instead of seeing a close');
  assert.ok(Date.now() - killedAt < 10_000, 'the close reached the client within 10 s');
  assert.equal(result.intact, true, 'every byte received before the cut matches what the origin sent');
  assert.ok(result.bytes < 100 * MB, 'a cut transfer must not look complete');
  assert.deepEqual(await connector.exited, { code: null, signal: 'SIGKILL' });

  // The local listener survives: it still accepts, and says why the service is unavailable.
  await waitForConnections(chain, 0, 5000);
  const probe = net.connect(access.port, '127.0.0.1');
  probe.on('error', () => {});
  await new Promise<void>((resolve, reject) => (probe.once('connect', resolve), probe.once('error', reject)));
  await new Promise((resolve) => probe.once('close', resolve));
  await access.proc.waitFor(/failed: the service is offline/);
  assert.equal(access.proc.child.exitCode, null, 'airlock access tcp is still running');

  // Restart: a new connection succeeds within 2 s, and a full 100 MB transfer is intact end to end.
  const restartedAt = Date.now();
  connector = await chain.startConnector();
  const elapsed = await waitUntil(
    'an echo through the restarted connector',
    async () => {
      try {
        const echo = await echoRoundTrip(access.port, 64 * 1024, 1500);
        return echo.sent === echo.received;
      } catch {
        return false;
      }
    },
    5000,
    100,
  );
  const sinceRestart = Date.now() - restartedAt;
  t.diagnostic(`service back ${sinceRestart} ms after the connector restart (polled ${elapsed} ms)`);
  assert.ok(sinceRestart <= 2000, `new connections succeed within 2 s of the restart (took ${sinceRestart} ms)`);

  const full = await download(access.port, 100 * MB, { timeoutMs: 60_000 });
  assert.equal(full.complete, true, `100 MB arrived (${full.bytes} bytes, ${full.ended})`);
  assert.equal(full.intact, true);
  await waitUntil('origin record of the full transfer', () => origin.records.some((r) => r.kind === 'send' && r.bytes === 100 * MB && r.complete), 5000);
  const sent = origin.records.find((r) => r.kind === 'send' && r.bytes === 100 * MB && r.complete)!;
  assert.equal(full.sha256, sent.sha256, 'sha256 at the origin equals sha256 at the client');
});
