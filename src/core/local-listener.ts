// One local TCP listener for one resource: each accepted socket gets its own WebSocket tunnel to
// the edge (plain-tunnel.ts, or resumable-tunnel.ts when the edge grants resumption).
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { DEFAULTS } from '../shared/constants.js';
import { AirlockError, isAirlockError } from '../shared/errors.js';
import { formatHostPort, type HostPort } from '../shared/host.js';
import type { ListenerEvent, ListenerStatus } from '../shared/contract/status.js';
import { credentialHeaders, type Credential } from './credentials.js';
import type { EdgeTarget } from './edge-target.js';
import { dialTunnel, releaseEdgeConnections } from './tunnel-dial.js';
import { carryResumable } from './resumable-tunnel.js';
import { carryPlain } from './plain-tunnel.js';

export interface LocalListenerOptions {
  target: EdgeTarget;
  /** Where to listen; 127.0.0.1 unless the user asked otherwise. */
  local: HostPort;
  /** Asked for each new connection, so a refreshed token is picked up without a restart. */
  credential: () => Promise<Credential>;
  /** Extra headers from --header. */
  headers?: Record<string, string>;
  /**
   * Called when the edge answers 302 (no or stale credentials). Should sign in and resolve when a
   * new credential is available; the connection is then retried once (docs/architecture.md "Sign-in in brief").
   */
  onAuthRequired?: (error: AirlockError) => Promise<void>;
  /**
   * Ask for resumable streams (docs/architecture.md "Resumable streams"): a tunnel that breaks
   * mid-stream is dialled again and the connection carries on. On unless false (`--no-resume`);
   * an edge or connector that does not offer it gives the plain protocol anyway.
   */
  resume?: boolean;
}

export declare interface LocalListener {
  on(event: 'event', listener: (event: ListenerEvent) => void): this;
}

export class LocalListener extends EventEmitter {
  private server: net.Server | undefined;
  private readonly sockets = new Map<number, net.Socket>();
  /** Connections whose resumable stream has lost its tunnel and is being dialled again. */
  private readonly reconnecting = new Set<number>();
  private nextId = 1;
  private closedBytesUp = 0;
  private closedBytesDown = 0;
  private totalConnections = 0;
  private state: ListenerStatus['state'] = 'stopped';
  private lastError: ListenerStatus['lastError'];
  private loginInFlight: Promise<void> | undefined;

  constructor(private readonly options: LocalListenerOptions) {
    super();
  }

  /** Resolves once listening; rejects with PORT_IN_USE (or another AirlockError) otherwise. */
  async start(): Promise<string> {
    if (this.server) throw new AirlockError('BAD_ARGUMENT', 'listener already started');
    const { local } = this.options;
    this.state = 'starting';
    const server = net.createServer({ pauseOnConnect: true, noDelay: true, allowHalfOpen: true }, (socket) =>
      this.accept(socket),
    );
    this.server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(local.port, local.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      this.server = undefined;
      const failure = listenError(error as NodeJS.ErrnoException, local);
      this.setError(failure);
      throw failure;
    }
    server.on('error', (error) => this.setError(new AirlockError('EDGE_ERROR', `listener error: ${error.message}`)));
    this.state = 'listening';
    const address = this.address()!;
    this.emitEvent({ type: 'listening', address });
    return address;
  }

