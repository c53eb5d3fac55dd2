// Shared state for several edges (docs/scale.md): one PostgreSQL database through node-postgres.
// Migrations are versioned SQL run at start under an advisory lock, so edges that start together
// apply each one once. Changes other edges must see at once are announced with NOTIFY.
import pg from 'pg';
import { AirlockError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import {
  clientOptions,
  openPool,
  PG_LIMITS,
  trackedSockets,
  withTimeout,
  type TrackedSockets,
} from './postgres-pool.js';

/** Each entry is one schema version; never edit a released one, append the next. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE airlock_one_time (
     kind text NOT NULL,
     key text NOT NULL,
     value jsonb NOT NULL,
     expires_at timestamptz NOT NULL,
     PRIMARY KEY (kind, key)
   );
   CREATE INDEX airlock_one_time_expiry ON airlock_one_time (expires_at);
   CREATE TABLE airlock_revocations (session_id text PRIMARY KEY, until timestamptz NOT NULL);
   CREATE TABLE airlock_signing_keys (
     kid text PRIMARY KEY,
     jwk jsonb NOT NULL,
     edge_id text NOT NULL,
     seen_at timestamptz NOT NULL DEFAULT now()
   );`,
  `CREATE TABLE airlock_tunnel_edges (
     tunnel_id text NOT NULL,
     edge_id text NOT NULL,
     relay_url text NOT NULL,
     heartbeat_at timestamptz NOT NULL,
     PRIMARY KEY (tunnel_id, edge_id)
   );`,
  `CREATE TABLE airlock_route_store (
     id integer PRIMARY KEY CHECK (id = 1),
     doc jsonb NOT NULL
   );
   INSERT INTO airlock_route_store (id, doc) VALUES (1, '{"version": 1, "tunnels": [], "routes": []}');`,
  `CREATE TABLE airlock_failures (address text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
   CREATE INDEX airlock_failures_by_address ON airlock_failures (address, at);`,
  `CREATE TABLE airlock_edges (edge_id text PRIMARY KEY, fingerprint text NOT NULL, seen_at timestamptz NOT NULL);`,
  // Issue 27: locked identities (state/postgres-locks.ts).
  `CREATE TABLE airlock_locks (identity text PRIMARY KEY, lock jsonb NOT NULL, until timestamptz);`,
];

/** NOTIFY channels: what changed, so every edge reloads it. */
export const CHANNEL = {
  revocations: 'airlock_revocations',
  keys: 'airlock_keys',
  routes: 'airlock_routes',
  failures: 'airlock_failures',
  locks: 'airlock_locks',
  /** A newer session for an identity's open streams (gateway/session-renewals.ts): NOTIFY only, nothing stored. */
  renewals: 'airlock_renewals',
} as const;

/** Any 64-bit number the deployment does not use elsewhere: the migrations' advisory lock. */
const MIGRATION_LOCK = 7_145_003_913_337;

export interface PostgresState {
  /** The current pool: replaced by a fresh one when the database stopped answering. */
  readonly pool: pg.Pool;
  schemaVersion: number;
  /** Runs `handler` on every NOTIFY on `channel`, and `onReconnect` after the listener came back. */
  listen(channel: string, handler: (payload: string) => void, onReconnect?: () => void): void;
  /** True when a trivial query answers within a second and notifications are being received. */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

/** Parses and checks the URL, connects, migrates. Errors name `source` (e.g. "edge.yaml state.postgres.url"). */
export async function openPostgresState(url: string, options: { source: string; log: Logger }): Promise<PostgresState> {
  const where = options.source;
  const parsed = parsePostgresUrl(url, where);
  const log = options.log;
  let pools = openPool(url, log);
  let schemaVersion: number;
  try {
    schemaVersion = await migrate(pools.pool);
  } catch (error) {
    await pools.end();
    const detail = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new AirlockError(
      'CONFIG_INVALID',
      `${where}: cannot use the database at ${parsed.host}${parsed.pathname} (${detail}: ${(error as Error).message})`,
    );
  }
  const listeners: { channel: string; handler: (payload: string) => void; onReconnect?: () => void }[] = [];
  let listener: { client: pg.Client; sockets: TrackedSockets } | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let checking = false;
  /** Its connections hang: every one is cut, so waiting queries fail now and new ones dial afresh. */
  const recyclePool = () => {
    const old = pools;
    pools = openPool(url, log);
    void old.end();
  };
  const connectListener = async (): Promise<void> => {
    const sockets = trackedSockets();
    const client = new pg.Client({
      ...clientOptions(url),
      stream: sockets.stream,
      connectionTimeoutMillis: PG_LIMITS.connectMs,
    });
    client.on('error', () => undefined); // 'end' below reconnects
    client.on('notification', (message) => {
      for (const entry of listeners) if (entry.channel === message.channel) entry.handler(message.payload ?? '');
    });
    client.on('end', () => {
      if (closed || listener?.client !== client) return;
      listener = undefined;
      log.warn({}, 'PostgreSQL notification connection lost; reconnecting');
      scheduleListener();
    });
    try {
      await client.connect();
      for (const channel of new Set(listeners.map((entry) => entry.channel))) await client.query(`LISTEN ${channel}`);
    } catch (error) {
      sockets.destroyAll();
      throw error;
    }
    listener = { client, sockets };
  };
  const scheduleListener = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      connectListener().then(
        () => {
          log.info({}, 'PostgreSQL notifications resumed');
          // What changed while we were not listening is read again.
          for (const entry of listeners) entry.onReconnect?.();
        },
        () => scheduleListener(),
      );
    }, PG_LIMITS.reconnectMs);
    retry.unref();
  };
  // One query at a time on the notification connection: pg deprecates overlapping ones.
  let listenerTurn: Promise<unknown> = Promise.resolve();
  const onListener = <T>(query: () => Promise<T>): Promise<T> => {
    const run = listenerTurn.then(query, query);
    listenerTurn = run.catch(() => undefined);
    return run;
  };
  // A connection that is silently dead never ends on its own: the listener must be asked.
  const liveness = setInterval(() => {
    const current = listener;
    if (!current || checking) return;
    checking = true;
    withTimeout(
      onListener(() => current.client.query('SELECT 1')),
      PG_LIMITS.livenessTimeoutMs,
    )
      .catch(() => {
        if (closed || listener !== current) return;
        log.warn({}, 'PostgreSQL stopped answering; dropping its connections and reconnecting');
        recyclePool();
        current.sockets.destroyAll(); // 'end' follows, which reconnects
      })
      .finally(() => (checking = false));
  }, PG_LIMITS.livenessEveryMs);
  liveness.unref();
  await connectListener();
  return {
    get pool() {
      return pools.pool;
    },
    schemaVersion,
    listen(channel, handler, onReconnect) {
      if (!/^[a-z_]+$/.test(channel)) throw new Error(`bad channel ${channel}`);
      listeners.push({ channel, handler, ...(onReconnect ? { onReconnect } : {}) });
      void onListener(async () => listener?.client.query(`LISTEN ${channel}`)).catch(() => undefined);
    },
    async healthy() {
      if (!listener) return false;
      try {
        await withTimeout(pools.pool.query('SELECT 1'), 1_000);
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      clearInterval(liveness);
      const last = listener;
      await (last ? withTimeout(last.client.end(), 1_000).catch(() => last.sockets.destroyAll()) : undefined);
      await pools.end();
    },
  };
}

