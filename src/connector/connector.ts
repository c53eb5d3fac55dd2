// The connector: keeps N outbound connections to the edge (docs/architecture.md "Edge ↔ connector"), each
// upgraded to reverse HTTP/2 where this side is the server, and reconnects with jittered backoff.
import { EventEmitter } from 'node:events';
import type http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { isIP } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { DEFAULTS, HEADER, PATH, TUNNEL_UPGRADE } from '../shared/constants.js';
import { dialHostOfUrl, portOfUrl } from '../shared/host.js';
import { AirlockError, egressHint, isAirlockError } from '../shared/errors.js';
import { H2_MAX_SESSION_MEMORY_MB, H2_SESSION_WINDOW, H2_SETTINGS } from '../shared/http2-tuning.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { transportError } from '../shared/transport-errors.js';
import { watchLiveness } from '../shared/http2-liveness.js';
import { backoffDelay } from './backoff.js';
import type { IngressRule } from './ingress.js';
import type { ConnectorMetrics } from './connector-metrics.js';
import { serveOriginStream, type StreamCounters } from './origin-streams.js';
import { StreamVerifier } from './stream-verifier.js';
import { ResumableOrigins } from './resumable-origins.js';
import { decodeTunnelToken } from '../shared/secrets.js';

export interface ConnectorOptions {
  edgeUrl: string;
  /**
   * Several edges (docs/scale.md): the connection slots are spread over these URLs in turn (slot i
   * dials edgeUrls[i % n]), so most streams find their connector on the edge they land on.
   */
  edgeUrls?: string[];
  token: string;
  rules: IngressRule[];
  ca?: Buffer;
  connections?: number;
  connectorId?: string;
  log?: Logger;
  backoff?: { baseMs: number; maxMs: number };
  /** Prometheus metrics to keep (connector-metrics.ts); none = not counted. */
  metrics?: ConnectorMetrics;
}

export declare interface Connector {
  on(event: 'connected' | 'disconnected', listener: (index: number) => void): this;
  on(event: 'fatal', listener: (error: AirlockError) => void): this;
}

export class Connector extends EventEmitter {
  readonly connectorId: string;
  private readonly server: http2.Http2Server;
  private readonly sessions = new Map<number, http2.ServerHttp2Session>();
  private readonly counters: StreamCounters;
  private readonly wakeups = new Set<() => void>();
  private readonly log: Logger;
  private readonly verifier: StreamVerifier;
  private readonly resumable: ResumableOrigins;
  private readonly streamsOf = new WeakMap<http2.Http2Session, Set<http2.ServerHttp2Stream>>();
  private stopping = false;
  private running: Promise<void>[] = [];
  /** Upgrades in flight: stop() aborts them, or a dial that lands after it would hold stop() forever. */
  private readonly dialling = new Set<http.ClientRequest>();

  constructor(private readonly options: ConnectorOptions) {
    super();
    this.connectorId = options.connectorId ?? randomUUID();
    this.log = options.log ?? silentLogger();
    this.counters = { active: 0, ...(options.metrics ? { metrics: options.metrics } : {}) };
    this.server = http2.createServer({ settings: H2_SETTINGS, maxSessionMemory: H2_MAX_SESSION_MEMORY_MB });
    const tunnelId = decodeTunnelToken(options.token)?.tunnelId ?? '';
    this.verifier = new StreamVerifier(options.edgeUrl, tunnelId, options.ca);
    this.resumable = new ResumableOrigins(this.connectorId);
    this.server.on('stream', (stream, headers) => {
      this.trackStream(stream);
      void serveOriginStream(
        stream,
        headers,
        this.options.rules,
        this.counters,
        this.log,
        this.verifier,
        this.resumable,
      );
    });
  }

  start(): void {
    const count = this.options.connections ?? DEFAULTS.connectorConnections;
    this.running = Array.from({ length: count }, (_, index) => this.runSlot(index));
  }

  get connectedCount(): number {
    return this.sessions.size;
  }

