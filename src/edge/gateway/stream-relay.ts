// One client WebSocket relayed to one CONNECT stream on a connector, with backpressure both ways,
// until both ways have ended (docs/architecture.md "Client ↔ edge", closing and half-close).
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { ACCESS_ENDED_RST_CODE, CLOSE, DEFAULTS } from '../../shared/constants.js';
import { PayloadMeter } from '../../shared/resumable-frames.js';
import type { Logger } from '../../shared/logger.js';
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

/**
 * Relays one client WebSocket and one CONNECT stream until both ways have ended. Every byte the
 * edge read from either side is delivered whatever way the other side leaves: a close frame, a
 * FIN or RST without one (cloudflared ends every stream so), or a half-close.
 */
export function relayToConnector(
  ws: WebSocket,
  socket: Duplex,
  stream: http2.ClientHttp2Stream,
  { release, ...about }: StreamAbout,
  halfClose: boolean,
  deps: StreamDeps & { log: Logger },
  framed = false,
): StreamHandle {
  const started = Date.now();
  let lastActive = started;
  let bytesUp = 0;
  let bytesDown = 0;
  let ended = false;
  let endedFirst: 'client' | 'origin' | undefined;
  let outcome = 'closed';
  deps.metrics.activeStreams.inc();
  /** `onPurpose`: access ended (close 1008); the connector drops a resumable stream at once. */
  const end = (onPurpose = false) => {
    if (ended) return;
    ended = true;
    release();
    clearTimeout(originGrace);
    recordStreamEnd(deps, about, { bytesUp, bytesDown, started, outcome, endedFirst: endedFirst ?? 'client' });
    // On purpose: a bare RST_STREAM (no END_STREAM first), whose code the connector reads.
    if (!stream.destroyed)
      if (onPurpose) resetStream(stream, ACCESS_ENDED_RST_CODE);
      else stream.close(http2.constants.NGHTTP2_CANCEL);
  };
  let originGrace: NodeJS.Timeout | undefined;
  const tunnel = webSocketStream(ws, socket, { halfClose });
  tunnel.on('error', () => {}); // the WebSocket's 'close' below says how it ended
  refuseTextFrames(ws, () => {
    deps.log.warn({ streamId: about.streamId, app: about.app }, 'text frame refused (close 1003)');
    outcome = 'refused: text frame';
    end();
  });
  // A resumable stream (framed) is counted in payload bytes, each byte once however often replayed.
  // Its half-close is a FIN frame, not the WebSocket's end: the meter tells which side ended first.
  const count = framed ? payloadCounter(() => (endedFirst ??= 'client')) : (chunk: Buffer) => chunk.length;
  const countDown = framed ? payloadCounter(() => (endedFirst ??= 'origin')) : count;
  tunnel.on('data', (chunk: Buffer) => ((bytesUp += count(chunk)), (lastActive = Date.now())));
  tunnel.once('end', () => (endedFirst ??= 'client'));
  stream.on('data', (chunk: Buffer) => ((bytesDown += countDown(chunk)), (lastActive = Date.now())));
  stream.once('end', () => (endedFirst ??= 'origin'));
  coalesceWrites(stream, socket);
  const originFailed = (why: string) => {
    if (outcome === 'closed') outcome = `error: ${why}`;
    closeDiscarding(ws, tunnel, CLOSE.originFailed, 'origin failed');
  };
  // pipe(), not pipeline(): when the origin fails, the bytes already relayed and then close 1011
  // must reach the client; pipeline() would terminate the WebSocket before either is flushed.
  // The upload's end reaches the connector as END_STREAM (a FIN to the origin) only after every
  // byte read from the client, however a plain client (cloudflared) left. A client that carries
  // half-close ends its upload with an empty message: its WebSocket ending without one (1006, a
  // protocol error) cut the upload, and the connector is told by RST_STREAM (the origin gets a RST).
  let clientClosed: number | undefined;
  const uploadCut = () =>
    halfClose &&
    !framed &&
    clientClosed !== undefined &&
    clientClosed !== CLOSE.normal &&
    clientClosed !== CLOSE.noStatus;
  const endUpload = () => {
    if (stream.writableEnded || stream.destroyed) return;
    if (uploadCut()) resetStream(stream);
    else stream.end();
  };
  tunnel.pipe(stream, { end: false });
  tunnel.once('end', endUpload);
  // The download's end is passed on only when it was the connector's END_STREAM: a stream cut
  // under it (its connection lost, a RST_STREAM, the session destroyed) also ends the readable
  // side, and must reach the client as close 1011, never as a clean end.
  stream.pipe(tunnel, { end: false });
  stream.once('end', () => {
    const cut = cutCode(stream);
    if (cut === undefined) tunnel.end();
    else originFailed(`the stream to the connector was cut (${cut})`);
  });
  stream.once('error', (error) => {
    originFailed(error.message);
    end();
  });
  // The stream closes when both ways have ended (or the connector resets it). A reset, or a
  // session torn down, comes without an 'error'; pipe() would then leave the WebSocket open.
  stream.once('close', () => {
    if (!stream.readableEnded || cutCode(stream) !== undefined) originFailed('the connector closed the stream');
    end();
  });
  ws.once('close', (code, reason) => {
    clientClosed = code;
    if (outcome === 'closed') outcome = closeOutcome(code, reason.toString('utf8'));
    // Access ended at the relaying edge (several edges): the origin is cancelled here too, at once.
    if (code === CLOSE.accessEnded) return end(true);
    // The client is gone: the origin's replies have nowhere to go. Its upload still drains into
    // the stream; once that has gone out, the origin gets ORIGIN_GRACE_MS to finish before reset.
    stream.unpipe(tunnel);
    stream.resume();
    // A protocol error destroys the tunnel before its end: what it had read is already in the
    // stream, so end that too rather than leave the origin waiting.
    if (tunnel.destroyed) endUpload();
    const grace = () => {
      originGrace = setTimeout(end, ORIGIN_GRACE_MS);
      originGrace.unref();
    };
    if (stream.writableFinished) grace();
    else stream.once('finish', grace);
  });
  return {
    lastActive: () => lastActive,
    end(reason) {
      if (ended) return;
      outcome = `ended: ${reason}`;
      closeDiscarding(ws, tunnel, CLOSE.accessEnded, reason);
      end(true);
    },
  };
}

