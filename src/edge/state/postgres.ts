// Shared state for several edges (docs/scale.md): one PostgreSQL database through node-postgres.
// Migrations are versioned SQL run at start under an advisory lock, so edges that start together
// apply each one once. Changes other edges must see at once are announced with NOTIFY.
import pg from 'pg';
import { AirlockError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';

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
} as const;

/** Any 64-bit number the deployment does not use elsewhere: the migrations' advisory lock. */
const MIGRATION_LOCK = 7_145_003_913_337;

export interface PostgresState {
  pool: pg.Pool;
  schemaVersion: number;
  /** Runs `handler` on every NOTIFY on `channel`, and `onReconnect` after the listener came back. */
  listen(channel: string, handler: (payload: string) => void, onReconnect?: () => void): void;
  /** True when a trivial query answers within a second. */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

/** Parses and checks the URL, connects, migrates. Errors name `source` (e.g. "edge.yaml state.postgres.url"). */
export async function openPostgresState(url: string, options: { source: string; log: Logger }): Promise<PostgresState> {
  const where = options.source;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AirlockError('CONFIG_INVALID', `${where}: not a URL (expected postgres://USER@HOST:PORT/DATABASE)`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new AirlockError('CONFIG_INVALID', `${where}: must be a postgres:// URL, got ${parsed.protocol}//`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // A pool client that errors while idle (the database restarted) must not crash the edge.
  pool.on('error', (error) => options.log.warn({ error: error.message }, 'PostgreSQL connection lost'));
  let schemaVersion: number;
  try {
    schemaVersion = await migrate(pool);
  } catch (error) {
    await pool.end().catch(() => undefined);
    const detail = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new AirlockError(
      'CONFIG_INVALID',
      `${where}: cannot use the database at ${parsed.host}${parsed.pathname} (${detail}: ${(error as Error).message})`,
    );
  }
  const listeners: { channel: string; handler: (payload: string) => void; onReconnect?: () => void }[] = [];
  let listener: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const connectListener = async (): Promise<void> => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    client.on('error', () => undefined); // 'end' below reconnects
    client.on('notification', (message) => {
      for (const entry of listeners) if (entry.channel === message.channel) entry.handler(message.payload ?? '');
    });
    client.on('end', () => {
      if (closed) return;
      listener = undefined;
      scheduleListener();
    });
    await client.connect();
    for (const channel of new Set(listeners.map((entry) => entry.channel))) await client.query(`LISTEN ${channel}`);
    listener = client;
  };
  const scheduleListener = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      connectListener().then(
        () => {
          options.log.info({}, 'PostgreSQL notifications resumed');
          // What changed while we were not listening is read again.
          for (const entry of listeners) entry.onReconnect?.();
        },
        () => scheduleListener(),
      );
    }, 1_000);
    retry.unref();
  };
  await connectListener();
  return {
    pool,
    schemaVersion,
    listen(channel, handler, onReconnect) {
      if (!/^[a-z_]+$/.test(channel)) throw new Error(`bad channel ${channel}`);
      listeners.push({ channel, handler, ...(onReconnect ? { onReconnect } : {}) });
      void listener?.query(`LISTEN ${channel}`).catch(() => undefined);
    },
    async healthy() {
      try {
        await withTimeout(pool.query('SELECT 1'), 1_000);
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      await listener?.end().catch(() => undefined);
      await pool.end();
    },
  };
}

/** For `airlock edge --check`: the database's schema version, read without migrating (0: none yet). */
export async function readSchemaVersion(url: string, source: string): Promise<number> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ version: number | null }>(
      "SELECT CASE WHEN to_regclass('airlock_schema_migrations') IS NULL THEN 0 ELSE (SELECT coalesce(max(version), 0) FROM airlock_schema_migrations) END AS version",
    );
    return rows[0]?.version ?? 0;
  } catch (error) {
    throw new AirlockError(
      'CONFIG_INVALID',
      `${source}: cannot reach the database (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Applies every migration newer than the database's, one transaction each; returns the version. */
export async function migrate(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS airlock_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ version: number | null }>(
      'SELECT max(version) AS version FROM airlock_schema_migrations',
    );
    let version = rows[0]?.version ?? 0;
    for (let next = version + 1; next <= MIGRATIONS.length; next++) {
      await client.query('BEGIN');
      try {
        await client.query(MIGRATIONS[next - 1]!);
        await client.query('INSERT INTO airlock_schema_migrations (version) VALUES ($1)', [next]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
      version = next;
    }
    return version;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
