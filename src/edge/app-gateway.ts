// Client WebSockets for an application: route by Host, authenticate, apply the policy, open a
// CONNECT stream to a connector, then relay bytes both ways with backpressure.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CLOSE, DEFAULTS, HEADER } from '../shared/constants.js';
import type { EdgeRefusal } from '../shared/edge-response.js';
import { isAirlockError } from '../shared/errors.js';
import { hostnameFromHostHeader } from '../shared/host.js';
import { coalesceWrites, interceptMessages, webSocketStream } from '../shared/websocket-stream.js';
import { describePrincipal, type Principal } from './identity.js';
import type { Logger } from '../shared/logger.js';
import { auditField, type AuditLog } from './audit-log.js';
import { authenticate, type AppTokenVerifier } from './authenticate.js';
import { normaliseAddress } from './cidr.js';
import type { AppConfig, EdgeConfig } from './config.js';
import type { EdgeMetrics } from './metrics.js';
import type { FailureLimiter } from './failure-throttle.js';
import { evaluatePolicy } from './policy.js';
import { writeRawResponse } from './json-answer.js';
import { bridgeToEdge } from './relay-bridge.js';
import { closeOutcome, ORIGIN_GRACE_MS, recordStreamEnd } from './stream-end.js';
import { loginUrl } from './sign-in-urls.js';
import type { TunnelRegistry } from './tunnel-registry.js';
import { STREAM_ASSERTION, type StreamAssertionClaims } from '../shared/stream-assertion.js';

export interface GatewayDeps {
  config: () => EdgeConfig;
  registry: TunnelRegistry;
  audit: AuditLog;
  metrics: EdgeMetrics;
  log: Logger;
  verifyAppToken?: AppTokenVerifier;
  signAssertion?: (claims: StreamAssertionClaims) => string;
  /** Failed service-token attempts per address (brute-force limit); none = unlimited. */
  serviceTokenFailures?: FailureLimiter;
  /** Several edges: opens a relay to an edge holding the tunnel's connector, if any does. */
  relay?: { dial(app: AppConfig, principal: Principal, streamId: string): Promise<WebSocket | undefined> };
}

export type GateResult =
  | { status: 200; app: AppConfig; principal: Principal }
  | { status: 302 | 400 | 403 | 404 | 429; headers: Record<string, string>; body?: EdgeRefusal };

/** What a Host may be: a DNS name or an address (":" for IPv6), at most a DNS name's length. */
const HOST_NAME = /^[a-z0-9.:_-]{1,253}$/;