  /** Stops accepting and closes every open tunnel. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets.values()) socket.destroy();
    releaseEdgeConnections(this.options.target);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.state = 'stopped';
    this.emitEvent({ type: 'stopped' });
  }

  address(): string | undefined {
    const address = this.server?.address();
    if (!address || typeof address === 'string') return undefined;
    return formatHostPort({ host: address.address, port: address.port });
  }

  status(): ListenerStatus {
    let bytesUp = this.closedBytesUp;
    let bytesDown = this.closedBytesDown;
    for (const socket of this.sockets.values()) {
      bytesUp += socket.bytesRead;
      bytesDown += socket.bytesWritten;
    }
    const address = this.address();
    return {
      state: this.state,
      hostname: this.options.target.hostHeader,
      ...(address ? { localAddress: address } : {}),
      activeConnections: this.sockets.size,
      reconnectingConnections: this.reconnecting.size,
      totalConnections: this.totalConnections,
      bytesUp,
      bytesDown,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  private accept(socket: net.Socket): void {
    const id = this.nextId++;
    const openedAt = Date.now();
    this.sockets.set(id, socket);
    this.totalConnections++;
    socket.setTimeout(0);
    socket.on('error', () => {}); // reported through pipeline below
    this.emitEvent({ type: 'connection-opened', id, remote: `${socket.remoteAddress}:${socket.remotePort}` });

    const finish = (error?: AirlockError) => {
      this.reconnecting.delete(id);
      if (!this.sockets.delete(id)) return;
      this.closedBytesUp += socket.bytesRead;
      this.closedBytesDown += socket.bytesWritten;
      if (error) this.setError(error);
      this.emitEvent({
        type: 'connection-closed',
        id,
        bytesUp: socket.bytesRead,
        bytesDown: socket.bytesWritten,
        durationMs: Date.now() - openedAt,
        ...(error ? { error: { code: error.code, message: error.message } } : {}),
      });
    };
    socket.once('close', () => finish());

    this.openTunnel()
      .then((opened) => {
        if (socket.destroyed) {
          opened.ws.close();
          return;
        }
        this.emitEvent({ type: 'tunnel-opened', id });
        if (opened.resume) {
          carryResumable({
            local: socket,
            tunnel: { ...opened, resume: opened.resume },
            redial: (headers) => this.dialOnce(headers),
            onState: (state) => {
              if (!this.sockets.has(id)) return;
              if (state === 'reconnecting') this.reconnecting.add(id);
              else this.reconnecting.delete(id);
              this.emitEvent({ type: state === 'reconnecting' ? 'connection-reconnecting' : 'connection-resumed', id });
            },
            onEnd: (error) => {
              finish(error);
              socket.destroy();
            },
          });
          socket.resume();
          return;
        }
        carryPlain({ local: socket, tunnel: opened, onEnd: finish });
      })
      .catch((error: unknown) => {
        const failure = isAirlockError(error) ? error : new AirlockError('EDGE_ERROR', String(error));
        finish(failure);
        // A refusal for want of credentials is a reset, so the program fails at once and says so.
        if (failure.code === 'AUTH_REQUIRED') socket.resetAndDestroy();
        else socket.destroy();
      });
  }

  private async openTunnel() {
    try {
      return await this.dialOnce();
    } catch (error) {
      if (!isAirlockError(error) || error.code !== 'AUTH_REQUIRED' || !this.options.onAuthRequired) throw error;
      // Many sockets may hit the 302 at once (a client opening parallel connections): sign in once.
      this.loginInFlight ??= this.options.onAuthRequired(error).finally(() => {
        this.loginInFlight = undefined;
      });
      await this.loginInFlight;
      return this.dialOnce();
    }
  }

  private async dialOnce(extraHeaders: Record<string, string> = {}) {
    const credential = await this.options.credential();
    return dialTunnel({
      target: this.options.target,
      headers: { ...this.options.headers, ...credentialHeaders(credential), ...extraHeaders },
      resume: this.options.resume !== false,
    });
  }

  private setError(error: AirlockError): void {
    this.lastError = { code: error.code, message: error.message, at: new Date().toISOString() };
    if (this.state === 'starting') this.state = 'error';
    this.emitEvent({ type: 'error', code: error.code, message: error.message });
  }

  private emitEvent(event: ListenerEvent): void {
    this.emit('event', event);
  }
}

function listenError(error: NodeJS.ErrnoException, local: HostPort): AirlockError {
  const where = formatHostPort(local);
  if (error.code === 'EADDRINUSE') {
    return new AirlockError(
      'PORT_IN_USE',
      `${where} is already in use by another program. Choose another local port (e.g. --url ${local.host}:${local.port === 65535 ? local.port - 1 : local.port + 1}), ` +
        `or find the program holding it with \`lsof -i :${local.port}\`.`,
      { port: local.port },
    );
  }
  if (error.code === 'EACCES') {
    return new AirlockError(
      'PORT_IN_USE',
      `not allowed to listen on ${where}: ports below 1024 need privileges; choose a port above 1024.`,
    );
  }
  if (error.code === 'EADDRNOTAVAIL') {
    return new AirlockError(
      'BAD_ARGUMENT',
      `${local.host} is not an address of this machine; use ${DEFAULTS.localHost}.`,
    );
  }
  return new AirlockError('EDGE_ERROR', `cannot listen on ${where}: ${error.message}`);
}
