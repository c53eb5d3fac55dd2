// The WebSocket close codes the wire contract names (docs/architecture.md "Client ↔ edge"): 1000
// on a clean end, for clients that carry half-close and for those that do not (cloudflared).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { startChain, SERVICE_TOKEN, type Chain } from '../../helpers/chain.js';
import { startTransferServer } from '../../helpers/origins.js';
import { dialTunnel } from '../../../src/core/tunnel-dial.js';
import { resolveEdgeTarget } from '../../../src/core/edge-target.js';
import { credentialHeaders } from '../../../src/core/credentials.js';
import { HEADER } from '../../../src/shared/constants.js';

async function smallChain(t: { after(fn: () => Promise<void>): void }): Promise<Chain> {
  const origin = await startTransferServer(4096);
  const chain = await startChain([{ hostname: 'small.airlock.test', service: `tcp://127.0.0.1:${origin.port}` }]);
  t.after(async () => {
    await chain.close();
    await origin.close();
  });
  return chain;
}

test('without half-close (a plain client), the origin ending its side closes the tunnel with 1000', async (t) => {
  const chain = await smallChain(t);
  const ws = new WebSocket(`wss://127.0.0.1:${chain.edge.port}/`, {
    headers: { host: 'small.airlock.test', ...credentialHeaders({ kind: 'service-token', ...SERVICE_TOKEN }) },
    ca: readFileSync(chain.pki.ca),
  });
  let received = 0;
  ws.on('message', (data: Buffer) => (received += data.length));
  // 'upgrade' and 'open' come in one turn: listen for both before waiting.
  const upgraded = once(ws, 'upgrade') as Promise<[{ headers: Record<string, string> }]>;
  const opened = once(ws, 'open');
  const [response] = await upgraded;
  await opened;
  assert.equal(response.headers[HEADER.halfClose], undefined, 'not offered to a client that did not ask');
  ws.send(Buffer.from('D'));
  const [code] = (await once(ws, 'close')) as [number];
  assert.equal(received, 4096);
  assert.equal(code, 1000);
});

test('with half-close, the origin ending its side sends an empty message; the tunnel closes 1000 once both ways ended', async (t) => {
  const chain = await smallChain(t);
  const target = resolveEdgeTarget({ hostname: 'small.airlock.test', edge: chain.edgeUrl, caFile: chain.pki.ca });
  const { ws, halfClose } = await dialTunnel({
    target,
    headers: credentialHeaders({ kind: 'service-token', ...SERVICE_TOKEN }),
  });
  assert.equal(halfClose, true, 'the edge agreed');
  let received = 0;
  let endOfStream = false;
  ws.on('message', (data: Buffer) => {
    if (data.length === 0) {
      endOfStream = true;
      ws.send(Buffer.alloc(0)); // our end too
    } else received += data.length;
  });
  ws.send(Buffer.from('D'));
  const [code] = (await once(ws, 'close')) as [number];
  assert.equal(received, 4096);
  assert.equal(endOfStream, true);
  assert.equal(code, 1000);
});