/** The access decision for a request on an application hostname (used for upgrades and HEAD). */
export async function gate(req: IncomingMessage, deps: GatewayDeps, streamId: string): Promise<GateResult> {
  const config = deps.config();
  const hostname = hostnameFromHostHeader(req.headers.host);
  const ip = normaliseAddress(req.socket.remoteAddress ?? '');
  const record = (decision: 'allow' | 'deny' | 'login', status: number, who: string, reason: string) => {
    deps.audit.write({ event: 'access', streamId, who, app: auditField(hostname ?? ''), ip, decision, reason, status });
    deps.metrics.decisions.inc({ decision });
  };
  // Refused before any lookup: a Host that is no hostname (e.g. 15 KB of padding) names nothing.
  if (!hostname || !HOST_NAME.test(hostname)) {
    record('deny', 400, 'anonymous', 'the Host header is not a hostname');
    return { status: 400, headers: {}, body: { error: 'bad_request', message: 'the Host header is not a hostname' } };
  }
  const app = config.apps.get(hostname);
  if (!app) {
    record('deny', 404, 'anonymous', 'unknown hostname');
    return refusal(404, { error: 'app_not_found', message: `no application is configured for hostname "${hostname}"` });
  }
  const presentsServiceToken = req.headers[HEADER.clientId] !== undefined || req.headers[HEADER.clientSecret] !== undefined;
  const blockedMs = presentsServiceToken ? ((await deps.serviceTokenFailures?.blockedFor(ip)) ?? 0) : 0;
  if (blockedMs > 0) {
    const retryAfter = String(Math.ceil(blockedMs / 1000));
    record('deny', 429, `service-token:${String(req.headers[HEADER.clientId] ?? '').slice(0, 128)}`, 'too many failed service-token attempts from this address');
    return {
      status: 429,
      headers: { 'retry-after': retryAfter },
      body: { error: 'rate_limited', message: `too many failed service-token attempts from this address; try again in ${retryAfter} s` },
    };
  }
  const auth = await authenticate(req.headers, app, config, deps.verifyAppToken);
  if (auth.outcome === 'rejected' && presentsServiceToken && (await deps.serviceTokenFailures?.fail(ip))) {
    deps.log.warn({ ip, app: app.hostname }, 'service-token failure limit reached; refusing this address for a while');
  }
  if (auth.outcome !== 'authenticated') {
    record('login', 302, auth.outcome === 'rejected' ? auth.who : 'anonymous', auth.outcome === 'rejected' ? auth.reason : 'no credentials');
    return {
      status: 302,
      headers: { location: loginUrl(config.publicUrl, app).href, [HEADER.accessAud]: app.aud, [HEADER.accessDomain]: app.hostname },
    };
  }
  const who = describePrincipal(auth.principal);
  const decision = evaluatePolicy(app.policy, { principal: auth.principal, ip });
  if (!decision.allowed) {
    record('deny', 403, who, decision.reason);
    return refusal(403, { error: 'access_denied', message: `${who} is not allowed to reach ${app.hostname}` });
  }
  record('allow', 200, who, decision.reason);
  return { status: 200, app, principal: auth.principal };
}

function refusal(status: 403 | 404, body: EdgeRefusal): GateResult {
  return { status, headers: {}, body };
}

