// The client's end of a resumable stream (docs/architecture.md "Resumable streams"): the local
// socket piped to a ResumableStream carried by the tunnel WebSocket; when the WebSocket breaks
// before both ways have ended, the edge is dialled again (any edge behind the balancer) with the
// resume token until the stream is reattached or its window passes. Any end that cannot be
// resumed resets the local socket (RST), so a cut transfer never looks complete.
import type net from 'node:net';
import WebSocket from 'ws';
import { pipeline } from 'node:stream';
import { CLOSE, DEFAULTS, HEADER, RESUME } from '../shared/constants.js';
import { AirlockError, isAirlockError } from '../shared/errors.js';
import { ResumableStream, StreamResetError } from '../shared/resumable-stream.js';
import { endOnlyAfterFin, resetSocket } from '../shared/socket-reset.js';
import { interceptMessages, webSocketStream } from '../shared/websocket-stream.js';
import type { OpenTunnel } from './tunnel-dial.js';

export interface ResumableCarryOptions {
  local: net.Socket;
  tunnel: OpenTunnel & { resume: NonNullable<OpenTunnel['resume']> };
  /** Dials the edge again with these extra headers (the credential is fetched afresh). */
  redial: (headers: Record<string, string>) => Promise<OpenTunnel>;
  /** The stream waits for a new tunnel, or has one again. */
  onState?: (state: 'reconnecting' | 'resumed') => void;
  /** Called once when the stream is over; with an error when it was reset. */
  onEnd: (error?: AirlockError) => void;
}

/** Refusals that no retry can change: the stream is gone, or the credential no longer admits it. */
const FINAL_REFUSALS = new Set(['RESUME_REFUSED', 'AUTH_REQUIRED', 'ACCESS_DENIED', 'APP_NOT_FOUND', 'BAD_ARGUMENT']);