  get activeStreams(): number {
    return this.counters.active;
  }

  /** Resolves once `count` connections are registered with the edge (or rejects on a fatal error). */
  waitConnected(count = 1, timeoutMs = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.sessions.size >= count) (done(), resolve());
      };
      const onFatal = (error: AirlockError) => (done(), reject(error));
      const [first, ...rest] = this.edgeUrls().map((url) => portOfUrl(new URL(url)));
      const hint = egressHint(first!, ...rest);
      const timer = setTimeout(
        () => (
          done(),
          reject(new AirlockError('EDGE_UNREACHABLE', `connector not connected after ${timeoutMs} ms; ${hint}`))
        ),
        timeoutMs,
      );
      const done = () => {
        clearTimeout(timer);
        this.off('connected', check);
        this.off('fatal', onFatal);
      };
      this.on('connected', check);
      this.on('fatal', onFatal);
      check();
    });
  }

  /** Graceful stop: GOAWAY on every connection, in-flight streams may finish for up to drainMs. */
  async stop(drainMs: number = DEFAULTS.drainTimeoutMs): Promise<void> {
    this.stopping = true;
    for (const wake of this.wakeups) wake();
    for (const request of this.dialling) request.destroy(new Error('the connector is stopping'));
    const sessions = [...this.sessions.values()];
    for (const session of sessions) session.close();
    const deadline = Date.now() + drainMs;
    // `closed` turns true as soon as close() is called; a session is done once it is destroyed.
    while (Date.now() < deadline && sessions.some((session) => !session.destroyed)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (const session of sessions) session.destroy();
    // Streams waiting to resume have nowhere to go once this connector is gone.
    this.resumable.resetAll('the connector stopped');
    await Promise.allSettled(this.running);
  }

  private async runSlot(index: number): Promise<void> {
    let attempt = 0;
    while (!this.stopping) {
      try {
        const session = await this.connectOnce(index);
        if (this.stopping) {
          // Upgraded in the instant stop() began: it carries no stream yet.
          session.destroy();
          return;
        }
        attempt = 0;
        this.sessions.set(index, session);
        this.options.metrics?.edgeConnections.set(this.sessions.size);
        this.log.info({ index, edge: this.edgeFor(index) }, 'connected to edge');
        this.emit('connected', index);
        await new Promise<void>((resolve) => session.once('close', resolve));
        this.sessions.delete(index);
        this.options.metrics?.edgeConnections.set(this.sessions.size);
        this.emit('disconnected', index);
        if (!this.stopping) this.log.warn({ index }, 'edge connection lost; reconnecting');
      } catch (error) {
        if (isAirlockError(error) && error.code === 'TUNNEL_AUTH_FAILED') {
          this.stopping = true;
          this.log.error({ index, error: error.message }, 'edge refused the tunnel token');
          this.emit('fatal', error);
          return;
        }
        if (this.stopping) return;
        this.log.warn({ index, error: (error as Error).message }, 'cannot connect to edge');
      }
      if (this.stopping) return;
      const base = this.options.backoff ?? { baseMs: DEFAULTS.backoffBaseMs, maxMs: DEFAULTS.backoffMaxMs };
      await this.sleep(backoffDelay(attempt++, base.baseMs, base.maxMs));
    }
  }

  private trackStream(stream: http2.ServerHttp2Stream): void {
    const session = stream.session;
    if (!session) return;
    let streams = this.streamsOf.get(session);
    if (!streams) this.streamsOf.set(session, (streams = new Set()));
    streams.add(stream);
    stream.once('close', () => streams.delete(stream));
  }

  /**
   * When the connection to the edge closes, destroys the session's streams before Node's own 'close'
   * handler closes them one by one with close(CANCEL). close() emits 'aborted', on which our pipelines
   * destroy the stream there and then, before close() submits its RST_STREAM: Node forgets the stream,
   * nghttp2 still holds its pending DATA, and the next flush of the session (the next stream's close)
   * spins for good producing empty DATA frames for it. After a SIGSTOP/SIGCONT under load that ran
   * to gigabytes in seconds, with no reconnect and SIGTERM unanswered. A stream destroyed first sends
   * its RST_STREAM before Node lets go of it.
   */
  private dropStreamsFirst(session: http2.ServerHttp2Session, socket: TLSSocket): void {
    socket.prependListener('close', () => {
      const streams = this.streamsOf.get(session);
      if (!streams) return;
      const gone = new Error('the connection to the edge closed');
      for (const stream of [...streams]) stream.destroy(gone);
    });
  }

  private edgeUrls(): string[] {
    return this.options.edgeUrls?.length ? this.options.edgeUrls : [this.options.edgeUrl];
  }

  private edgeFor(index: number): string {
    const urls = this.edgeUrls();
    return urls[index % urls.length]!;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakeups.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakeups.add(wake);
    });
  }

  private connectOnce(index: number): Promise<http2.ServerHttp2Session> {
    const edge = new URL(this.edgeFor(index));
    const host = dialHostOfUrl(edge);
    return new Promise((resolve, reject) => {
      const request = https.request({
        host,
        port: portOfUrl(edge),
        servername: isIP(host) ? '' : host,
        path: PATH.tunnel,
        method: 'GET',
        ...(this.options.ca ? { ca: this.options.ca } : {}),
        agent: false,
        timeout: DEFAULTS.connectTimeoutMs,
        headers: {
          connection: 'Upgrade',
          upgrade: TUNNEL_UPGRADE,
          authorization: `Bearer ${this.options.token}`,
          [HEADER.connectorId]: this.connectorId,
          [HEADER.connectionIndex]: String(index),
        },
      });
      this.dialling.add(request);
      request.once('close', () => this.dialling.delete(request));
      request.on('upgrade', () => this.dialling.delete(request));
      request.on('timeout', () => request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      request.on('error', (error: NodeJS.ErrnoException) =>
        reject(transportError(error, edge.origin, portOfUrl(edge))),
      );
      request.on('response', (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body = (body + chunk).slice(0, 2048)));
        response.on('end', () => {
          const reason = safeMessage(body) ?? `HTTP ${response.statusCode}`;
          reject(
            response.statusCode === 401
              ? new AirlockError(
                  'TUNNEL_AUTH_FAILED',
                  `the edge refused the tunnel token (${reason}); check --token or run \`airlock tunnel create\` again`,
                )
              : new AirlockError(
                  'EDGE_ERROR',
                  `the edge answered ${response.statusCode} to the tunnel upgrade: ${reason}`,
                ),
          );
        });
      });
      request.on('upgrade', (_response, socket: TLSSocket, head: Buffer) => {
        request.setTimeout(0);
        // https.request leaves Nagle on; with HTTP/2 frames smaller than the loopback MSS it holds
        // each write back for the peer's delayed ACK and stalls every stream on the connection.
        socket.setNoDelay(true);
        if (head.length > 0) socket.unshift(head);
        // Node's HTTP/2 server would take a TLS socket without ALPN "h2" for HTTP/1.1 and drop it;
        // here the protocol was agreed by the Upgrade, not by ALPN.
        Object.defineProperty(socket, 'alpnProtocol', { value: 'h2', configurable: true });
        let session: http2.ServerHttp2Session | undefined;
        const capture = (created: http2.ServerHttp2Session) => (session = created);
        this.server.once('session', capture);
        this.server.emit('connection', socket);
        this.server.off('session', capture);
        if (!session) return reject(new AirlockError('EDGE_ERROR', 'could not start HTTP/2 on the edge connection'));
        const live = session;
        live.on('error', (error) => this.log.warn({ index, error: error.message }, 'edge session error'));
        live.once('connect', () => live.setLocalWindowSize(H2_SESSION_WINDOW));
        this.dropStreamsFirst(live, socket);
        watchLiveness(live);
        resolve(live);
      });
      request.end();
    });
  }
}

function safeMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : undefined;
  } catch {
    return undefined;
  }
}
