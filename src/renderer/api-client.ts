// The renderer's one way to the core: Electron's preload (window.airlock) when present, else the
// browser-mode WebSocket. Both are an ApiTransport; the UI never knows which it has.
import {
  UI_SOCKET_PATH,
  createApiClient,
  type AirlockApi,
  type ApiEvent,
  type ApiResult,
  type ApiTransport,
  type SocketMessage,
} from '../shared/contract/api.js';

declare global {
  interface Window {
    airlock?: ApiTransport;
  }
}

export type ConnectionListener = (connected: boolean) => void;

/** Browser mode: one socket, requests matched by id, reconnects with backoff when the server restarts. */
export class SocketTransport implements ApiTransport {
  private socket: WebSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, (result: ApiResult<unknown>) => void>();
  private readonly listeners = new Set<(event: ApiEvent) => void>();
  private readonly connectionListeners = new Set<ConnectionListener>();
  private opened: Promise<WebSocket> | undefined;
  private retryMs = 250;

  constructor(
    private readonly url: string,
    private readonly protocols: string[] = [],
  ) {}

  invoke(method: string, params: unknown): Promise<ApiResult<unknown>> {
    return this.open().then(
      (socket) =>
        new Promise((resolve) => {
          const id = this.nextId++;
          this.pending.set(id, resolve);
          socket.send(JSON.stringify({ id, method, params }));
        }),
      () => ({
        ok: false,
        error: {
          code: 'DISCONNECTED',
          message: 'Lost the connection to Airlock. If you closed Airlock, start it again.',
        },
      }),
    );
  }

  subscribe(listener: (event: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    void this.open().catch(() => {});
    return () => this.listeners.delete(listener);
  }

  onConnection(listener: ConnectionListener): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  private open(): Promise<WebSocket> {
    this.opened ??= new Promise((resolve, reject) => {
      const socket = new WebSocket(this.url, this.protocols);
      socket.onopen = () => {
        this.socket = socket;
        this.retryMs = 250;
        for (const listener of this.connectionListeners) listener(true);
        resolve(socket);
      };
      socket.onmessage = (message) => {
        const data = JSON.parse(String(message.data)) as SocketMessage;
        if ('event' in data) for (const listener of this.listeners) listener(data.event);
        else {
          const { id, ...result } = data;
          this.pending.get(id)?.(result as ApiResult<unknown>);
          this.pending.delete(id);
        }
      };
      socket.onclose = () => {
        const wasOpen = this.socket === socket;
        this.socket = undefined;
        this.opened = undefined;
        for (const [id, resolvePending] of this.pending) {
          resolvePending({ ok: false, error: { code: 'DISCONNECTED', message: 'lost the connection to Airlock' } });
          this.pending.delete(id);
        }
        for (const listener of this.connectionListeners) listener(false);
        if (!wasOpen) reject(new Error('closed'));
        if (this.listeners.size > 0) {
          setTimeout(() => void this.open().catch(() => {}), this.retryMs);
          this.retryMs = Math.min(this.retryMs * 2, 5000);
        }
      };
    });
    return this.opened;
  }
}

export interface Client {
  api: AirlockApi;
  /** 'desktop' has the Electron shell (shortcuts, start at login); 'browser' is `airlock ui`. */
  mode: 'desktop' | 'browser';
  onConnection(listener: ConnectionListener): () => void;
}

/**
 * `airlock ui` hands this page a secret once, in the URL's fragment (never sent to a server): kept
 * in this tab's sessionStorage, which no other origin (another local port included) can read, and
 * offered as the socket's subprotocol, so the session cookie alone opens nothing.
 */
function pageSecret(): string | undefined {
  const key = 'airlock-ui-secret';
  const fragment = new URLSearchParams(location.hash.slice(1)).get(key);
  if (fragment) {
    sessionStorage.setItem(key, fragment);
    history.replaceState(null, '', location.pathname);
  }
  return sessionStorage.getItem(key) ?? undefined;
}

export function connectClient(): Client {
  if (window.airlock) return { api: createApiClient(window.airlock), mode: 'desktop', onConnection: () => () => {} };
  const secret = pageSecret();
  const transport = new SocketTransport(
    `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${UI_SOCKET_PATH}`,
    secret ? [`airlock-ui.${secret}`] : [],
  );
  return {
    api: createApiClient(transport),
    mode: 'browser',
    onConnection: (listener) => transport.onConnection(listener),
  };
}
