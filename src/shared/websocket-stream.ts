// The byte stream over one tunnel WebSocket, used by the client and the edge alike, and a helper
// that batches the small writes one socket read fans out into. Both exist for throughput
// (docs/performance.md): fewer frames, TLS records and syscalls per megabyte.
import type { Socket } from 'node:net';
import type { Readable, Writable, Duplex } from 'node:stream';
import { createWebSocketStream, type WebSocket } from 'ws';

/** Bytes the stream buffers each way before applying backpressure. */
export const TUNNEL_STREAM_HIGH_WATER_MARK = 256 * 1024;

/**
 * createWebSocketStream writes one message per chunk and waits for each to reach the socket, which
 * TLS acknowledges only on the next event-loop turn. Chunks that queued meanwhile are sent together
 * here, under one cork of the TLS socket, so they leave as one TLS write instead of one per turn.
 */
export function webSocketStream(ws: WebSocket, socket: Socket | Duplex): Duplex {
  const duplex = createWebSocketStream(ws, { highWaterMark: TUNNEL_STREAM_HIGH_WATER_MARK });
  duplex._writev = (chunks, callback) => {
    if (ws.readyState !== ws.OPEN) {
      callback(new Error(`WebSocket is not open: readyState ${ws.readyState}`));
      return;
    }
    socket.cork();
    const last = chunks.length - 1;
    for (let index = 0; index < last; index++) ws.send(chunks[index]!.chunk as Buffer);
    ws.send(chunks[last]!.chunk as Buffer, callback);
    socket.uncork();
  };
  return duplex;
}

/**
 * One socket read can fan out into many chunks in the same tick: a TLS read of 64 KB carries four
 * 16 KB records, so HTTP/2 hands over DATA in pieces, and WebSocket messages arrive several at once.
 * Corking the destination until the tick ends turns those into one writev.
 */
export function coalesceWrites(source: Readable, destination: Writable): void {
  let corked = false;
  const uncork = () => {
    corked = false;
    destination.uncork();
  };
  source.on('data', () => {
    if (corked || destination.destroyed) return;
    corked = true;
    destination.cork();
    process.nextTick(uncork);
  });
}