export function carryResumable({ local, tunnel, redial, onState, onEnd }: ResumableCarryOptions): ResumableStream {
  const { token, windowMs, bufferBytes } = tunnel.resume;
  const session = new ResumableStream({
    windowMs: windowMs + RESUME.clientGraceMs,
    bufferBytes,
    maxFrameBytes: DEFAULTS.maxFrameBytes,
  });
  let endedByEdge: AirlockError | undefined;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    const reset = session.errored;
    if (endedByEdge) onEnd(endedByEdge);
    else if (reset instanceof StreamResetError && reset.peerSocketFailed)
      onEnd(
        new AirlockError(
          'ORIGIN_FAILED',
          "the service's origin failed mid-connection (the connector reset the stream)",
        ),
      );
    else if (reset instanceof StreamResetError)
      onEnd(new AirlockError('RESUME_REFUSED', `connection reset: ${reset.message}`));
    else onEnd(); // the local program closed or reset its end: the normal ways to leave
  };
  // Registered before pipeline's listeners, which would close the local socket with a FIN first.
  // The end is reported at once, before the socket's 'close' (a tick later) reports it without a cause.
  session.once('error', () => {
    resetSocket(local);
    end();
  });
  // The local program's end goes on as a FIN frame only when it was a FIN, not a reset.
  endOnlyAfterFin(session, local);
  pipeline(local, session, local, end);
  // Close 1008: the edge ended the stream on purpose (sign-out, lock, expiry, idle); resuming
  // would only be refused, so the stream ends now, with the edge's reason.
  const attach = (next: OpenTunnel) => {
    next.ws.once('close', (code, reason) => {
      if (code !== CLOSE.accessEnded || session.destroyed) return;
      const why = reason.toString('utf8').slice(0, 123) || 'access ended';
      endedByEdge = new AirlockError('ACCESS_ENDED', `the edge ended the connection: ${why}`);
      session.abort(why);
    });
    session.attach(transportOf(next));
  };
  attach(tunnel);

  let resuming = false;
  const start = () => {
    if (resuming) return;
    resuming = true;
    onState?.('reconnecting');
    void resume().finally(() => {
      resuming = false;
      // The new tunnel may have broken while this loop was finishing.
      if (!session.destroyed && !session.attached) start();
    });
  };
  session.on('detached', start);

  async function resume(): Promise<void> {
    const deadline = (session.detachedAt ?? Date.now()) + windowMs + RESUME.clientGraceMs;
    let delay: number = RESUME.retryBaseMs;
    let noConnectorSince: number | undefined;
    while (!session.destroyed && !session.attached) {
      if (Date.now() >= deadline) {
        session.abort(`not resumed within ${Math.round(windowMs / 1000)} s`);
        return;
      }
      try {
        const { sent, received } = session.offsets;
        const next = await redial({ [HEADER.resumeToken]: token, [HEADER.resumeOffsets]: `${received},${sent}` });
        if (session.destroyed) {
          next.ws.terminate();
          return;
        }
        attach(next);
        onState?.('resumed');
        return;
      } catch (error) {
        if (isAirlockError(error) && FINAL_REFUSALS.has(error.code)) {
          session.abort(`resume refused: ${error.message}`);
          return;
        }
        // A connector that holds the stream reconnects within seconds; one that stays away is gone,
        // unless the edge says it may come back (Retry-After: its edge went silent, or restarted).
        let until = deadline;
        const mayReturn = isAirlockError(error) && error.details.retryAfterSeconds !== undefined;
        // Other failures in between (a timeout under load) neither restart the count nor delay the
        // answer that ends it.
        if (mayReturn) noConnectorSince = undefined;
        else if (isAirlockError(error) && error.code === 'NO_CONNECTOR') {
          noConnectorSince ??= Date.now();
          if (Date.now() - noConnectorSince >= RESUME.noConnectorGiveUpMs) {
            session.abort(
              `the connector holding the stream stayed unreachable for ${Math.round((Date.now() - noConnectorSince) / 1000)} s (${error.message})`,
            );
            return;
          }
        }
        // The last try falls when the give-up is due, not a long backoff step after it.
        if (noConnectorSince !== undefined) until = Math.min(deadline, noConnectorSince + RESUME.noConnectorGiveUpMs);
        // Never a busy loop: past the give-up time, other failures still wait the first step.
        const wait = Math.max(Math.min(delay, until - Date.now()), RESUME.retryBaseMs);
        await new Promise((resolve) => setTimeout(resolve, wait));
        delay = Math.min(delay * 2, RESUME.retryMaxMs);
      }
    }
  }
  return session;
}

/**
 * The WebSocket as the session's transport. Its end must be seen even while the session has it
 * paused (a slow local reader): a paused stream emits no 'end', so the close destroys it.
 */
function transportOf({ ws, socket }: OpenTunnel) {
  const transport = webSocketStream(ws, socket);
  ws.once('close', () => transport.destroy());
  // The edge half-closes (an empty message, HEADER.halfClose) when its stream to the connector
  // ends; in a framed stream that is the transport ending, never the data's end (a FIN frame).
  interceptMessages(ws, (data) => {
    if (data.length > 0) return false;
    transport.destroy();
    return true;
  });
  watchLiveness(ws);
  return transport;
}

/**
 * A black-holed path (a dead Wi-Fi, a NAT that forgot us) shows no error for minutes: ping every
 * RESUME.pingIntervalMs and drop the tunnel when two intervals pass without a pong or data, so
 * the stream is resumed on a fresh one. Silence proves nothing while we are not reading (a slow
 * local program) or were not running (a tick far too late: the process was stopped or asleep).
 */
function watchLiveness(ws: WebSocket): void {
  let heardAt = Date.now();
  let tickedAt = Date.now();
  const heard = () => (heardAt = Date.now());
  ws.on('pong', heard);
  ws.on('message', heard);
  const timer = setInterval(() => {
    const now = Date.now();
    const late = now - tickedAt > 2 * RESUME.pingIntervalMs;
    tickedAt = now;
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.isPaused || late) heard();
    else if (now - heardAt > 2 * RESUME.pingIntervalMs) return ws.terminate();
    ws.ping();
  }, RESUME.pingIntervalMs);
  timer.unref();
  ws.once('close', () => clearInterval(timer));
}
