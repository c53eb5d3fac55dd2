// The edge's shared stores over PostgreSQL (src/edge/state/postgres.ts): one-time entries taken
// exactly once across every edge, revocations that every edge refuses within a second, and the
// union of every edge's public signing keys. Private keys never leave their edge.
import type { JWK } from 'jose';
import { AirlockError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { SSO } from '../../shared/constants.js';
import { storeFull, type LoginStateStore } from '../sign-in/login-state-store.js';
import type { Revocations } from '../tokens/revocation-list.js';
import type { SigningKeys } from '../tokens/signing-keys.js';
import { FailureThrottle, type FailureLimiter } from '../gateway/failure-throttle.js';
import { parseRenewal, type SessionRenewal } from '../gateway/session-renewals.js';
import { CHANNEL, type PostgresState } from './postgres.js';

/** How often every shared cache is read again anyway: the safety net under NOTIFY. */
export const RELOAD_INTERVAL_MS = 30_000;

/**
 * One kind of one-time entry (login states, codes, hand-offs): `DELETE … RETURNING` takes it once.
 * Each kind holds at most `maxEntries` live rows; past it a put is refused (storeFull), never evicting.
 */
export class PostgresOneTimeStore<T> implements LoginStateStore<T> {
  constructor(
    private readonly state: PostgresState,
    private readonly kind: string,
    private readonly maxEntries: number = SSO.maxPendingEntries,
  ) {}

  async put(key: string, value: T, ttlMs: number): Promise<void> {
    const { rowCount } = await this.query(
      `INSERT INTO airlock_one_time (kind, key, value, expires_at)
       SELECT $1::text, $2::text, $3::jsonb, now() + $4 * interval '1 millisecond'
       WHERE (SELECT count(*) FROM airlock_one_time WHERE kind = $1::text AND expires_at > now()) < $5::bigint
       ON CONFLICT (kind, key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
      [this.kind, key, JSON.stringify(value), ttlMs, this.maxEntries],
    );
    if (rowCount === 0) {
      const { rows } = await this.query<{ wait_ms: string | null }>(
        `SELECT extract(epoch FROM min(expires_at) - now()) * 1000 AS wait_ms FROM airlock_one_time WHERE kind = $1 AND expires_at > now()`,
        [this.kind],
      );
      throw storeFull(Number(rows[0]?.wait_ms ?? 1000));
    }
    // Expired rows are swept now and then by whoever writes: no job to run beside the edges.
    if (Math.random() < 0.01) await this.query('DELETE FROM airlock_one_time WHERE expires_at < now()', []);
  }

  async take(key: string): Promise<T | undefined> {
    const { rows } = await this.query<{ value: T; live: boolean }>(
      'DELETE FROM airlock_one_time WHERE kind = $1 AND key = $2 RETURNING value, expires_at > now() AS live',
      [this.kind, key],
    );
    return rows[0]?.live ? reviveDates(rows[0].value) : undefined;
  }

  async has(key: string): Promise<boolean> {
    const { rows } = await this.query(
      'SELECT 1 FROM airlock_one_time WHERE kind = $1 AND key = $2 AND expires_at > now()',
      [this.kind, key],
    );
    return rows.length > 0;
  }

  private async query<R extends object = Record<string, unknown>>(text: string, values: unknown[]) {
    try {
      return await this.state.pool.query<R>(text, values);
    } catch (error) {
      throw storeUnavailable(error);
    }
  }
}

/** Revoked session ids: written to PostgreSQL, announced with NOTIFY, kept in memory for has(). */
export class PostgresRevocations implements Revocations {
  private readonly entries = new Map<string, number>();
  private readonly listeners: Array<(sessionId: string) => void> = [];
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly state: PostgresState,
    private readonly log: Logger,
  ) {
    state.listen(
      CHANNEL.revocations,
      (payload) => {
        const [sessionId, until] = payload.split(' ');
        if (sessionId && Number(until) > Date.now()) this.add(sessionId, Number(until));
      },
      () => void this.reload(),
    );
    this.timer = setInterval(() => void this.reload(), RELOAD_INTERVAL_MS);
    this.timer.unref();
  }

  static async open(state: PostgresState, log: Logger): Promise<PostgresRevocations> {
    const revocations = new PostgresRevocations(state, log);
    await revocations.reload(true);
    return revocations;
  }

  has(sessionId: string): boolean {
    const until = this.entries.get(sessionId);
    return until !== undefined && until > Date.now();
  }

  get size(): number {
    return this.entries.size;
  }

  onRevoked(listener: (sessionId: string) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Durable before it is known: the row is written first and only then kept in memory, so a
   * sign-out that the database did not take leaves nothing behind and can simply be tried again.
   */
  async revoke(sessionId: string, until: Date): Promise<void> {
    if (!sessionId) throw new AirlockError('BAD_ARGUMENT', 'cannot revoke an empty session id');
    const ms = Math.max(until.getTime(), this.entries.get(sessionId) ?? 0);
    try {
      await this.state.pool.query(
        `INSERT INTO airlock_revocations (session_id, until) VALUES ($1, to_timestamp($2 / 1000.0))
         ON CONFLICT (session_id) DO UPDATE SET until = GREATEST(airlock_revocations.until, EXCLUDED.until)`,
        [sessionId, ms],
      );
    } catch (error) {
      throw storeUnavailable(error);
    }
    this.add(sessionId, ms);
    // The row is durable now; a lost NOTIFY is made up by every edge's reload after its listener returns.
    await this.state.pool
      .query('SELECT pg_notify($1, $2)', [CHANNEL.revocations, `${sessionId} ${ms}`])
      .catch((error: Error) => this.log.warn({ error: error.message }, 'revocation stored but not announced'));
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Merged, never shortened; a session new to this edge (NOTIFY, or a reload after one was missed) is announced. */
  private add(sessionId: string, until: number): void {
    const known = this.entries.get(sessionId);
    this.entries.set(sessionId, Math.max(until, known ?? 0));
    if (known === undefined) for (const listener of this.listeners) listener(sessionId);
  }

  private async reload(strict = false): Promise<void> {
    try {
      const { rows } = await this.state.pool.query<{ session_id: string; until_ms: string }>(
        'SELECT session_id, extract(epoch FROM until) * 1000 AS until_ms FROM airlock_revocations WHERE until > now()',
      );
      // Merged, not replaced: a revocation this edge just made stays even if the read raced it.
      for (const row of rows) this.add(row.session_id, Number(row.until_ms));
      for (const [sessionId, until] of this.entries) if (until <= Date.now()) this.entries.delete(sessionId);
    } catch (error) {
      if (strict) throw storeUnavailable(error);
      this.log.warn(
        { error: (error as Error).message },
        'could not reload revocations from PostgreSQL; keeping the ones known',
      );
    }
  }
}

/**
 * Session renewals between edges: each edge applies the others' to its open streams, and gets back
 * the function that announces its own. Nothing is stored: a renewal missed during an outage ends
 * a stream at its first session's expiry, as if it had not been renewed.
 */
export function shareSessionRenewals(
  state: PostgresState,
  apply: (renewal: SessionRenewal) => void,
): (renewal: SessionRenewal) => Promise<void> {
  state.listen(CHANNEL.renewals, (payload) => {
    const renewal = parseRenewal(payload);
    if (renewal) apply(renewal);
  });
  return async (renewal) => {
    await state.pool.query('SELECT pg_notify($1, $2)', [CHANNEL.renewals, JSON.stringify(renewal)]);
  };
}

/**
 * Publishes this edge's public keys and keeps the other edges' in `keys` (SigningKeys.setPeerKeys),
 * so a token minted by any edge verifies at every edge and the JWKS served is the union.
 */
export async function shareSigningKeys(
  state: PostgresState,
  keys: SigningKeys,
  edgeId: string,
  log: Logger,
): Promise<() => void> {
  const publish = async () => {
    for (const jwk of keys.ownJwks()) {
      await state.pool.query(
        `INSERT INTO airlock_signing_keys (kid, jwk, edge_id, seen_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (kid) DO UPDATE SET seen_at = now()`,
        [jwk.kid, JSON.stringify(jwk), edgeId],
      );
    }
    await state.pool.query('SELECT pg_notify($1, $2)', [CHANNEL.keys, edgeId]);
  };
  const reload = async () => {
    try {
      const { rows } = await state.pool.query<{ jwk: JWK }>('SELECT jwk FROM airlock_signing_keys');
      await keys.setPeerKeys(rows.map((row) => row.jwk));
    } catch (error) {
      log.warn(
        { error: (error as Error).message },
        'could not reload signing keys from PostgreSQL; keeping the ones known',
      );
    }
  };
  try {
    await publish();
  } catch (error) {
    throw storeUnavailable(error);
  }
  await reload();
  state.listen(
    CHANNEL.keys,
    () => void reload(),
    () => void reload(),
  );
  const timer = setInterval(() => void publish().then(reload, reload), RELOAD_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Failed service-token attempts counted across every edge, so a guesser cannot multiply the limit
 * by the number of edges behind the balancer. The count is kept in PostgreSQL, but only failures
 * query it: the edge that sees an address reach the limit announces the block with NOTIFY, and
 * every edge checks blocks in memory, so a good service token costs no database round trip on its
 * connect. Without the database each edge falls back to its own count.
 */
export class SharedFailureThrottle implements FailureLimiter {
  private readonly local: FailureThrottle;
  /** address → epoch ms until which every edge refuses it. */
  private readonly blocked = new Map<string, number>();

  constructor(
    private readonly state: PostgresState,
    private readonly options: { limit: number; windowMs: number },
  ) {
    this.local = new FailureThrottle(options);
    state.listen(CHANNEL.failures, (payload) => {
      const [address, until] = payload.split(' ');
      if (address && Number(until) > Date.now()) this.blocked.set(address, Number(until));
    });
  }

  blockedFor(address: string): number {
    const until = this.blocked.get(address) ?? 0;
    if (until <= Date.now()) this.blocked.delete(address);
    return Math.max(until - Date.now(), this.local.blockedFor(address), 0);
  }

  async fail(address: string): Promise<boolean> {
    const reachedHere = this.local.fail(address);
    try {
      await this.state.pool.query('INSERT INTO airlock_failures (address) VALUES ($1)', [address]);
      if (Math.random() < 0.01)
        await this.state.pool.query(
          `DELETE FROM airlock_failures WHERE at < clock_timestamp() - $1 * interval '1 millisecond'`,
          [this.options.windowMs],
        );
      const { rows } = await this.state.pool.query<{ count: string; until_ms: string | null }>(
        `SELECT count(*) AS count, extract(epoch FROM min(at) + $3 * interval '1 millisecond') * 1000 AS until_ms
         FROM (SELECT at FROM airlock_failures WHERE address = $1 AND at > clock_timestamp() - $3 * interval '1 millisecond' ORDER BY at DESC LIMIT $2) recent`,
        [address, this.options.limit, this.options.windowMs],
      );
      if (Number(rows[0]?.count ?? 0) < this.options.limit) return reachedHere;
      const until = Math.ceil(Number(rows[0]?.until_ms));
      this.blocked.set(address, until);
      await this.state.pool.query('SELECT pg_notify($1, $2)', [CHANNEL.failures, `${address} ${until}`]);
      return true;
    } catch {
      return reachedHere;
    }
  }
}

/** JSON has no dates: the one-time values that carry one (a session's end) get it back. */
function reviveDates<T>(value: T): T {
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [key, field] of Object.entries(out)) {
    if (typeof field === 'string' && /At$/.test(key) && !Number.isNaN(Date.parse(field))) out[key] = new Date(field);
    else if (field && typeof field === 'object' && !Array.isArray(field)) out[key] = reviveDates(field);
  }
  return out as T;
}

export function storeUnavailable(error: unknown): AirlockError {
  if (error instanceof AirlockError) return error;
  return new AirlockError(
    'STORE_UNAVAILABLE',
    `the shared state store (PostgreSQL) is unreachable: ${(error as Error).message}`,
  );
}
