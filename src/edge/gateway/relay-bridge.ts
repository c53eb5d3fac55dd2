// The client's WebSocket joined to a relay WebSocket to the edge holding the connector (several
// edges, src/edge/edge-relay.ts). The relay always carries half-close, so every way of leaving
// reaches the far edge as it would a local connector: what was read is delivered, then the end.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { CLOSE } from '../../shared/constants.js';
import { coalesceWrites, interceptMessages, webSocketStream } from '../../shared/websocket-stream.js';
import {
  closeDiscarding,
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
  // A client that carries half-close ends its upload with an empty message; its WebSocket closing
  // without one (1006, killed, a local reset) cut the upload. The client's stream ends either way,
  // so the end is passed on only when it was the client's: a cut reaches the far edge at once as a
  // close 1001 before any end marker, and that edge resets the origin (never a FIN for a cut
  // upload). At once: an upload held back by backpressure may never drain to its end.
  let clientCloseCode: number | undefined;
  let uploadEndSeen = false;
  interceptMessages(ws, (data) => ((uploadEndSeen ||= data.length === 0), false));
  const uploadCut = () => halfClose && !uploadEndSeen && clientCloseCode !== undefined && !isOrderly(clientCloseCode);
  const cutUpload = () => {
    client.unpipe(upstream);
    if (peer.readyState === peer.OPEN) peer.close(CLOSE.goingAway, `client left (${clientCloseCode})`);
  };
  client.pipe(upstream, { end: false });
  client.once('end', () => {
    if (!uploadCut()) upstream.end();
  });
  // Known before the upstream's end arrives (its own close listener came first): the download's end
  // is passed on only when the far edge ended it in order, never when that edge went away.
  let peerClosed: number | undefined;
  /** The far edge's end (its empty message) came before any close: the download ended in order. */
  let downloadEnded = false;
  upstream.pipe(client, { end: false });
  upstream.once('end', () => {
    if (peerClosed === undefined) downloadEnded = true;
    if (downloadEnded || isOrderly(peerClosed)) client.end();
  });
  /** Bounds the wait for the upload to drain after the client left, whatever the far side does. */
  let drainLimit: NodeJS.Timeout | undefined;
  const end = () => {
    if (ended) return;
    ended = true;
    release();
    clearTimeout(grace);
    clearTimeout(drainLimit);
    recordStreamEnd(deps, about, { bytesUp, bytesDown, started, outcome: `${outcome} (relayed to another edge)` });
    if (peer.readyState === peer.OPEN) peer.close(CLOSE.normal);
  };
  let clientClosed = false;
  ws.once('close', (code, reason) => {
    clientClosed = true;
    clientCloseCode = code;
    if (outcome === 'closed') outcome = closeOutcome(code, reason.toString('utf8'));
    // The far edge is already gone: nothing is left to drain there.
    if (peerClosed !== undefined) return end();
    upstream.unpipe(client);
    upstream.resume();
    if (uploadCut()) return cutUpload();
    drainLimit = setTimeout(() => (peer.terminate(), end()), 2 * ORIGIN_GRACE_MS);
    drainLimit.unref();
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
    // Once both ways have ended (the download's end arrived, the upload's went out), the relay
    // WebSocket's own stream drops it (ws terminates it, 1006, not waiting for that edge's close):
    // in order. An end of the download alone leaves the upload cut by a 1006.
    const orderly = isOrderly(code) || (downloadEnded && upstream.writableFinished);
    if (code === CLOSE.originFailed) outcome = 'error: origin failed (at the relay edge)';
    else if (!orderly && code !== CLOSE.accessEnded && outcome === 'closed')
      outcome = `error: the relay edge left (${code})`;
    // The relay edge ended it on purpose (a lock it saw first): the client hears why.
    if (code === CLOSE.accessEnded && outcome === 'closed') outcome = closeOutcome(code, reason.toString('utf8'));
    // In order: what was read from that edge may still be queued toward a slow client (paused
    // for backpressure). It is delivered, then the download's end (above), and only then does the
    // WebSocket close; closing it now would drop the queue and still read as a clean end.
    if (orderly) {
      const closeDelivered = () => {
        if (ws.readyState === ws.OPEN) ws.close(CLOSE.normal);
        end();
      };
      // A client already gone has nothing more to receive.
      if (clientClosed || client.writableFinished) closeDelivered();
      else client.once('finish', closeDelivered);
      return;
    }
    if (code === CLOSE.accessEnded) closeDiscarding(ws, client, code, reason.toString('utf8'));
    // Any other end (that edge killed, 1006, included) is a cut stream: 1011.
    else closeDiscarding(ws, client, CLOSE.originFailed, 'origin failed');
    end();
  });
  return {
    lastActive: () => lastActive,
    end(reason) {
      if (ended) return;
      outcome = `ended: ${reason}`;
      closeDiscarding(ws, client, CLOSE.accessEnded, reason);
      // The far edge cancels its origin stream on this code rather than waiting for the origin.
      if (peer.readyState === peer.OPEN) peer.close(CLOSE.accessEnded, reason);
      end();
    },
  };
}

/** Close 1000, or 1005 from a peer that gives no code, is the only orderly close. */
function isOrderly(code: number | undefined): boolean {
  return code === CLOSE.normal || code === CLOSE.noStatus;
}
