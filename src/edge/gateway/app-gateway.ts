// Client WebSockets for an application: the gate's decision (app-gate.ts), a per-identity stream
// limit, then a CONNECT stream to a connector of the app's tunnel (or, with several edges, a relay
// to the edge that holds one), relayed with backpressure (stream-relay.ts).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { DEFAULTS, HEADER } from '../../shared/constants.js';
import type { EdgeRefusal } from '../../shared/edge-response.js';
import { isAirlockError } from '../../shared/errors.js';
import { STREAM_ASSERTION, type StreamAssertionClaims } from '../../shared/stream-assertion.js';
import { gate, type GateDeps } from './app-gate.js';
import type { AppConfig } from '../config/config.js';
import { describePrincipal, type Principal } from './identity.js';
import { writeRawResponse } from '../http/json-answer.js';
import { bridgeToEdge } from './relay-bridge.js';
import { relayToConnector } from './stream-relay.js';
import type { StreamHandle } from './stream-end.js';
import type { OpenStreams } from './open-streams.js';
import type { TunnelRegistry } from '../tunnels/tunnel-registry.js';

export interface GatewayDeps extends GateDeps {
  registry: TunnelRegistry;
  /** Every stream open here, so a sign-out, lock, expiry or idle time ends it. */
  openStreams: OpenStreams;
  signAssertion?: (claims: StreamAssertionClaims) => string;
  /** Several edges: opens a relay to an edge holding the tunnel's connector, if any does. */
  relay?: { dial(app: AppConfig, principal: Principal, streamId: string): Promise<WebSocket | undefined> };
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
      auditRefused(
        deps,
        streamId,
        who,
        app.hostname,
        `refused: ${app.maxStreamsPerIdentity} streams open (per-identity limit)`,
      );
      return writeRawResponse(socket, 429, {}, { error: 'too_many_streams', message });
    }
    await serve(req, socket, head, app, principal, streamId, true, release);
  }

  /** A stream another edge of this deployment relays here (it already applied the policy). */
  async function handleRelayedUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    app: AppConfig,
    principal: Principal,
    streamId: string,
  ): Promise<void> {
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
    /** Registers the stream `start` runs, so it can be ended; forgotten when it ends by itself. */
    const tracked = (start: (release: () => void) => StreamHandle) => {
      let handle: StreamHandle | undefined;
      const forget = deps.openStreams.add({
        streamId,
        app: app.hostname,
        who,
        ...(principal.kind === 'user' && principal.sessionId ? { sessionId: principal.sessionId } : {}),
        ...(principal.kind === 'user' && principal.expiresAt
          ? { expiresAt: principal.expiresAt.getTime(), endsAtExpiry: app.disconnectOnExpiry }
          : {}),
        ...(app.idleTimeoutMs ? { idleTimeoutMs: app.idleTimeoutMs } : {}),
        lastActive: () => handle?.lastActive() ?? Date.now(),
        end: (reason) => handle?.end(reason),
      });
      handle = start(() => (forget(), release()));
    };
    let stream: http2.ClientHttp2Stream;
    try {
      const assertion = deps.signAssertion?.({
        tun: app.tunnel,
        host: app.hostname,
        svc: app.serviceAuthority,
        sid: streamId,
        who,
      });
      stream = await deps.registry.openStream(app.tunnel, app.serviceAuthority, {
        [HEADER.appHostname]: app.hostname,
        [HEADER.identity]: JSON.stringify(identityHeader(principal)),
        [HEADER.streamId]: streamId,
        ...(assertion ? { [STREAM_ASSERTION.header]: assertion } : {}),
      });
    } catch (error) {
      const noConnector = isAirlockError(error) && error.code === 'NO_CONNECTOR';
      // Several edges: the tunnel's connector may be attached to another edge; relay there.
      const peer =
        noConnector && mayRelay && deps.relay
          ? await deps.relay.dial(app, principal, streamId).catch(() => undefined)
          : undefined;
      if (peer) {
        deps.metrics.relayedStreams.inc({ direction: 'out' });
        if (socket.destroyed) return void (peer.terminate(), release());
        wss.handleUpgrade(req, socket, head, (ws) =>
          tracked((release) => bridgeToEdge(ws, socket, peer, { ...about, release }, wantsHalfClose(req), deps)),
        );
        return;
      }
      release();
      const message = isAirlockError(error) ? error.message : String(error);
      deps.metrics.streamErrors.inc({ reason: noConnector ? 'no_connector' : 'origin_failed' });
      auditRefused(deps, streamId, who, app.hostname, message);
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
    wss.handleUpgrade(req, socket, head, (ws) =>
      tracked((release) => relayToConnector(ws, socket, stream, { ...about, release }, wantsHalfClose(req), deps)),
    );
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
    writeRawResponse(
      socket,
      400,
      { 'sec-websocket-version': '13' },
      { error: 'bad_request', message: 'unsupported Sec-WebSocket-Version: this edge speaks version 13 (RFC 6455)' },
    );
    return false;
  }
  if (!/^[+/0-9A-Za-z]{22}==$/.test(String(req.headers['sec-websocket-key'] ?? ''))) {
    writeRawResponse(
      socket,
      400,
      {},
      { error: 'bad_request', message: 'missing or malformed Sec-WebSocket-Key (RFC 6455 §4.1)' },
    );
    return false;
  }
  return true;
}

function wantsHalfClose(req: IncomingMessage): boolean {
  return req.headers[HEADER.halfClose] === '1';
}

/** What the connector learns about the user: enough for its logs and its own check, nothing secret. */
function identityHeader(principal: Principal): Record<string, unknown> {
  return principal.kind === 'service-token'
    ? { kind: principal.kind, id: principal.id }
    : { kind: principal.kind, email: principal.email, sub: principal.sub, groups: principal.groups };
}

/** A stream that never started: its record says why, with nothing carried. */
function auditRefused(
  deps: Pick<GatewayDeps, 'audit'>,
  streamId: string,
  who: string,
  app: string,
  outcome: string,
): void {
  deps.audit.write({ event: 'stream-end', streamId, who, app, bytesUp: 0, bytesDown: 0, durationMs: 0, outcome });
}
