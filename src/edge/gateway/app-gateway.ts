// Client WebSockets for an application: the gate's decision (app-gate.ts), a per-identity stream
// limit, then a CONNECT stream to a connector of the app's tunnel (or, with several edges, a relay
// to the edge that holds one), relayed with backpressure (stream-relay.ts).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CLOSE, DEFAULTS, HEADER, RESUME } from '../../shared/constants.js';
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
import {
  connectHeaders,
  grantLines,
  parseReport,
  recordResume,
  relayedHeaders,
  resumeRequest,
} from './stream-resume.js';
import { clientAddress } from '../http/proxy-protocol.js';

export interface GatewayDeps extends GateDeps {
  registry: TunnelRegistry;
  /** edge.yaml audit.onFailure: refuse: no new stream while the audit log cannot be written. */
  refuseUnaudited?: boolean;
  /** Every stream open here, so a sign-out, lock, expiry or idle time ends it. */
  openStreams: OpenStreams;
  signAssertion?: (claims: StreamAssertionClaims) => string;
  /** Several edges: opens a relay to an edge holding the tunnel's connector, if any does. */
  relay?: {
    dial(
      app: AppConfig,
      principal: Principal,
      streamId: string,
      headers?: Record<string, string>,
      onResponse?: (headers: IncomingMessage['headers']) => void,
    ): Promise<WebSocket | undefined>;
  };
  /** This edge, as the audit's stream-resume records and the connector name it. */
  edgeId?: string;
  /**
   * Whether the connector holding a stream, which no edge reaches now, may still come back within
   * `withinMs`: this edge started a moment ago and it has not redialled yet, or an edge that held the
   * tunnel went silent without leaving. A resume then answers 503 with Retry-After, and the client
   * keeps trying for its window instead of giving up.
   */
  connectorMayReturn?(holder: { tunnel: string; connectorId: string }, withinMs: number): boolean;
}

