// The client's end of a plain (not resumable) stream: the local socket piped both ways to the
// tunnel WebSocket. The local program reads an orderly end (FIN) only when the stream ended in
// order; any other end (close 1011 origin failed, 1006 edge gone, 1008 access ended, a protocol
// error) resets its socket (RST), so a cut transfer is never mistaken for a complete one.
import type net from 'node:net';
import { pipeline, type Duplex } from 'node:stream';
import { CLOSE } from '../shared/constants.js';
import { AirlockError } from '../shared/errors.js';
import { endOnlyAfterFin, resetSocket } from '../shared/socket-reset.js';
import { coalesceWrites, webSocketStream } from '../shared/websocket-stream.js';
import type { OpenTunnel } from './tunnel-dial.js';

export interface PlainCarryOptions {
  local: net.Socket;
  tunnel: OpenTunnel;
  /** Called once when the stream is over; with an error when it did not end in order. */
  onEnd: (error?: AirlockError) => void;
}

export function carryPlain({ local, tunnel: opened, onEnd }: PlainCarryOptions): void {
  const { ws, socket: edgeSocket, halfClose } = opened;
  let ended = false;
  // Said before the reset: the local socket's 'close' would otherwise report a plain end first.
  const resetWith = (error: AirlockError | undefined) => {
    end(error);
    resetSocket(local);
  };
  const end = (error?: AirlockError) => {
    if (ended) return;
    ended = true;
    onEnd(error);
  };
  // Registered before the stream's own listener, so the code is known when the tunnel's end arrives.
  let closedWith: { code: number; reason: string } | undefined;
  /** Half-close: the edge's empty message ended the download, before any close. */
  let peerEnded = false;
  /** Both ways ended in order: whatever close follows (ws drops the socket itself, 1006) is no failure. */
  const completed = () => peerEnded && tunnel.writableFinished;
  ws.once('close', (code, reason) => {
    closedWith = { code, reason: reason.toString('utf8').slice(0, 123) };
    // The download had already ended in order, but the upload has nowhere to go now: reset.
    if (!isOrderly(code) && !completed() && local.writableFinished && !local.destroyed)
      resetWith(endError(undefined, closedWith));
  });
  const tunnel = webSocketStream(ws, edgeSocket, { halfClose });
  tunnel.once('end', () => (peerEnded = closedWith === undefined));
  if (!halfClose) lingerAfterLocalEnd(tunnel);
  finOnlyInOrder(
    local,
    () => peerEnded || closedWith === undefined || isOrderly(closedWith.code),
    () => endError(undefined, closedWith),
  );
  // A protocol error destroys the tunnel; pipeline would then end the local socket with a FIN.
  tunnel.once('error', (error: NodeJS.ErrnoException) => {
    if (local.destroyed) return; // the local program left first: pipeline passes its error on
    const why = closedWith ? endError(undefined, closedWith) : undefined;
    resetWith(
      why ??
        new AirlockError(
          'EDGE_UNREACHABLE',
          `the connection to the edge failed mid-stream (${error.code ?? error.message})`,
        ),
    );
  });
  coalesceWrites(tunnel, local);
  local.resume();
  // The local program's end goes on as the upload's end only when it was a FIN, not a reset.
  endOnlyAfterFin(tunnel, local);
  pipeline(local, tunnel, local, (error) => {
    end(completed() ? undefined : endError(error, closedWith));
    local.destroy();
  });

  /**
   * The local socket's FIN goes out (net.Socket._final) once every byte before it has been written;
   * at that moment, a stream that did not end in order resets the socket instead.
   */
  function finOnlyInOrder(socket: net.Socket, orderly: () => boolean, why: () => AirlockError | undefined): void {
    const sendFin = socket._final.bind(socket);
    socket._final = (callback) => {
      if (orderly()) return sendFin(callback);
      // No FIN requested yet, though end() was called: the reset is still possible here.
      end(why());
      socket.resetAndDestroy();
      callback();
    };
  }
}

/**
 * Close 1000 (1005 from a peer that gives no code) is the only orderly close. With half-close, an
 * orderly download ends with the edge's empty message, before any close: `orderly` is then true.
 */
function isOrderly(code: number): boolean {
  return code === CLOSE.normal || code === CLOSE.noStatus;
}

function endError(
  error: NodeJS.ErrnoException | null | undefined,
  closedWith: { code: number; reason: string } | undefined,
): AirlockError | undefined {
  if (error && !isBenignClose(error))
    return new AirlockError('ORIGIN_FAILED', `tunnel closed: ${describeClose(error)}`);
  if (!closedWith || isOrderly(closedWith.code)) return undefined;
  if (closedWith.code === CLOSE.accessEnded)
    return new AirlockError('ACCESS_ENDED', `the edge ended the connection: ${closedWith.reason || 'access ended'}`);
  if (closedWith.code === CLOSE.originFailed)
    return new AirlockError(
      'ORIGIN_FAILED',
      `the service's origin failed mid-connection (edge closed the tunnel: ${closedWith.reason || 'origin failed'})`,
    );
  // After the local program left (a benign error), 1006 is this end's own: the tunnel was dropped.
  if (closedWith.code === CLOSE.abnormal)
    return error
      ? undefined
      : new AirlockError(
          'EDGE_UNREACHABLE',
          'the connection to the edge was lost mid-stream (1006); the transfer was cut',
        );
  return new AirlockError(
    'EDGE_ERROR',
    `the edge closed the tunnel (${closedWith.code}${closedWith.reason ? `: ${closedWith.reason}` : ''})`,
  );
}

/**
 * Only for an edge that does not carry half-close (HEADER.halfClose; older edges): there the local
 * program's FIN (e.g. `printf 'PING\r\n' | nc -q1`) would close the tunnel before the answer comes
 * back. Closing waits until the edge has been quiet for HALF_CLOSE_IDLE_MS, so replies (and
 * downloads with stdin at EOF) still arrive.
 */
const HALF_CLOSE_IDLE_MS = 1500;

function lingerAfterLocalEnd(tunnel: Duplex): void {
  let lastReceived = Date.now();
  tunnel.on('data', () => (lastReceived = Date.now()));
  const closeTunnel = tunnel._final.bind(tunnel);
  tunnel._final = (callback) => {
    const check = () => {
      if (tunnel.destroyed || tunnel.readableEnded) return closeTunnel(callback);
      const quietFor = Date.now() - lastReceived;
      if (quietFor >= HALF_CLOSE_IDLE_MS) return closeTunnel(callback);
      setTimeout(check, HALF_CLOSE_IDLE_MS - quietFor).unref();
    };
    lastReceived = Math.max(lastReceived, Date.now() - HALF_CLOSE_IDLE_MS / 2);
    check();
  };
}

function isBenignClose(error: NodeJS.ErrnoException): boolean {
  // The local program closing its end first is the normal way a session ends.
  return error.code === 'ECONNRESET' || error.code === 'EPIPE' || error.code === 'ERR_STREAM_PREMATURE_CLOSE';
}

function describeClose(error: Error): string {
  return error.message.replace(
    /^WebSocket was closed before the connection was established$/,
    'edge closed the tunnel',
  );
}
