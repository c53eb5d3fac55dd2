// A budget of events per client address and per client network (IPv4 /24, IPv6 /64), in fixed
// windows: one host of a network and a thousand hosts of it spend from the same network budget, so
// spreading requests over a range (all of 127/8 is loopback) does not multiply the allowance.
// Pure and in memory; the sign-in starts (sign-in/login-start-budget) and the audit log's refusals
// (refusal-budget.ts) each keep one.

export interface AddressBudgetLimits {
  perAddress: number;
  perNetwork: number;
  windowMs: number;
  /** Counters kept at most; past it the oldest are forgotten (that only restores someone's allowance). */
  maxKeys?: number;
}

export type BudgetAnswer = { allowed: true } | { allowed: false; over: 'address' | 'network'; retryAfterMs: number };

interface Window {
  count: number;
  endsAt: number;
}

export class AddressBudget {
  private readonly windows = new Map<string, Window>();
  private readonly maxKeys: number;

  constructor(
    private readonly limits: AddressBudgetLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.maxKeys = limits.maxKeys ?? 20_000;
  }

  /** Spends one from the address's and its network's budgets; refused when either is spent. */
  take(address: string): BudgetAnswer {
    const now = this.now();
    const own = this.window(`a ${address}`, now);
    const network = this.window(`n ${networkOf(address)}`, now);
    if (own.count >= this.limits.perAddress) return { allowed: false, over: 'address', retryAfterMs: own.endsAt - now };
    if (network.count >= this.limits.perNetwork)
      return { allowed: false, over: 'network', retryAfterMs: network.endsAt - now };
    own.count++;
    network.count++;
    return { allowed: true };
  }

  private window(key: string, now: number): Window {
    const known = this.windows.get(key);
    if (known && known.endsAt > now) return known;
    if (known) this.windows.delete(key);
    if (this.windows.size >= this.maxKeys) {
      for (const [old, window] of this.windows) if (window.endsAt <= now) this.windows.delete(old);
      if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
    }
    const fresh = { count: 0, endsAt: now + this.limits.windowMs };
    this.windows.set(key, fresh);
    return fresh;
  }
}

/** The /24 of an IPv4 address (also IPv4-mapped IPv6), the /64 of an IPv6 one. */
export function networkOf(address: string): string {
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/i.exec(address);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  const [head = '', tail] = address.toLowerCase().split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, '') || '0')
    .join(':')}::/64`;
}
