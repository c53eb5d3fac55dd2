// Per-address limit on failed credential attempts: after `limit` failures within `windowMs`, the
// address is refused (429) until the oldest failure in the window expires, right secret or not;
// otherwise the limit would not slow a guesser down. Memory is bounded by `maxAddresses`.

export interface FailureThrottleOptions {
  limit: number;
  windowMs: number;
  maxAddresses?: number;
  now?: () => number;
}

/** What the gate asks: this in-memory throttle, or one counted across edges (SharedFailureThrottle). */
export interface FailureLimiter {
  blockedFor(address: string): number | Promise<number>;
  fail(address: string): boolean | Promise<boolean>;
}

export class FailureThrottle implements FailureLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly now: () => number;
  private readonly maxAddresses: number;

  constructor(private readonly options: FailureThrottleOptions) {
    this.now = options.now ?? Date.now;
    this.maxAddresses = options.maxAddresses ?? 10_000;
  }

  /** Milliseconds until `address` may try again; 0 when it is not blocked. */
  blockedFor(address: string): number {
    const recent = this.recent(address);
    if (recent.length < this.options.limit) return 0;
    return recent[0]! + this.options.windowMs - this.now();
  }

  /** Records a failure; returns true when this one reached the limit. */
  fail(address: string): boolean {
    const recent = this.recent(address);
    recent.push(this.now());
    if (recent.length > this.options.limit) recent.shift();
    this.failures.delete(address); // re-insert: Map order is then least recently failed first
    this.failures.set(address, recent);
    if (this.failures.size > this.maxAddresses) this.failures.delete(this.failures.keys().next().value!);
    return recent.length === this.options.limit;
  }

  private recent(address: string): number[] {
    const since = this.now() - this.options.windowMs;
    const list = (this.failures.get(address) ?? []).filter((time) => time > since);
    if (list.length === 0) this.failures.delete(address);
    return list;
  }
}
