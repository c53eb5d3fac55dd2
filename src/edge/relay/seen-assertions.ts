// Relay assertions are single use: the receiving edge remembers each one's stream id until the
// assertion expires, so a captured assertion (valid 30 s) opens one stream, not twenty. Memory is
// bounded: past the cap new assertions are refused (the relaying edge then tries another edge or
// tells its client), never an old id forgotten early, which would reopen the replay.

/** Far above any real relay rate: 30 s of 3,000 relayed streams a second. */
const MAX_REMEMBERED = 100_000;

export class SeenAssertions {
  /** Stream id → epoch ms when its assertion expires; insertion order is expiry order. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly maxRemembered = MAX_REMEMBERED,
    private readonly now: () => number = Date.now,
  ) {}

  /** 'fresh' the first time an id is presented before `expiresAtMs`; 'replayed' or 'full' otherwise. */
  claim(id: string, expiresAtMs: number): 'fresh' | 'replayed' | 'full' {
    const now = this.now();
    for (const [old, until] of this.seen) {
      if (until > now) break;
      this.seen.delete(old);
    }
    if ((this.seen.get(id) ?? 0) > now) return 'replayed';
    if (this.seen.size >= this.maxRemembered) return 'full';
    this.seen.set(id, expiresAtMs);
    return 'fresh';
  }
}
