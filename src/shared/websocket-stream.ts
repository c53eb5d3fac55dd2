// The byte stream over one tunnel WebSocket, used by the client and the edge alike, and a helper
// that batches the small writes one socket read fans out into. Both exist for throughput
// (docs/performance.md): fewer frames, TLS records and syscalls per megabyte.
import type { Socket } from 'node:net';
import type { Readable, Writable, Duplex } from 'node:stream';
import { createWebSocketStream, type WebSocket } from 'ws';
import { CLOSE, DEFAULTS } from './constants.js';

/** Bytes the stream buffers each way before applying backpressure. */
export const TUNNEL_STREAM_HIGH_WATER_MARK = 256 * 1024;

export interface WebSocketStreamOptions {
  /**
   * Both ends agreed (the HEADER.halfClose request header, echoed on the 101) to carry TCP
   * half-close: an empty binary message means "no more bytes this way", and the WebSocket closes
   * once both ways have ended. Without it, ending the stream closes the WebSocket.
   */
  halfClose?: boolean;
}

/**
 * createWebSocketStream writes one message per chunk and waits for each to reach the socket, which
 * TLS acknowledges only on the next event-loop turn. Chunks that queued meanwhile are sent together
 * here, under one cork of the TLS socket, so they leave as one TLS write instead of one per turn.
 */
export function webSocketStream(ws: WebSocket, socket: Socket | Duplex, options: WebSocketStreamOptions = {}): Duplex {
  // A clean end is "normal closure" (1000, RFC 6455); ws closes without a code (1005) by default.
  const close = ws.close.bind(ws);
  ws.close = (code?: number, data?: string | Buffer) => close(code ?? CLOSE.normal, data);
  keepAlive(ws);
  const duplex = createWebSocketStream(ws, { highWaterMark: TUNNEL_STREAM_HIGH_WATER_MARK });
  duplex._writev = (chunks, callback) => {
    // The peer has left: what is still written this way has nowhere to go. Dropping it (rather
    // than failing the write) keeps the stream alive, and with it the bytes the peer sent before
    // leaving, which are still buffered on the readable side and must reach the other end.
    if (ws.readyState !== ws.OPEN) return callback();
    socket.cork();
    const last = chunks.length - 1;
    for (let index = 0; index < last; index++) ws.send(chunks[index]!.chunk as Buffer);
    ws.send(chunks[last]!.chunk as Buffer, callback);
    socket.uncork();
  };
  duplex._write = (chunk, _encoding, callback) => duplex._writev!([{ chunk, encoding: 'binary' }], callback);
  if (options.halfClose) carryHalfClose(ws, duplex);
  return duplex;
}

const END_OF_STREAM = Buffer.alloc(0);

function carryHalfClose(ws: WebSocket, duplex: Duplex): void {
  let sentEnd = false;
  let receivedEnd = false;
  const closeWhenBothEnded = () => {
    if (sentEnd && receivedEnd && ws.readyState === ws.OPEN) ws.close(CLOSE.normal);
  };
  duplex._final = (callback) => {
    if (ws.readyState !== ws.OPEN) return callback();
    ws.send(END_OF_STREAM, { binary: true }, () => {
      sentEnd = true;
      closeWhenBothEnded();
      callback();
    });
  };
  interceptMessages(ws, (data) => {
    if (data.length > 0) return false;
    receivedEnd = true;
    duplex.push(null);
    closeWhenBothEnded();
    return true;
  });
}

/**
 * Puts `handle` in front of the 'message' listeners already on `ws` (createWebSocketStream's):
 * a message it returns true for is consumed and never reaches them.
 */
export function interceptMessages(ws: WebSocket, handle: (data: Buffer, isBinary: boolean) => boolean): void {
  const forwarders = ws.listeners('message') as ((data: Buffer, isBinary: boolean) => void)[];
  ws.removeAllListeners('message');
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (handle(data, isBinary)) return;
    for (const forward of forwarders) forward.call(ws, data, isBinary);
  });
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

/**
 * Pings keep idle tunnels alive through proxies and NATs (docs/architecture.md "Client ↔ edge"); a peer that sends
 * nothing, not even a pong, for a whole interval is gone, and the tunnel is dropped instead of hanging. A message
 * is life as much as a pong (a busy peer's pong queues behind its data), and while the stream holds reads back
 * (ws paused for backpressure) no pong can be read, so the check waits.
 */
function keepAlive(ws: WebSocket, intervalMs: number = DEFAULTS.pingIntervalMs): void {
  let answered = true;
  const alive = () => (answered = true);
  ws.on('pong', alive);
  ws.on('message', alive);
  const timer = setInterval(() => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.isPaused) return void (answered = true);
    if (!answered) {
      ws.terminate();
      return;
    }
    answered = false;
    ws.ping();
  }, intervalMs);
  timer.unref();
  ws.once('close', () => clearInterval(timer));
}
