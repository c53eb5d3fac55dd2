// The client's WebSocket joined to a relay WebSocket to the edge holding the connector (several
// edges, src/edge/edge-relay.ts). The relay always carries half-close, so every way of leaving
// reaches the far edge as it would a local connector: what was read is delivered, then the end.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { CLOSE } from '../../shared/constants.js';
import { coalesceWrites, webSocketStream } from '../../shared/websocket-stream.js';
import { closeOutcome, ORIGIN_GRACE_MS, recordStreamEnd, type StreamAbout, type StreamDeps } from './stream-end.js';

export function bridgeToEdge(
  ws: WebSocket,
  socket: Duplex,
  peer: WebSocket,
  { release, ...about }: StreamAbout,
  halfClose: boolean,
  deps: StreamDeps,
): void {
  const started = Date.now();
  let bytesUp = 0;
  let bytesDown = 0;
  let outcome = 'closed';
  let ended = false;
  let grace: NodeJS.Timeout | undefined;
  deps.metrics.activeStreams.inc();
  const client = webSocketStream(ws, socket, { halfClose });
  const upstream = webSocketStream(peer, (peer as unknown as { _socket: Socket })._socket, { halfClose: true });
  client.on('error', () => {});
  upstream.on('error', () => {});
  client.on('data', (chunk: Buffer) => (bytesUp += chunk.length));
  upstream.on('data', (chunk: Buffer) => (bytesDown += chunk.length));
  coalesceWrites(upstream, socket);
  client.pipe(upstream);
  upstream.pipe(client);
  const end = () => {
    if (ended) return;
    ended = true;
    release();
    clearTimeout(grace);
    recordStreamEnd(deps, about, { bytesUp, bytesDown, started, outcome: `${outcome} (relayed to another edge)` });
    if (peer.readyState === peer.OPEN) peer.close(CLOSE.normal);
  };
  ws.once('close', (code) => {
    outcome = closeOutcome(code);
    upstream.unpipe(client);
    upstream.resume();
    // The client's upload drains to the far edge, which ends it there; that edge finishes the origin.
    const wait = () => {
      grace = setTimeout(() => (peer.terminate(), end()), ORIGIN_GRACE_MS);
      grace.unref();
    };
    if (upstream.writableFinished) wait();
    else upstream.once('finish', wait);
  });
  peer.once('close', (code) => {
    if (code === CLOSE.originFailed) outcome = 'error: origin failed (at the relay edge)';
    if (ws.readyState === ws.OPEN)
      ws.close(
        code === CLOSE.originFailed ? CLOSE.originFailed : CLOSE.normal,
        code === CLOSE.originFailed ? 'origin failed' : undefined,
      );
    end();
  });
}
