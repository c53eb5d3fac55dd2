// Connections to PostgreSQL that cannot hang the edge: every one has a connect and a query timeout
// and TCP keepalive, and a pool's sockets can all be cut at once when the database stops answering
// without closing them (a failover that drops connections silently).
import { Socket } from 'node:net';
import pg from 'pg';
import type { Logger } from '../../shared/logger.js';

/**
 * Bounds on every database call, so a database that stops answering without closing its
 * connections (a failover that drops them silently) is noticed in seconds, not waited on.
 */
export const PG_LIMITS = {
  connectMs: 5_000,
  /** Client side: a query with no answer by then fails and its connection is destroyed. */
  queryMs: 5_000,
  /** Migrations may wait for another edge's advisory lock. */
  migrationMs: 60_000,
  idleMs: 10_000,
  keepAliveMs: 5_000,
  /** The notification connection answers a `SELECT 1` this often, within livenessTimeoutMs. */
  livenessEveryMs: 2_000,
  livenessTimeoutMs: 2_000,
  reconnectMs: 1_000,
} as const;

/** What every connection gets: the URL, a query timeout, TCP keepalive. */
export function clientOptions(url: string): pg.ClientConfig {
  return {
    connectionString: url,
    query_timeout: PG_LIMITS.queryMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: PG_LIMITS.keepAliveMs,
  };
}

/** A pool whose sockets can all be cut at once: pool.end() alone would wait on a silent database. */
export function openPool(url: string, log: Logger): { pool: pg.Pool; end(): Promise<void> } {
  const sockets = trackedSockets();
  const pool = new pg.Pool({
    ...clientOptions(url),
    stream: sockets.stream,
    max: 10,
    connectionTimeoutMillis: PG_LIMITS.connectMs,
    idleTimeoutMillis: PG_LIMITS.idleMs,
  });
  // A pool client that errors while idle (the database restarted) must not crash the edge.
  pool.on('error', (error) => log.warn({ error: error.message }, 'PostgreSQL connection lost'));
  return {
    pool,
    async end() {
      const ended = pool.end().catch(() => undefined);
      await withTimeout(ended, 1_000).catch(() => sockets.destroyAll());
      await ended;
    },
  };
}

export interface TrackedSockets {
  /** node-postgres's `stream` option: the socket each new connection uses. */
  stream: () => Socket;
  destroyAll(): void;
}

export function trackedSockets(): TrackedSockets {
  const open = new Set<Socket>();
  return {
    stream: () => {
      const socket = new Socket();
      open.add(socket);
      socket.once('close', () => open.delete(socket));
      return socket;
    },
    destroyAll: () => {
      for (const socket of open) socket.destroy();
    },
  };
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
