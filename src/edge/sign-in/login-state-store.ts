// In-flight browser logins, kept server-side between the redirect to the IdP and its callback:
// the OIDC state, nonce and PKCE verifier never travel in a URL or a cookie.
//
// Integration: createAccessRoutes({ stateStore }) — default new MemoryLoginStateStore(). Several
// edges share PostgresOneTimeStore (src/edge/state/postgres-stores.ts) instead.
import { SSO } from '../../shared/constants.js';

export interface LoginStateStore<T = unknown> {
  put(key: string, value: T, ttlMs: number): Promise<void>;
  /** Returns and deletes: a login state is consumed by exactly one callback. */
  take(key: string): Promise<T | undefined>;
  /** Whether a live entry exists, without taking it. */
  has(key: string): Promise<boolean>;
}

/** Bounds memory if someone scripts login starts; far above any real rate per 10 minutes. */
const MAX_ENTRIES = 50_000;

export class MemoryLoginStateStore<T = unknown> implements LoginStateStore<T> {
  private readonly entries = new Map<string, { value: T; expiresAt: number }>();
  private readonly now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
  }

  async put(key: string, value: T, ttlMs: number = SSO.loginStateTtlMs): Promise<void> {
    this.sweep();
    if (this.entries.size >= MAX_ENTRIES) {
      // Drop the oldest (Map keeps insertion order) rather than refuse every new login.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
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

  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
