// Serves the CONNECT streams the edge opens: check ingress, dial the origin, pipe both ways.
import http2 from 'node:http2';
import net from 'node:net';
import { PassThrough, pipeline } from 'node:stream';
import { DEFAULTS, HEADER } from '../shared/constants.js';
import type { Logger } from '../shared/logger.js';
import { formatHostPort } from '../shared/host.js';
import { STREAM_ASSERTION } from '../shared/stream-assertion.js';
import { coalesceWrites } from '../shared/websocket-stream.js';
import { resetSocket, unlessReset } from '../shared/socket-reset.js';
import { resolveIngress, type IngressRule } from './ingress.js';
import type { StreamVerifier } from './stream-verifier.js';
import { carryResumable, resumeHeld } from './resumable-carry.js';
import { parseResumeLimits, type ResumableOrigins } from './resumable-origins.js';
import { recordStreamEnd, type ConnectorMetrics } from './connector-metrics.js';

export interface StreamCounters {
  active: number;
  metrics?: ConnectorMetrics;
}

export async function serveOriginStream(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  rules: IngressRule[],
  counters: StreamCounters,
  log: Logger,
  verifier: StreamVerifier,
  resumable?: ResumableOrigins,
): Promise<void> {
  stream.on('error', () => {}); // reported by the pipeline below or by the refusal paths
  const streamId = String(headers[HEADER.streamId] ?? '');
  const hostname = String(headers[HEADER.appHostname] ?? '');
  const authority = String(headers[':authority'] ?? '');
  const refuse = (status: number, reason: string) => {
    if (stream.destroyed || stream.headersSent) return;
    counters.metrics?.streamsEnded.inc({ reason: status === 502 ? 'dial_failed' : 'refused' });
    stream.respond({ ':status': status, [HEADER.refusal]: reason }, { endStream: true });
  };
  if (headers[':method'] !== 'CONNECT') return refuse(400, 'only CONNECT streams are served');

  const decision = resolveIngress(rules, hostname, authority);
  if (!decision.allowed) {
    log.warn({ streamId, hostname, authority, reason: decision.reason }, 'stream refused by ingress rules');
    return refuse(403, decision.reason);
  }

  const assertion = headers[STREAM_ASSERTION.header];
  const problem = await verifier.check(typeof assertion === 'string' ? assertion : undefined, {
    hostname,
    authority,
    streamId,
  });
  if (problem) {
    log.warn({ streamId, hostname, authority, reason: problem }, 'stream refused: edge assertion not valid');
    return refuse(403, problem);
  }

  // Resumable streams (docs/architecture.md "Resumable streams"): a resume reattaches a held origin
  // socket; a new stream asks for one when the edge passed the client's request on.
  const resumeToken = headers[HEADER.resumeToken];
  if (typeof resumeToken === 'string') {
    if (!resumable) return refuse(404, 'this connector does not resume streams');
    return resumeHeld(stream, headers, streamId, resumeToken, resumable, log);
  }
  const resumeLimits = resumable ? parseResumeLimits(headers[HEADER.resume]) : undefined;

  counters.active++;
  const started = Date.now();
  // Half-open: the origin's FIN ends only the download; with auto-end, pipeline(stream, origin) would
  // finish early and destroy the stream under the download's last bytes.
  const origin = net.connect({
    host: decision.origin.host,
    port: decision.origin.port,
    noDelay: true,
    allowHalfOpen: true,
  });
  origin.setTimeout(DEFAULTS.connectTimeoutMs, () =>
    origin.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
  );
  let connected = false;
  origin.once('connect', () => {
    connected = true;
    counters.metrics?.dialSeconds.observe((Date.now() - started) / 1000);
    counters.metrics?.streamsOpened.inc();
    counters.metrics?.streamsOpen.inc();
    origin.setTimeout(0);
    if (stream.destroyed) return origin.destroy();
    if (resumeLimits && resumable) {
      const fields = { streamId, hostname, origin: formatHostPort(decision.origin), started };
      return carryResumable(stream, headers, origin, resumeLimits, resumable, { counters, log, fields });
    }
    stream.respond({ ':status': 200 });
    // A fixed set per stream, not a leak: two pipelines, the cut checks, tracking and the ending
    // below put 11 'close' listeners on it, one past Node's warning.
    stream.setMaxListeners(16);
    coalesceWrites(stream, origin);
    let failure: Error | undefined;
    const fail = (error: Error | null | undefined) => {
      if (!error || failure) return;
      failure = error;
      // An origin failure resets the stream (RST_STREAM INTERNAL_ERROR) so the edge can tell the
      // client (close 1011). destroy(error), not close(code): close() emits 'aborted', on which the
      // other pipeline destroys the stream before close() has sent its RST_STREAM, and nghttp2 keeps
      // that stream's DATA for good (see dropStreamsFirst in connector.ts). Once destroyed, the stream
      // sends its RST_STREAM whatever the pipelines do.
      if (!stream.destroyed) stream.destroy(error);
      resetSocket(origin);
    };
    // A stream cut under us (the edge gone, the stream cancelled) resets the origin: 'aborted' comes
    // first, before the pipelines close the origin socket with a FIN.
    const resetIfCut = () => {
      if (wasCut(stream)) resetSocket(origin);
    };
    stream.once('aborted', resetIfCut);
    stream.once('close', resetIfCut);
    // Two one-way pipelines rather than pipeline(stream, origin, stream): that one destroys the stream
    // when the origin's side ends, and the RST_STREAM discards DATA still waiting for flow-control
    // window (the tail of a download). The stream closes when both sides are done or the edge resets it.
    // The upload's end reaches the origin as a FIN only when it was the edge's END_STREAM.
    pipeline(stream, unlessCut(stream, origin), origin, fail);
    // The download ends the stream only once the origin's end is known to be a FIN, not a reset.
    pipeline(origin, unlessReset(origin), stream, fail);
    stream.once('close', () => {
      counters.active--;
      origin.destroy();
      recordStreamEnd(counters.metrics, origin, failure);
      const fields = {
        streamId,
        hostname,
        origin: formatHostPort(decision.origin),
        bytesUp: origin.bytesWritten,
        bytesDown: origin.bytesRead,
        durationMs: Date.now() - started,
      };
      if (failure && (failure as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE')
        log.info({ ...fields, error: failure.message }, 'stream ended with error');
      else log.debug(fields, 'stream closed');
    });
  });
  origin.once('error', (error: NodeJS.ErrnoException) => {
    if (connected) return; // the pipeline reports it
    counters.active--;
    counters.metrics?.dialErrors.inc({ code: error.code ?? 'error' });
    const reason = `origin ${formatHostPort(decision.origin)} is unreachable (${error.code ?? error.message})`;
    log.warn({ streamId, hostname, reason }, 'origin dial failed');
    refuse(502, reason);
  });
}

/**
 * Whether the stream ended other than by both END_STREAMs: Node ends the readable side of a stream it
 * cancels as well (NGHTTP2_CANCEL, 'aborted', when the connection to the edge closes under it), and
 * sets its rstCode first.
 */
function wasCut(stream: http2.ServerHttp2Stream): boolean {
  const code = stream.rstCode;
  return stream.aborted || (code !== undefined && code !== http2.constants.NGHTTP2_NO_ERROR);
}

/** In the upload's pipeline: a readable end that was a cut resets the origin instead of ending it. */
function unlessCut(stream: http2.ServerHttp2Stream, origin: net.Socket): PassThrough {
  const check = new PassThrough();
  check._flush = (done) => {
    if (!wasCut(stream)) return done();
    resetSocket(origin);
    done(Object.assign(new Error('the stream from the edge was cut'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
  };
  return check;
}