export function createAppGateway(deps: GatewayDeps) {
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: DEFAULTS.maxFrameBytes,
    skipUTF8Validation: true,
    clientTracking: false,
  });
  /** The connector's resume grant for a request, added to its 101. */
  const grants = new WeakMap<IncomingMessage, string[]>();
  /** Client WebSockets of resumable streams: a stopping edge hands them off at once (handOff). */
  const resumable = new Set<WebSocket>();
  wss.on('headers', (headers: string[], req: IncomingMessage) => {
    if (wantsHalfClose(req)) headers.push(`${HEADER.halfClose}: 1`);
    headers.push(...(grants.get(req) ?? []));
  });
  const edgeId = deps.edgeId ?? '';

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

  /** Answers 503 and returns true when streams must not be served because they cannot be audited. */
  function refusedUnaudited(socket: Duplex): boolean {
    if (!deps.refuseUnaudited || deps.audit.health()?.writable !== false) return false;
    deps.metrics.streamErrors.inc({ reason: 'audit_unavailable' });
    const body: EdgeRefusal = {
      error: 'audit_unavailable',
      message: 'the edge cannot write its audit log and is set to refuse new connections until it can',
    };
    writeRawResponse(socket, 503, {}, body);
    return true;
  }

  async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (refusedUnaudited(socket)) return;
    const resume = resumeRequest(req);
    if (resume === 'malformed')
      return writeRawResponse(socket, 410, {}, { error: 'resume_refused', message: 'malformed resume token' });
    // A resume keeps its stream's id, so the audit's records of one stream share it.
    const streamId = resume?.kind === 'resume' ? resume.streamId : randomUUID();
    const result = await gate(req, deps, streamId);
    if (result.status !== 200) {
      if (resume?.kind === 'resume') {
        const ip = clientAddress(req.socket);
        const about = { streamId, who: 'unknown', app: String(req.headers.host ?? '').slice(0, 256), ip, edgeId };
        recordResume(deps, about, { outcome: 'refused', reason: `credentials or policy refused (${result.status})` });
      }
      return writeRawResponse(socket, result.status, result.headers, result.body);
    }
    if (!isWebSocketUpgrade(req, socket)) return;
    const { app, principal } = result;
    const release = claimOrRefuse(socket, app, principal, streamId);
    if (!release) return;
    await serve(req, socket, head, app, principal, streamId, true, release);
  }

  /** The identity's stream on this edge, counted toward its cap, or a 429 (audited) when it has its fill. */
  function claimOrRefuse(socket: Duplex, app: AppConfig, principal: Principal, streamId: string) {
    const who = describePrincipal(principal);
    const release = claimStream(app, who);
    if (release) return release;
    const message = `${who} already has ${app.maxStreamsPerIdentity} connections open to ${app.hostname}, the most this edge allows; close some, or ask the edge's administrator to raise apps[].limits.maxStreamsPerIdentity`;
    deps.metrics.streamErrors.inc({ reason: 'identity_limit' });
    auditRefused(
      deps,
      streamId,
      who,
      app.hostname,
      `refused: ${app.maxStreamsPerIdentity} streams open (per-identity limit)`,
    );
    writeRawResponse(socket, 429, {}, { error: 'too_many_streams', message });
    return undefined;
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
    if (refusedUnaudited(socket) || !isWebSocketUpgrade(req, socket)) return;
    // Streams relayed in count toward the identity's cap here as well as those that arrive directly.
    const release = claimOrRefuse(socket, app, principal, streamId);
    if (!release) return;
    deps.metrics.relayedStreams.inc({ direction: 'in' });
    await serve(req, socket, head, app, principal, streamId, false, release);
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
    const parsed = resumeRequest(req);
    const resume = parsed === 'malformed' ? undefined : parsed;
    // A relayed stream is on the relaying edge as far as the client is concerned (relayedHeaders).
    const relayedFrom = req.headers[HEADER.edgeId];
    const clientEdge = !mayRelay && typeof relayedFrom === 'string' && relayedFrom ? relayedFrom.slice(0, 64) : edgeId;
    const resumeAbout = {
      streamId,
      who,
      app: app.hostname,
      ip: clientAddress(req.socket),
      edgeId: clientEdge,
      ...(clientEdge !== edgeId ? { connectorEdge: edgeId } : {}),
    };
    let answer: http2.IncomingHttpHeaders = {};
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
      stream = await deps.registry.openStream(
        app.tunnel,
        app.serviceAuthority,
        {
          [HEADER.appHostname]: app.hostname,
          [HEADER.identity]: JSON.stringify(identityHeader(principal)),
          [HEADER.streamId]: streamId,
          ...(assertion ? { [STREAM_ASSERTION.header]: assertion } : {}),
          ...connectHeaders(resume, app, clientEdge),
        },
        {
          ...(resume?.kind === 'resume' ? { connectorId: resume.connectorId } : {}),
          onResponse: (headers) => (answer = headers),
        },
      );
    } catch (error) {
      const noConnector = isAirlockError(error) && error.code === 'NO_CONNECTOR';
      if (resume?.kind === 'resume' && !noConnector) {
        // The connector no longer holds the stream for this identity: final, the client resets.
        release();
        const reason = isAirlockError(error) ? error.message : String(error);
        recordResume(deps, resumeAbout, { outcome: 'refused', reason });
        return writeRawResponse(socket, 410, {}, { error: 'resume_refused', message: `${app.hostname}: ${reason}` });
      }
      // Several edges: the tunnel's connector may be attached to another edge; relay there.
      let refusedThere = false;
      const peer =
        noConnector && mayRelay && deps.relay
          ? await deps.relay
              .dial(app, principal, streamId, relayedHeaders(req, edgeId), (headers) =>
                grants.set(req, grantLines(headers)),
              )
              .catch((failure: unknown) => {
                if (isAirlockError(failure) && failure.code === 'RESUME_REFUSED') refusedThere = true;
                return undefined;
              })
          : undefined;
      if (refusedThere && resume?.kind === 'resume') {
        // The edge holding the connector refused the resume: final, the client resets.
        release();
        const reason = 'the connector no longer holds the stream (refused at the edge it is on)';
        recordResume(deps, resumeAbout, { outcome: 'refused', reason });
        return writeRawResponse(socket, 410, {}, { error: 'resume_refused', message: `${app.hostname}: ${reason}` });
      }
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
      const mayReturn =
        noConnector &&
        resume?.kind === 'resume' &&
        (deps.connectorMayReturn?.(
          { tunnel: app.tunnel, connectorId: resume.connectorId },
          app.resume?.windowMs ?? RESUME.windowMs,
        ) ??
          false);
      const body: EdgeRefusal = mayReturn
        ? {
            error: 'no_connector',
            message: `${app.hostname}: the connector holding the stream is not reachable from any edge now; it may come back`,
          }
        : noConnector
          ? {
              error: 'no_connector',
              message: `${app.hostname} is offline: no connector for it is connected to the edge`,
            }
          : { error: 'origin_failed', message: `${app.hostname}: ${message}` };
      return writeRawResponse(socket, noConnector ? 503 : 502, mayReturn ? { 'retry-after': '1' } : {}, body);
    }
    if (socket.destroyed) {
      stream.close();
      release();
      return;
    }
    const grant = resume?.kind === 'new' ? grantLines(answer) : [];
    if (grant.length > 0) grants.set(req, grant);
    if (resume?.kind === 'resume')
      recordResume(deps, resumeAbout, { outcome: 'resumed', report: parseReport(answer[HEADER.resumeReport]) });
    const framed = grant.length > 0 || resume?.kind === 'resume';
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (framed) {
        resumable.add(ws);
        ws.once('close', () => resumable.delete(ws));
      }
      tracked((release) =>
        relayToConnector(ws, socket, stream, { ...about, release }, wantsHalfClose(req), deps, framed),
      );
    });
  }

  /**
   * A stopping edge: resumable streams need not wait for the drain; their clients are told to go
   * (close 1012, service restart) and resume through another edge at once.
   */
  function handOff(): void {
    for (const ws of resumable) ws.close(CLOSE.serviceRestart, 'edge restarting; resume elsewhere');
  }

  return { handleUpgrade, handleRelayedUpgrade, handOff, close: () => wss.close() };
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
