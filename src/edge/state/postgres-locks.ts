// Locked identities shared by every edge (tokens/lock-list.ts is one edge's): written to
// PostgreSQL, announced with NOTIFY so every edge refuses the identity and ends its open streams
// within a second, kept in memory for the check on each connect.
import type { Logger } from '../../shared/logger.js';
import { inForce, lockKey, type Lock, type Locks } from '../tokens/lock-list.js';
import { CHANNEL, type PostgresState } from './postgres.js';
import { RELOAD_INTERVAL_MS, storeUnavailable } from './postgres-stores.js';

export class PostgresLocks implements Locks {
  private locks = new Map<string, Lock>();
  private readonly listeners: Array<(lock: Lock) => void> = [];
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly state: PostgresState,
    private readonly log: Logger,
  ) {
    state.listen(
      CHANNEL.locks,
      () => void this.reload(),
      () => void this.reload(),
    );
    this.timer = setInterval(() => void this.reload(), RELOAD_INTERVAL_MS);
    this.timer.unref();
  }

  static async open(state: PostgresState, log: Logger): Promise<PostgresLocks> {
    const locks = new PostgresLocks(state, log);
    await locks.reload(true);
    return locks;
  }

  lockedFor(identity: string): Lock | undefined {
    const lock = this.locks.get(lockKey(identity));
    return inForce(lock, Date.now()) ? lock : undefined;
  }

  async lock(lock: Lock): Promise<void> {
    this.remember(lock);
    try {
      await this.state.pool.query(
        `INSERT INTO airlock_locks (identity, lock, until) VALUES ($1, $2, to_timestamp($3 / 1000.0))
         ON CONFLICT (identity) DO UPDATE SET lock = EXCLUDED.lock, until = EXCLUDED.until`,
        [lock.identity, JSON.stringify(lock), lock.until ?? null],
      );
      await this.state.pool.query('SELECT pg_notify($1, $2)', [CHANNEL.locks, lock.identity]);
    } catch (error) {
      throw storeUnavailable(error);
    }
  }

  async unlock(identity: string): Promise<boolean> {
    const key = lockKey(identity);
    try {
      const { rowCount } = await this.state.pool.query('DELETE FROM airlock_locks WHERE identity = $1', [key]);
      await this.state.pool.query('SELECT pg_notify($1, $2)', [CHANNEL.locks, key]);
      this.locks.delete(key);
      return (rowCount ?? 0) > 0;
    } catch (error) {
      throw storeUnavailable(error);
    }
  }

  list(): Lock[] {
    return [...this.locks.values()].filter((lock) => inForce(lock, Date.now()));
  }

  onLocked(listener: (lock: Lock) => void): void {
    this.listeners.push(listener);
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** A lock new to this edge, or made again, is announced: its identity's open streams end. */
  private remember(lock: Lock): void {
    const known = this.locks.get(lock.identity);
    this.locks.set(lock.identity, lock);
    if (known?.at !== lock.at && inForce(lock, Date.now())) for (const listener of this.listeners) listener(lock);
  }

  private async reload(strict = false): Promise<void> {
    try {
      const { rows } = await this.state.pool.query<{ lock: Lock }>(
        'SELECT lock FROM airlock_locks WHERE until IS NULL OR until > now()',
      );
      const current = new Set(rows.map((row) => row.lock.identity));
      // Replaced, not merged: an unlock at another edge must lift the lock here too.
      for (const identity of this.locks.keys()) if (!current.has(identity)) this.locks.delete(identity);
      for (const row of rows) this.remember(row.lock);
    } catch (error) {
      if (strict) throw storeUnavailable(error);
      this.log.warn(
        { error: (error as Error).message },
        'could not reload locks from PostgreSQL; keeping the ones known',
      );
    }
  }
}
