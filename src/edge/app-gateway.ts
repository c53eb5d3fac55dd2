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
import { coalesceWrites, webSocketStream } from '../shared/websocket-stream.js';
import { describePrincipal, type Principal } from '../shared/identity.js';
import type { Logger } from '../shared/logger.js';
import type { AuditLog } from './audit-log.js';
import { authenticate, type AppTokenVerifier } from './authenticate.js';
import { normaliseAddress } from './cidr.js';
import type { AppConfig, EdgeConfig } from './config.js';
import type { EdgeMetrics } from './metrics.js';
import type { FailureThrottle } from './failure-throttle.js';
import { evaluatePolicy } from './policy.js';
import { writeRawResponse } from './raw-response.js';
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
  serviceTokenFailures?: FailureThrottle;
}

export type GateResult =
  | { status: 200; app: AppConfig; principal: Principal }
  | { status: 302 | 403 | 404 | 429; headers: Record<string, string>; body: string };

/** The access decision for a request on an application hostname (used for upgrades and HEAD). */
export async function gate(req: IncomingMessage, deps: GatewayDeps, streamId: string): Promise<GateResult> {
  const config = deps.config();
  const hostname = hostnameFromHostHeader(req.headers.host);
  const ip = normaliseAddress(req.socket.remoteAddress ?? '');
  const app = hostname ? config.apps.get(hostname) : undefined;
  const record = (decision: 'allow' | 'deny' | 'login', status: number, who: string, reason: string) => {
    deps.audit.write({ event: 'access', streamId, who, app: hostname ?? '', ip, decision, reason, status });
    deps.metrics.decisions.inc({ decision });
  };
  if (!app) {
    record('deny', 404, 'anonymous', 'unknown hostname');
    return refusal(404, { error: 'app_not_found', message: `no application is configured for hostname "${(hostname ?? '').slice(0, 253)}"` });
  }
  const presentsServiceToken = req.headers[HEADER.clientId] !== undefined || req.headers[HEADER.clientSecret] !== undefined;
  const blockedMs = presentsServiceToken ? (deps.serviceTokenFailures?.blockedFor(ip) ?? 0) : 0;
  if (blockedMs > 0) {
    const retryAfter = String(Math.ceil(blockedMs / 1000));
    record('deny', 429, `service-token:${String(req.headers[HEADER.clientId] ?? '').slice(0, 128)}`, 'too many failed service-token attempts from this address');
    return {
      status: 429,
      headers: { 'retry-after': retryAfter },
      body: JSON.stringify({ error: 'rate_limited', message: `too many failed service-token attempts from this address; try again in ${retryAfter} s` }),
    };
  }
  const auth = await authenticate(req.headers, app, config, deps.verifyAppToken);
  if (auth.outcome === 'rejected' && presentsServiceToken && deps.serviceTokenFailures?.fail(ip)) {
    deps.log.warn({ ip, app: app.hostname }, 'service-token failure limit reached; refusing this address for a while');
  }
  if (auth.outcome !== 'authenticated') {
    record('login', 302, auth.outcome === 'rejected' ? auth.who : 'anonymous', auth.outcome === 'rejected' ? auth.reason : 'no credentials');
    return {
      status: 302,
      headers: { location: loginUrl(config.publicUrl, app).href, [HEADER.accessAud]: app.aud, [HEADER.accessDomain]: app.hostname },
      body: '',
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
  return { status, headers: {}, body: JSON.stringify(body) };
}

export function createAppGateway(deps: GatewayDeps) {
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: DEFAULTS.maxFrameBytes,
    skipUTF8Validation: true,
    clientTracking: false,
  });

  async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const streamId = randomUUID();
    const result = await gate(req, deps, streamId);
    if (result.status !== 200) return writeRawResponse(socket, result.status, result.headers, result.body);
    if (String(req.headers.upgrade).toLowerCase() !== 'websocket') {
      return writeRawResponse(socket, 400, {}, JSON.stringify({ error: 'bad_request', message: 'expected a WebSocket upgrade' }));
    }
    // Checked before a stream is opened: ws would refuse these itself, but only after the connector
    // had dialled the origin, leaving that stream open with no client (RFC 6455 §4.2.1, §4.4).
    if (req.headers['sec-websocket-version'] !== '13') {
      const body = JSON.stringify({ error: 'bad_request', message: 'unsupported Sec-WebSocket-Version: this edge speaks version 13 (RFC 6455)' });
      return writeRawResponse(socket, 400, { 'sec-websocket-version': '13' }, body);
    }
    if (!/^[+/0-9A-Za-z]{22}==$/.test(String(req.headers['sec-websocket-key'] ?? ''))) {
      return writeRawResponse(socket, 400, {}, JSON.stringify({ error: 'bad_request', message: 'missing or malformed Sec-WebSocket-Key (RFC 6455 §4.1)' }));
    }
    const { app, principal } = result;
    const who = describePrincipal(principal);
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
      const message = isAirlockError(error) ? error.message : String(error);
      deps.metrics.streamErrors.inc({ reason: noConnector ? 'no_connector' : 'origin_failed' });
      deps.audit.write({ event: 'stream-end', streamId, who, app: app.hostname, bytesUp: 0, bytesDown: 0, durationMs: 0, outcome: message });
      const body: EdgeRefusal = noConnector
        ? { error: 'no_connector', message: `${app.hostname} is offline: no connector for it is connected to the edge` }
        : { error: 'origin_failed', message: `${app.hostname}: ${message}` };
      return writeRawResponse(socket, noConnector ? 503 : 502, {}, JSON.stringify(body));
    }
    if (socket.destroyed) {
      stream.close();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => relay(ws, socket, stream, { streamId, who, app: app.hostname }));
  }

  function relay(ws: WebSocket, socket: Duplex, stream: http2.ClientHttp2Stream, about: { streamId: string; who: string; app: string }): void {
    const started = Date.now();
    let bytesUp = 0;
    let bytesDown = 0;
    let ended = false;
    deps.metrics.activeStreams.inc();
    const end = (outcome: string) => {
      if (ended) return;
      ended = true;
      deps.metrics.activeStreams.dec();
      deps.metrics.bytes.inc({ direction: 'up' }, bytesUp);
      deps.metrics.bytes.inc({ direction: 'down' }, bytesDown);
      deps.audit.write({ event: 'stream-end', ...about, bytesUp, bytesDown, durationMs: Date.now() - started, outcome });
      if (!stream.destroyed) stream.close();
    };
    const tunnel = webSocketStream(ws, socket);
    tunnel.on('error', () => {}); // the WebSocket's 'close' below says how it ended
    refuseTextFrames(ws, () => {
      deps.log.warn({ streamId: about.streamId, app: about.app }, 'text frame refused (close 1003)');
      stream.close(http2.constants.NGHTTP2_CANCEL);
      end('refused: text frame');
    });
    tunnel.on('data', (chunk: Buffer) => (bytesUp += chunk.length));
    stream.on('data', (chunk: Buffer) => (bytesDown += chunk.length));
    coalesceWrites(stream, socket);
    // pipe(), not pipeline(): when the origin fails, the bytes already relayed and then close 1011
    // must reach the client; pipeline() would terminate the WebSocket before either is flushed.
    tunnel.pipe(stream);
    stream.pipe(tunnel);
    stream.once('error', (error) => {
      ws.close(CLOSE.originFailed, 'origin failed');
      end(`error: ${error.message}`);
    });
    // A reset with CANCEL, or a session torn down, closes the stream before its end without an
    // 'error'; pipe() would then leave the WebSocket open. (A clean end is always emitted first.)
    stream.once('close', () => {
      if (stream.readableEnded) return;
      ws.close(CLOSE.originFailed, 'origin failed');
      end('error: the connector closed the stream');
    });
    ws.once('close', (code) => end(code === CLOSE.normal || code === CLOSE.noStatus ? 'closed' : `closed (${code})`));
  }

  return { handleUpgrade, close: () => wss.close() };
}

/**
 * The tunnel carries raw TCP bytes in binary frames; a text frame is not ours to interpret, so it is
 * refused with 1003 (RFC 6455 §7.4.1) and none of it is forwarded. createWebSocketStream forwards
 * every message, so its listener is wrapped to see binary ones only.
 */
function refuseTextFrames(ws: WebSocket, onText: () => void): void {
  const forwarders = ws.listeners('message') as ((data: Buffer, isBinary: boolean) => void)[];
  ws.removeAllListeners('message');
  let refused = false;
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (refused) return;
    if (!isBinary) {
      refused = true;
      ws.close(CLOSE.unsupportedData, 'binary frames only');
      onText();
      return;
    }
    for (const forward of forwarders) forward.call(ws, data, isBinary);
  });
}

/** What the connector learns about the user: enough for its logs and its own check, nothing secret. */
function identityHeader(principal: Principal): Record<string, unknown> {
  return principal.kind === 'service-token'
    ? { kind: principal.kind, id: principal.id }
    : { kind: principal.kind, email: principal.email, sub: principal.sub, groups: principal.groups };
}
