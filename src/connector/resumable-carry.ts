// A resumable stream's two moments at the connector: opened (the origin socket piped to a held
// ResumableStream, the token handed back to the edge) and resumed (a new CONNECT stream attached to
// the held one). Every end that is not clean resets the origin socket (RST, not FIN), so a
// truncated transfer is never mistaken for a complete one.
import type http2 from 'node:http2';
import type net from 'node:net';
import { pipeline } from 'node:stream';
import { ACCESS_ENDED_RST_CODE, HEADER } from '../shared/constants.js';
import { endOnlyAfterFin, resetSocket } from '../shared/socket-reset.js';
import type { Logger } from '../shared/logger.js';
import type { StreamCounters } from './origin-streams.js';
import { recordStreamEnd } from './connector-metrics.js';
import { StreamResetError, type ResumableStream } from '../shared/resumable-stream.js';
import { identityKey, type ResumableOrigins, type ResumeLimits } from './resumable-origins.js';

export function carryResumable(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  origin: net.Socket,
  limits: ResumeLimits,
  resumable: ResumableOrigins,
  context: { counters: StreamCounters; log: Logger; fields: Record<string, unknown> & { started: number } },
): void {
  const { counters, log, fields } = context;
  const streamId = String(fields.streamId);
  const edgeId = String(headers[HEADER.edgeId] ?? '');
  const { session, token } = resumable.create(streamId, identityKey(headers[HEADER.identity]), edgeId, limits);
  stream.respond({
    ':status': 200,
    [HEADER.resumeToken]: token,
    [HEADER.resume]: `${limits.windowMs},${limits.bufferBytes}`,
  });
  // Before pipeline's own listeners, which would destroy the socket with a FIN first.
  session.once('error', () => resetSocket(origin));
  origin.once('error', () => undefined);
  session.on('detached', () => log.info({ streamId }, 'resumable stream waiting to be resumed'));
  // The download's end becomes a FIN frame only when the origin's end was a FIN, not a reset.
  endOnlyAfterFin(session, origin);
  pipeline(origin, session, origin, (error) => {
    counters.active--;
    const figures = {
      ...fields,
      started: undefined,
      bytesUp: origin.bytesWritten,
      bytesDown: origin.bytesRead,
      durationMs: Date.now() - fields.started,
    };
    if (error) log.info({ ...figures, error: error.message }, 'resumable stream reset');
    else log.debug(figures, 'stream closed');
    // A reset from the client's side (its program left, or the window passed) is no origin error.
    recordStreamEnd(counters.metrics, origin, error instanceof StreamResetError ? undefined : (error ?? undefined));
  });
  attachUnlessEnded(session, stream);
}

/**
 * Carries the session on `stream`. A stream the edge resets with ACCESS_ENDED_RST_CODE was ended on
 * purpose (sign-out, lock, expiry, idle): no resume will come, so the origin is reset at once
 * instead of being held for the window.
 */
function attachUnlessEnded(session: ResumableStream, stream: http2.ServerHttp2Stream): void {
  // 'aborted' comes before the session's own listeners drop the stream (and with it 'close').
  stream.once('aborted', () => {
    if (stream.rstCode === ACCESS_ENDED_RST_CODE && !session.destroyed) session.abort('access ended at the edge');
  });
  session.attach(stream);
}

export function resumeHeld(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  streamId: string,
  token: string,
  resumable: ResumableOrigins,
  log: Logger,
): void {
  const found = resumable.find(streamId, token, identityKey(headers[HEADER.identity]));
  if ('refusal' in found) {
    log.warn({ streamId, reason: found.refusal }, 'resume refused');
    stream.respond({ ':status': 404, [HEADER.refusal]: found.refusal }, { endStream: true });
    return;
  }
  const { session, edgeId: previousEdge } = found;
  const [clientReceived, clientSent] = String(headers[HEADER.resumeOffsets] ?? '')
    .split(',')
    .map((value) => Number(value));
  const { sent, received } = session.offsets;
  const report = {
    gapMs: session.detachedAt ? Date.now() - session.detachedAt : 0,
    replayDown: Number.isSafeInteger(clientReceived) ? Math.max(0, sent - clientReceived!) : undefined,
    replayUp: Number.isSafeInteger(clientSent) ? Math.max(0, clientSent! - received) : undefined,
    previousEdge,
  };
  resumable.moved(streamId, String(headers[HEADER.edgeId] ?? ''));
  stream.respond({ ':status': 200, [HEADER.resumeReport]: JSON.stringify(report) });
  log.info({ streamId, ...report }, 'stream resumed');
  attachUnlessEnded(session, stream);
}
