// The client's WebSocket joined to a relay WebSocket to the edge holding the connector (several
// edges, src/edge/edge-relay.ts). The relay always carries half-close, so every way of leaving
// reaches the far edge as it would a local connector: what was read is delivered, then the end.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { CLOSE } from '../../shared/constants.js';
import { coalesceWrites, webSocketStream } from '../../shared/websocket-stream.js';
import {
  closeOutcome,
  ORIGIN_GRACE_MS,
  recordStreamEnd,
  type StreamAbout,
  type StreamDeps,
  type StreamHandle,
} from './stream-end.js';

export function bridgeToEdge(
  ws: WebSocket,
  socket: Duplex,
  peer: WebSocket,
  { release, ...about }: StreamAbout,
  halfClose: boolean,
  deps: StreamDeps,
): StreamHandle {
  const started = Date.now();
  let lastActive = started;
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
  client.on('data', (chunk: Buffer) => ((bytesUp += chunk.length), (lastActive = Date.now())));
  upstream.on('data', (chunk: Buffer) => ((bytesDown += chunk.length), (lastActive = Date.now())));
  coalesceWrites(upstream, socket);
  client.pipe(upstream);
  // Known before the upstream's end arrives (its own close listener came first): the download's end
  // is passed on only when the far edge ended it in order, never when that edge went away.
  let peerClosed: number | undefined;
  upstream.pipe(client, { end: false });
  upstream.once('end', () => {
    if (peerClosed === undefined || peerClosed === CLOSE.normal || peerClosed === CLOSE.noStatus) client.end();
  });
  const end = () => {
    if (ended) return;
    ended = true;
    release();
    clearTimeout(grace);
    recordStreamEnd(deps, about, { bytesUp, bytesDown, started, outcome: `${outcome} (relayed to another edge)` });
    if (peer.readyState === peer.OPEN) peer.close(CLOSE.normal);
  };
  ws.once('close', (code, reason) => {
    if (outcome === 'closed') outcome = closeOutcome(code, reason.toString('utf8'));
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
  peer.once('close', (code, reason) => {
    peerClosed = code;
    const orderly = code === CLOSE.normal || code === CLOSE.noStatus;
    if (code === CLOSE.originFailed) outcome = 'error: origin failed (at the relay edge)';
    else if (!orderly && code !== CLOSE.accessEnded && outcome === 'closed')
      outcome = `error: the relay edge left (${code})`;
    // The relay edge ended it on purpose (a lock it saw first): the client hears why.
    if (code === CLOSE.accessEnded && outcome === 'closed') outcome = closeOutcome(code, reason.toString('utf8'));
    if (ws.readyState === ws.OPEN) {
      if (code === CLOSE.accessEnded) ws.close(code, reason.toString('utf8'));
      // Any end but an orderly one (that edge killed, 1006, included) is a cut stream: 1011.
      else if (orderly) ws.close(CLOSE.normal);
      else ws.close(CLOSE.originFailed, 'origin failed');
    }
    end();
  });
  return {
    lastActive: () => lastActive,
    end(reason) {
      if (ended) return;
      outcome = `ended: ${reason}`;
      if (ws.readyState === ws.OPEN) ws.close(CLOSE.accessEnded, reason);
      // The far edge cancels its origin stream on this code rather than waiting for the origin.
      if (peer.readyState === peer.OPEN) peer.close(CLOSE.accessEnded, reason);
      end();
    },
  };
}