export function createAppGateway(deps: GatewayDeps) {
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: DEFAULTS.maxFrameBytes,
    skipUTF8Validation: true,
    clientTracking: false,
  });
  wss.on('headers', (headers: string[], req: IncomingMessage) => {
    if (wantsHalfClose(req)) headers.push(`${HEADER.halfClose}: 1`);
  });

  /** Open streams per app and identity, so one identity cannot exhaust an origin's connections. */
  const openStreams = new Map<string, number>();
  function claimStream(app: AppConfig, who: string): (() => void) | undefined {
    const key = `${app.hostname}\n${who}`;
    const open = openStreams.get(key) ?? 0;
    if (open >= app.maxStreamsPerIdentity) return undefined;
    openStreams.set(key, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (openStreams.get(key) ?? 1) - 1;
      if (left <= 0) openStreams.delete(key);
      else openStreams.set(key, left);
    };
  }

  async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const streamId = randomUUID();
    const result = await gate(req, deps, streamId);
    if (result.status !== 200) return writeRawResponse(socket, result.status, result.headers, result.body);
    if (!isWebSocketUpgrade(req, socket)) return;
    const { app, principal } = result;
    const who = describePrincipal(principal);
    const release = claimStream(app, who);
    if (!release) {
      const message = `${who} already has ${app.maxStreamsPerIdentity} connections open to ${app.hostname}, the most this edge allows; close some, or ask the edge's administrator to raise apps[].limits.maxStreamsPerIdentity`;
      deps.metrics.streamErrors.inc({ reason: 'identity_limit' });
      deps.audit.write({ event: 'stream-end', streamId, who, app: app.hostname, bytesUp: 0, bytesDown: 0, durationMs: 0, outcome: `refused: ${app.maxStreamsPerIdentity} streams open (per-identity limit)` });
      return writeRawResponse(socket, 429, {}, { error: 'too_many_streams', message });
    }
    await serve(req, socket, head, app, principal, streamId, true, release);
  }

  /** A stream another edge of this deployment relays here (it already applied the policy). */
  async function handleRelayedUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, app: AppConfig, principal: Principal, streamId: string): Promise<void> {
    if (!isWebSocketUpgrade(req, socket)) return;
    deps.metrics.relayedStreams.inc({ direction: 'in' });
    await serve(req, socket, head, app, principal, streamId, false, () => undefined);
  }

  /** Opens the CONNECT stream to a connector here, or (once) relays to an edge that has one. */
  async function serve(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    app: AppConfig,
    principal: Principal,
    streamId: string,
    mayRelay: boolean,
    release: () => void,
  ): Promise<void> {
    const who = describePrincipal(principal);
    const about = { streamId, who, app: app.hostname, release };
    let stream: http2.ClientHttp2Stream;
    try {
      const assertion = deps.signAssertion?.({ tun: app.tunnel, host: app.hostname, svc: app.serviceAuthority, sid: streamId, who });
      stream = await deps.registry.openStream(app.tunnel, app.serviceAuthority, {
        [HEADER.appHostname]: app.hostname,
        [HEADER.identity]: JSON.stringify(identityHeader(principal)),
        [HEADER.streamId]: streamId,
        ...(assertion ? { [STREAM_ASSERTION.header]: assertion } : {}),
      });
    } catch (error) {
      const noConnector = isAirlockError(error) && error.code === 'NO_CONNECTOR';
      // Several edges: the tunnel's connector may be attached to another edge; relay there.
      const peer = noConnector && mayRelay && deps.relay ? await deps.relay.dial(app, principal, streamId).catch(() => undefined) : undefined;
      if (peer) {
        deps.metrics.relayedStreams.inc({ direction: 'out' });
        if (socket.destroyed) return void (peer.terminate(), release());
        wss.handleUpgrade(req, socket, head, (ws) => bridgeToEdge(ws, socket, peer, about, wantsHalfClose(req), deps));
        return;
      }
      release();
      const message = isAirlockError(error) ? error.message : String(error);
      deps.metrics.streamErrors.inc({ reason: noConnector ? 'no_connector' : 'origin_failed' });
      deps.audit.write({ event: 'stream-end', streamId, who, app: app.hostname, bytesUp: 0, bytesDown: 0, durationMs: 0, outcome: message });
      const body: EdgeRefusal = noConnector
        ? { error: 'no_connector', message: `${app.hostname} is offline: no connector for it is connected to the edge` }
        : { error: 'origin_failed', message: `${app.hostname}: ${message}` };
      return writeRawResponse(socket, noConnector ? 503 : 502, {}, body);
    }
    if (socket.destroyed) {
      stream.close();
      release();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => relay(ws, socket, stream, about, wantsHalfClose(req)));
  }

  /**
   * Relays one client WebSocket and one CONNECT stream until both ways have ended. Every byte the
   * edge read from either side is delivered whatever way the other side leaves: a close frame, a
   * FIN or RST without one (cloudflared ends every stream so), or a half-close.
   */
  function relay(ws: WebSocket, socket: Duplex, stream: http2.ClientHttp2Stream, { release, ...about }: StreamAbout, halfClose: boolean): void {
    const started = Date.now();
    let bytesUp = 0;
    let bytesDown = 0;
    let ended = false;
    let endedFirst: 'client' | 'origin' | undefined;
    let outcome = 'closed';
    deps.metrics.activeStreams.inc();
    const end = () => {
      if (ended) return;
      ended = true;
      release();
      clearTimeout(originGrace);
      recordStreamEnd(deps, about, { bytesUp, bytesDown, started, outcome, endedFirst: endedFirst ?? 'client' });
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
    };
    let originGrace: NodeJS.Timeout | undefined;
    const tunnel = webSocketStream(ws, socket, { halfClose });
    tunnel.on('error', () => {}); // the WebSocket's 'close' below says how it ended
    refuseTextFrames(ws, () => {
      deps.log.warn({ streamId: about.streamId, app: about.app }, 'text frame refused (close 1003)');
      outcome = 'refused: text frame';
      end();
    });
    tunnel.on('data', (chunk: Buffer) => (bytesUp += chunk.length));
    tunnel.once('end', () => (endedFirst ??= 'client'));
    stream.on('data', (chunk: Buffer) => (bytesDown += chunk.length));
    stream.once('end', () => (endedFirst ??= 'origin'));
    coalesceWrites(stream, socket);
    // pipe(), not pipeline(): when the origin fails, the bytes already relayed and then close 1011
    // must reach the client; pipeline() would terminate the WebSocket before either is flushed.
    // The upload's end reaches the connector as END_STREAM (a FIN to the origin) only after every
    // byte read from the client, however the client left.
    tunnel.pipe(stream);
    stream.pipe(tunnel);
    stream.once('error', (error) => {
      outcome = `error: ${error.message}`;
      ws.close(CLOSE.originFailed, 'origin failed');
      end();
    });
    // The stream closes when both ways have ended (or the connector resets it). A reset, or a
    // session torn down, comes without an 'error'; pipe() would then leave the WebSocket open.
    stream.once('close', () => {
      if (!stream.readableEnded && ws.readyState === ws.OPEN) {
        outcome = 'error: the connector closed the stream';
        ws.close(CLOSE.originFailed, 'origin failed');
      }
      end();
    });
    ws.once('close', (code) => {
      if (outcome === 'closed') outcome = closeOutcome(code);
      // The client is gone: the origin's replies have nowhere to go. Its upload still drains into
      // the stream; once that has gone out, the origin gets ORIGIN_GRACE_MS to finish before reset.
      stream.unpipe(tunnel);
      stream.resume();
      // A protocol error destroys the tunnel before its end: what it had read is already in the
      // stream, so end that too rather than leave the origin waiting.
      if (tunnel.destroyed && !stream.writableEnded) stream.end();
      const grace = () => {
        originGrace = setTimeout(end, ORIGIN_GRACE_MS);
        originGrace.unref();
      };
      if (stream.writableFinished) grace();
      else stream.once('finish', grace);
    });
  }

  return { handleUpgrade, handleRelayedUpgrade, close: () => wss.close() };
}

