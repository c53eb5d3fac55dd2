// The WebSocket close codes the wire contract names (DESIGN.md): 1000 on a clean end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { startChain, SERVICE_TOKEN } from '../helpers/chain.js';
import { startTransferServer } from '../helpers/origins.js';
import { dialTunnel } from '../../src/core/tunnel-dial.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';
import { credentialHeaders } from '../../src/core/credentials.js';

test('the origin ending its side cleanly closes the tunnel with 1000', async (t) => {
  const origin = await startTransferServer(4096);
  const chain = await startChain([{ hostname: 'small.airlock.test', service: `tcp://127.0.0.1:${origin.port}` }]);
  t.after(async () => {
    await chain.close();
    await origin.close();
  });
  const target = resolveEdgeTarget({ hostname: 'small.airlock.test', edge: chain.edgeUrl, caFile: chain.pki.ca });
  const { ws } = await dialTunnel({ target, headers: credentialHeaders({ kind: 'service-token', ...SERVICE_TOKEN }) });
  let received = 0;
  ws.on('message', (data: Buffer) => (received += data.length));
  ws.send(Buffer.from('D'));
  const [code] = (await once(ws, 'close')) as [number];
  assert.equal(received, 4096);
  assert.equal(code, 1000);
});
