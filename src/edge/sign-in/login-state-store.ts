// In-flight browser logins, kept server-side between the redirect to the IdP and its callback:
// the OIDC state, nonce and PKCE verifier never travel in a URL or a cookie.
//
// Integration: createAccessRoutes({ stateStore }) — default new MemoryLoginStateStore(). Several
// edges share PostgresOneTimeStore (src/edge/state/postgres-stores.ts) instead.
import { SSO } from '../../shared/constants.js';
import { AirlockError } from '../../shared/errors.js';

export interface LoginStateStore<T = unknown> {
  put(key: string, value: T, ttlMs: number): Promise<void>;
  /** Returns and deletes: a login state is consumed by exactly one callback. */
  take(key: string): Promise<T | undefined>;
  /** Whether a live entry exists, without taking it. */
  has(key: string): Promise<boolean>;
}

/**
 * Refused when a store is full: a new entry never evicts one in flight, or anyone could break
 * every sign-in in progress by starting enough new ones. Retry once the oldest entry would expire.
 */
export function storeFull(retryAfterMs: number): AirlockError {
  return new AirlockError('SIGN_IN_BUSY', 'too many sign-ins are in progress on this edge; try again shortly', {
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
  });
}

export class MemoryLoginStateStore<T = unknown> implements LoginStateStore<T> {
  private readonly entries = new Map<string, { value: T; expiresAt: number }>();
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(options: { now?: () => number; maxEntries?: number } = {}) {
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? SSO.maxPendingEntries;
  }

  async put(key: string, value: T, ttlMs: number = SSO.loginStateTtlMs): Promise<void> {
    this.sweep();
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) {
      const oldest = this.entries.values().next().value;
      throw storeFull((oldest?.expiresAt ?? this.now()) - this.now());
    }
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
  }

  async take(key: string): Promise<T | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    return entry.expiresAt > this.now() ? entry.value : undefined;
  }

  async has(key: string): Promise<boolean> {
    return (this.entries.get(key)?.expiresAt ?? 0) > this.now();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Entries share a TTL per store, so insertion order is expiry order: stop at the first live one. */
  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) break;
      this.entries.delete(key);
    }
  }
}