export type AppGateway = ReturnType<typeof createAppGateway>;

/**
 * Checked before a stream is opened: ws would refuse these itself, but only after the connector had
 * dialled the origin, leaving that stream open with no client (RFC 6455 §4.2.1, §4.4).
 */
function isWebSocketUpgrade(req: IncomingMessage, socket: Duplex): boolean {
  if (String(req.headers.upgrade).toLowerCase() !== 'websocket') {
    writeRawResponse(socket, 400, {}, { error: 'bad_request', message: 'expected a WebSocket upgrade' });
    return false;
  }
  if (req.headers['sec-websocket-version'] !== '13') {
    writeRawResponse(socket, 400, { 'sec-websocket-version': '13' }, { error: 'bad_request', message: 'unsupported Sec-WebSocket-Version: this edge speaks version 13 (RFC 6455)' });
    return false;
  }
  if (!/^[+/0-9A-Za-z]{22}==$/.test(String(req.headers['sec-websocket-key'] ?? ''))) {
    writeRawResponse(socket, 400, {}, { error: 'bad_request', message: 'missing or malformed Sec-WebSocket-Key (RFC 6455 §4.1)' });
    return false;
  }
  return true;
}

/** What the stream-end record names, and how to give the stream's slot back. */
export interface StreamAbout {
  streamId: string;
  who: string;
  app: string;
  release: () => void;
}

export function wantsHalfClose(req: IncomingMessage): boolean {
  return req.headers[HEADER.halfClose] === '1';
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

/** What the connector learns about the user: enough for its logs and its own check, nothing secret. */
function identityHeader(principal: Principal): Record<string, unknown> {
  return principal.kind === 'service-token'
    ? { kind: principal.kind, id: principal.id }
    : { kind: principal.kind, email: principal.email, sub: principal.sub, groups: principal.groups };
}
