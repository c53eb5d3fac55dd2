// Locked identities (a user's email or a service token): refused every new stream and sign-in, and
// their open streams ended, until unlocked or the lock's `until`. One edge keeps them as JSON in the
// state dir (this file); several share them in PostgreSQL (state/postgres-locks.ts).
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AirlockError } from '../../shared/errors.js';
import { writePrivateFile } from './signing-keys.js';

export interface Lock {
  /** lockKey(): a lower-case email, or service-token:ID. */
  identity: string;
  /** Epoch ms the lock lifts by itself; none = until unlocked. */
  until?: number;
  reason?: string;
  /** The operator who locked it. */
  by: string;
  /** Epoch ms it was locked. */
  at: number;
}

/** What the gate and sign-in ask, and what the admin API changes. */
export interface Locks {
  lockedFor(identity: string): Lock | undefined;
  lock(lock: Lock): Promise<void>;
  /** Resolves false when the identity was not locked. */
  unlock(identity: string): Promise<boolean>;
  list(): Lock[];
  /** Called for each lock made from now on, here or (shared) at any edge: its open streams end. */
  onLocked(listener: (lock: Lock) => void): void;
}

/** How an identity is named in a lock: `ada@corp.example`, or a service token's id (or service-token:ID). */
export function lockKey(identity: string): string {
  const text = identity.trim();
  if (text.includes('@')) return text.toLowerCase();
  return text.startsWith('service-token:') ? text : `service-token:${text}`;
}

/** A lock still in force at `now`. */
export function inForce(lock: Lock | undefined, now: number): lock is Lock {
  return lock !== undefined && (lock.until === undefined || lock.until > now);
}

/** Checks what a lock request carries; throws BAD_ARGUMENT naming the field. */
export function parseLockRequest(body: Record<string, unknown>, by: string, now: number): Lock {
  const { identity, until, reason } = body;
  if (typeof identity !== 'string' || !/^[^\s]{1,256}$/.test(identity))
    throw new AirlockError('BAD_ARGUMENT', 'identity must be an email address or a service token id');
  const untilMs = until === undefined ? undefined : typeof until === 'string' ? Date.parse(until) : NaN;
  if (untilMs !== undefined && !(untilMs > now))
    throw new AirlockError('BAD_ARGUMENT', 'until must be a future date and time (ISO 8601, e.g. 2026-12-31T17:00Z)');
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > 200 || /[\r\n]/.test(reason)))
    throw new AirlockError('BAD_ARGUMENT', 'reason must be one line of at most 200 characters');
  return {
    identity: lockKey(identity),
    ...(untilMs !== undefined ? { until: untilMs } : {}),
    ...(reason ? { reason } : {}),
    by,
    at: now,
  };
}

export class LockList implements Locks {
  private readonly listeners: Array<(lock: Lock) => void> = [];

  private constructor(
    private readonly file: string,
    private readonly locks: Map<string, Lock>,
  ) {}

  static async open(file: string): Promise<LockList> {
    const locks = new Map<string, Lock>();
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable(file, error);
    }
    if (text !== undefined) {
      try {
        for (const lock of (JSON.parse(text) as { locks: Lock[] }).locks) locks.set(lock.identity, lock);
      } catch (error) {
        // Starting without it would silently unlock everyone: refuse to start instead.
        throw unreadable(file, error);
      }
    }
    return new LockList(file, locks);
  }

  lockedFor(identity: string): Lock | undefined {
    const lock = this.locks.get(lockKey(identity));
    return inForce(lock, Date.now()) ? lock : undefined;
  }

  async lock(lock: Lock): Promise<void> {
    this.locks.set(lock.identity, lock);
    for (const listener of this.listeners) listener(lock);
    await this.save();
  }

  async unlock(identity: string): Promise<boolean> {
    const known = this.locks.delete(lockKey(identity));
    if (known) await this.save();
    return known;
  }

  list(): Lock[] {
    return [...this.locks.values()].filter((lock) => inForce(lock, Date.now()));
  }

  onLocked(listener: (lock: Lock) => void): void {
    this.listeners.push(listener);
  }

  private async save(): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    await writePrivateFile(this.file, JSON.stringify({ locks: this.list() }));
  }
}

function unreadable(file: string, error: unknown): AirlockError {
  return new AirlockError(
    'CONFIG_UNREADABLE',
    `lock list ${file} is unreadable (${(error as Error).message}); fix or remove it (removing unlocks every locked identity)`,
  );
}
