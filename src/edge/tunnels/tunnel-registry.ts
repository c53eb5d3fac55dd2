// The connector connections this edge holds, by tunnel, and opening a CONNECT stream on one.
import http2 from 'node:http2';
import { DEFAULTS, HEADER } from '../../shared/constants.js';
import { AirlockError } from '../../shared/errors.js';
import { answersPing } from '../../shared/http2-liveness.js';

/** How long a CONNECT may go unanswered before the session is checked with a ping (and as long again for the pong). */
const STREAM_PROBE_MS = 2_000;

export interface ConnectorConnection {
  tunnelId: string;
  connectorId: string;
  index: number;
  remote: string;
  session: http2.ClientHttp2Session;
  streams: number;
  draining: boolean;
}

export interface OpenStreamOptions {
  /** Only this connector's connections (a resumed stream lives on the connector that opened it). */
  connectorId?: string;
  /** The connector's answer headers (a resume grant or report), whatever the status. */
  onResponse?: (headers: http2.IncomingHttpHeaders) => void;
}

export class TunnelRegistry {
  private readonly byTunnel = new Map<string, Set<ConnectorConnection>>();
  /** Connectors that connected since this edge started (bounded: it matters only in its first moments). */
  private readonly seen = new Set<string>();

  add(connection: ConnectorConnection): void {
    if (this.seen.size < 10_000) this.seen.add(connection.connectorId);
    let set = this.byTunnel.get(connection.tunnelId);
    if (!set) this.byTunnel.set(connection.tunnelId, (set = new Set()));
    set.add(connection);
  }

  remove(connection: ConnectorConnection): void {
    const set = this.byTunnel.get(connection.tunnelId);
    set?.delete(connection);
    if (set?.size === 0) this.byTunnel.delete(connection.tunnelId);
  }

  /** Whether this connector has connected here since this edge started. */
  hasSeen(connectorId: string): boolean {
    return this.seen.has(connectorId);
  }

  count(tunnelId?: string): number {
    if (tunnelId !== undefined) return this.byTunnel.get(tunnelId)?.size ?? 0;
    let total = 0;
    for (const set of this.byTunnel.values()) total += set.size;
    return total;
  }

  all(): ConnectorConnection[] {
    return [...this.byTunnel.values()].flatMap((set) => [...set]);
  }

  /** Stopping: waits up to `ms` for the streams on every connection to end, then closes them all. */
  async drain(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline && this.all().some((connection) => connection.streams > 0)) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const connection of this.all()) connection.session.destroy();
  }

  /** Healthy connections of a tunnel, least loaded first. */
  private candidates(tunnelId: string): ConnectorConnection[] {
    const set = this.byTunnel.get(tunnelId);
    if (!set) return [];
    return [...set]
      .filter((c) => !c.draining && !c.session.closed && !c.session.destroyed)
      .sort((a, b) => a.streams - b.streams);
  }

  /**
   * Opens a CONNECT stream to `authority` on the least loaded connection of the tunnel and waits
   * for the connector's answer. A connection that dies under the request is skipped for the next.
   */
  async openStream(
    tunnelId: string,
    authority: string,
    headers: Record<string, string>,
    options: OpenStreamOptions = {},
  ): Promise<http2.ClientHttp2Stream> {
    const tried = new Set<ConnectorConnection>();
    for (;;) {
      const connection = this.candidates(tunnelId).find(
        (c) => !tried.has(c) && (options.connectorId === undefined || c.connectorId === options.connectorId),
      );
      if (!connection) {
        throw new AirlockError(
          'NO_CONNECTOR',
          tried.size === 0 ? 'no connector is online for this application' : 'every connector connection failed',
        );
      }
      tried.add(connection);
      const result = await this.tryOpen(connection, authority, headers, options.onResponse);
      if (result.kind === 'open') return result.stream;
      if (result.kind === 'refused') throw result.error;
    }
  }

  private tryOpen(
    connection: ConnectorConnection,
    authority: string,
    headers: Record<string, string>,
    onResponse?: (headers: http2.IncomingHttpHeaders) => void,
  ): Promise<
    { kind: 'open'; stream: http2.ClientHttp2Stream } | { kind: 'refused'; error: AirlockError } | { kind: 'retry' }
  > {
    return new Promise((resolve) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = connection.session.request(
          { ':method': 'CONNECT', ':authority': authority, ...headers },
          { endStream: false },
        );
      } catch {
        resolve({ kind: 'retry' });
        return;
      }
      connection.streams++;
      stream.once('close', () => connection.streams--);
      let settled = false;
      const settle = (result: Parameters<typeof resolve>[0]) => {
        settled = true;
        clearTimeout(timer);
        clearTimeout(probe);
        resolve(result);
      };
      const timer = setTimeout(() => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        settle({ kind: 'refused', error: new AirlockError('ORIGIN_FAILED', 'the connector did not answer in time') });
      }, DEFAULTS.connectTimeoutMs);
      // A slow answer may be a slow origin, or a session that is gone without Node noticing:
      // a ping tells them apart, and a dead session is dropped so the stream goes elsewhere.
      const probe = setTimeout(() => {
        void answersPing(connection.session, STREAM_PROBE_MS).then((alive) => {
          if (alive || settled) return;
          connection.session.destroy();
          settle({ kind: 'retry' });
        });
      }, STREAM_PROBE_MS);
      const onError = () => settle({ kind: 'retry' });
      stream.once('error', onError);
      stream.once('response', (responseHeaders) => {
        settled = true;
        clearTimeout(timer);
        clearTimeout(probe);
        stream.off('error', onError);
        const status = Number(responseHeaders[':status']);
        onResponse?.(responseHeaders);
        if (status === 200) {
          resolve({ kind: 'open', stream });
          return;
        }
        const reason = String(responseHeaders[HEADER.refusal] ?? 'origin refused');
        stream.on('error', () => {});
        stream.close();
        const code = status === 403 ? 'ACCESS_DENIED' : 'ORIGIN_FAILED';
        resolve({ kind: 'refused', error: new AirlockError(code, reason, { status }) });
      });
    });
  }
}