/**
 * Why a stream whose readable side ended was not ended by the connector's END_STREAM, or
 * undefined when it was: Node also ends the readable side of a stream it cancels (NGHTTP2_CANCEL,
 * 'aborted', when the connection to the connector closes under it).
 */
function cutCode(stream: http2.ClientHttp2Stream): string | undefined {
  const code = stream.rstCode;
  if (code !== undefined && code !== http2.constants.NGHTTP2_NO_ERROR) return `HTTP/2 code ${code}`;
  return stream.aborted ? 'aborted' : undefined;
}

/**
 * RST_STREAM without END_STREAM before it. close() ends the writable side first, and Node flushes
 * that END_STREAM ahead of the RST_STREAM, so the connector would see a clean end (a FIN to the
 * origin) before the reset. An empty write still in flight holds the END_STREAM back until the
 * reset has closed the stream.
 */
function resetStream(stream: http2.ClientHttp2Stream, code: number = http2.constants.NGHTTP2_CANCEL): void {
  stream.write(Buffer.alloc(0));
  stream.close(code);
}

function payloadCounter(onEnd: () => void): (chunk: Buffer) => number {
  const meter = new PayloadMeter(DEFAULTS.maxFrameBytes);
  return (chunk) => {
    const before = meter.bytes;
    meter.push(chunk);
    if (meter.ended) onEnd();
    return meter.bytes - before;
  };
}

/**
 * The tunnel carries raw TCP bytes in binary frames; a text frame is not ours to interpret, so it is
 * refused with 1003 (RFC 6455 §7.4.1) and none of it is forwarded. createWebSocketStream forwards
 * every message, so its listener is wrapped to see binary ones only.
 */
function refuseTextFrames(ws: WebSocket, onText: () => void): void {
  let refused = false;
  interceptMessages(ws, (_data, isBinary) => {
    if (refused) return true;
    if (isBinary) return false;
    refused = true;
    ws.close(CLOSE.unsupportedData, 'binary frames only');
    onText();
    return true;
  });
}
