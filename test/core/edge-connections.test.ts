// Spare TLS connections to the edge (src/core/edge-connections.ts): used by the next tunnel, never
// carrying anything before that, dropped when idle or closed by the edge, and a spare that dies just
// as it is used costs the user nothing (dialTunnel retries once on a new connection).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { Socket } from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer } from 'ws';
import { edgeConnections } from '../../src/core/edge-connections.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';
import { dialTunnel, releaseEdgeConnections } from '../../src/core/tunnel-dial.js';
import { selfSignedLoopbackCert } from '../helpers/tls.js';

const { cert, key } = selfSignedLoopbackCert();

/** An https server that accepts WebSocket upgrades and records every TLS connection it gets. */
async function startEdge(options: { onRequestData?: (index: number, socket: Socket) => boolean } = {}) {
  const connections: { socket: Socket; bytes: number; closed: boolean }[] = [];
  const server = https.createServer({ cert, key });
  const wss = new WebSocketServer({ noServer: true });
  server.on('secureConnection', (socket: Socket) => {
    const entry = { socket, bytes: 0, closed: false };
    const index = connections.push(entry) - 1;
    socket.on('data', (chunk: Buffer) => (entry.bytes += chunk.length));
    socket.once('close', () => (entry.closed = true));
    // Reads before the HTTP parser: lets a test kill a connection as its request arrives.
    socket.prependOnceListener('data', () => {
      if (options.onRequestData?.(index, socket)) socket.destroy();
    });
  });
  server.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data) => ws.send(data))),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    connections,
    target: resolveEdgeTarget({ hostname: 'app.airlock.test', edge: `https://127.0.0.1:${port}` }),
    close: () => {
      for (const { socket } of connections) socket.destroy(); // upgraded ones too, or close() waits
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

test('after a connection is taken, the next one is a spare that is already encrypted and has carried nothing', async () => {
  const edge = await startEdge();
  const connections = edgeConnections({ ...edge.target, ca: cert });
  try {
    const first = connections.take();
    assert.equal(first.spare, false);
    await once(first.socket, 'secureConnect');
    await until(() => edge.connections.length === 2, 'the spare connection');
    await sleep(50);
    assert.equal(edge.connections[1]!.bytes, 0, 'a spare sends nothing (no request, no token) until used');
    const second = connections.take();
    assert.equal(second.spare, true);
    assert.equal(second.socket.connecting, false);
    assert.ok(second.socket.authorized, 'the spare verified the edge certificate');
    first.socket.destroy();
    second.socket.destroy();
  } finally {
    connections.close();
    await edge.close();
  }
});

test('an unused spare is closed after its idle time, and one the edge closes is never handed out', async () => {
  const edge = await startEdge();
  const connections = edgeConnections({ ...edge.target, ca: cert }, { idleMs: 150 });
  try {
    const used = connections.take().socket;
    await once(used, 'secureConnect');
    await until(() => edge.connections.length === 2, 'the spare connection');
    await until(() => edge.connections[1]!.closed, 'the idle spare to close', 2000);
    used.destroy();

    const again = connections.take().socket;
    await once(again, 'secureConnect');
    await until(() => edge.connections.length === 4, 'a second spare');
    again.destroy();
    edge.connections[3]!.socket.destroy(); // the edge drops it (its own idle timeout)
    await sleep(50);
    const next = connections.take();
    assert.equal(next.spare, false, 'a closed spare must not be reused');
    next.socket.destroy();
  } finally {
    connections.close();
    await edge.close();
  }
});

test('a tunnel whose spare connection dies as it is used still opens, on a new connection', async () => {
  // Connection 0 serves the first tunnel; connection 1 is the spare, reset when its request arrives.
  const edge = await startEdge({ onRequestData: (index) => index === 1 });
  const target = { ...edge.target, ca: cert };
  try {
    const first = await dialTunnel({ target, headers: {} });
    await until(() => edge.connections.length === 2, 'the spare connection');
    const second = await dialTunnel({ target, headers: {} });
    assert.ok(edge.connections[1]!.closed, 'the spare was the one reset');
    second.ws.send(Buffer.from('still here'));
    const [echoed] = (await once(second.ws, 'message')) as [Buffer];
    assert.equal(echoed.toString(), 'still here');
    first.ws.terminate();
    second.ws.terminate();
  } finally {
    releaseEdgeConnections(target);
    await edge.close();
  }
});

test('while the edge does not answer no spares are made, and they come back once it does', async () => {
  const edge = await startEdge();
  const connections = edgeConnections({ ...edge.target, ca: cert });
  try {
    const first = connections.take().socket;
    await once(first, 'secureConnect');
    await until(() => edge.connections.length === 2, 'the spare connection');
    connections.report(false); // as dialTunnel does when a dial fails with EDGE_UNREACHABLE
    await until(() => edge.connections[1]!.closed, 'the spare to be dropped');
    const second = connections.take();
    assert.equal(second.spare, false);
    await once(second.socket, 'secureConnect');
    await sleep(200);
    assert.equal(edge.connections.length, 3, 'no spare was opened after the failure');
    connections.report(true);
    const third = connections.take().socket;
    await once(third, 'secureConnect');
    await until(() => edge.connections.length === 5, 'spares again');
    third.destroy();
    first.destroy();
    second.socket.destroy();
  } finally {
    connections.close();
    await edge.close();
  }
});