function parsePostgresUrl(url: string, where: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AirlockError('CONFIG_INVALID', `${where}: not a URL (expected postgres://USER@HOST:PORT/DATABASE)`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new AirlockError('CONFIG_INVALID', `${where}: must be a postgres:// URL, got ${parsed.protocol}//`);
  }
  return parsed;
}

/** For `airlock edge --check`: the database's schema version, read without migrating (0: none yet). */
export async function readSchemaVersion(url: string, source: string): Promise<number> {
  const parsed = parsePostgresUrl(url, source);
  const client = new pg.Client({ ...clientOptions(url), connectionTimeoutMillis: PG_LIMITS.connectMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    // Two statements: a fresh database has no table to name in the second (42P01 if planned together).
    const { rows } = await client.query<{ present: boolean }>(
      "SELECT to_regclass('airlock_schema_migrations') IS NOT NULL AS present",
    );
    if (!rows[0]?.present) return 0;
    const versions = await client.query<{ version: number | null }>(
      'SELECT max(version) AS version FROM airlock_schema_migrations',
    );
    return versions.rows[0]?.version ?? 0;
  } catch (error) {
    const detail = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new AirlockError(
      'CONFIG_INVALID',
      `${source}: cannot reach the database at ${parsed.host}${parsed.pathname} (${detail}: ${(error as Error).message})`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Applies every migration newer than the database's, one transaction each; returns the version. */
export async function migrate(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  // node-postgres reads a per-query query_timeout; its types do not declare it.
  const query = (text: string, values: unknown[] = []) => {
    const config: pg.QueryConfig & { query_timeout: number } = { text, values, query_timeout: PG_LIMITS.migrationMs };
    return client.query<{ version: number | null }>(config);
  };
  try {
    await query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await query(
      'CREATE TABLE IF NOT EXISTS airlock_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await query('SELECT max(version) AS version FROM airlock_schema_migrations');
    let version = rows[0]?.version ?? 0;
    for (let next = version + 1; next <= MIGRATIONS.length; next++) {
      await query('BEGIN');
      try {
        await query(MIGRATIONS[next - 1]!);
        await query('INSERT INTO airlock_schema_migrations (version) VALUES ($1)', [next]);
        await query('COMMIT');
      } catch (error) {
        await query('ROLLBACK');
        throw error;
      }
      version = next;
    }
    return version;
  } finally {
    await query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
}
