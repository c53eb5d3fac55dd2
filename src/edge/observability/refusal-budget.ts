// One budget for every refusal the edge makes before it knows who is asking (no credential, a junk
// or unknown one, a bad tunnel token, anonymous discovery or admin calls): anyone can send those,
// so each address and each network (IPv4 /24, IPv6 /64) may write only so many records a minute.
// The rest are counted per network into one `suppressed` record at the minute's end, which keeps
// what an investigator needs: how many, from how many addresses, why (by reason) and for what (by
// requested host or action, the most frequent first).
import { AddressBudget, networkOf } from './address-budget.js';
import type { AuditLog, AuditRecord } from './audit-log.js';

/** Records of refusals before identity written per address, and per network, each minute. */
export const REFUSALS_PER_ADDRESS_PER_MINUTE = 60;
export const REFUSALS_PER_NETWORK_PER_MINUTE = 120;
/** How many reasons and hosts a `suppressed` record names (the most frequent). */
export const SUPPRESSED_TOP = 10;
const MINUTE_MS = 60_000;
/** Networks counted at once; past it they share one window named "*" (memory stays bounded). */
const MAX_NETWORKS = 10_000;
const MAX_TALLY_KEYS = 1_000;

interface Window {
  start: number;
  count: number;
  addresses: Set<string>;
  reasons: Map<string, number>;
  hosts: Map<string, number>;
}

/** A refusal made before an identity was established: what the budget applies to. */
export function isRefusalBeforeIdentity(record: AuditRecord, beforeIdentity?: boolean): boolean {
  if (beforeIdentity !== undefined) return beforeIdentity;
  return record.event === 'access' && record.who === 'anonymous' && record.decision !== 'allow';
}

export function withRefusalBudget(
  audit: AuditLog,
  options: { perAddress?: number; perNetwork?: number; now?: () => number } = {},
): AuditLog {
  const now = options.now ?? Date.now;
  const budget = new AddressBudget(
    {
      perAddress: options.perAddress ?? REFUSALS_PER_ADDRESS_PER_MINUTE,
      perNetwork: options.perNetwork ?? REFUSALS_PER_NETWORK_PER_MINUTE,
      windowMs: MINUTE_MS,
    },
    now,
  );
  const windows = new Map<string, Window>();
  const flush = (network: string) => {
    const window = windows.get(network);
    windows.delete(network);
    if (!window || window.count === 0) return;
    audit.write({
      event: 'suppressed',
      network,
      count: window.count,
      addresses: window.addresses.size,
      since: new Date(window.start).toISOString(),
      reasons: top(window.reasons),
      hosts: top(window.hosts),
    });
  };
  const timer = setInterval(() => {
    for (const [network, window] of windows) if (now() - window.start >= MINUTE_MS) flush(network);
  }, 10_000);
  timer.unref();
  return {
    write(record, meta) {
      if (!isRefusalBeforeIdentity(record, meta?.beforeIdentity)) return audit.write(record);
      const ip = 'ip' in record ? record.ip : '';
      if (budget.take(ip).allowed) return audit.write(record);
      let network = networkOf(ip);
      if (!windows.has(network) && windows.size >= MAX_NETWORKS) network = '*';
      let window = windows.get(network);
      if (window && now() - window.start >= MINUTE_MS) {
        flush(network);
        window = undefined;
      }
      if (!window) {
        window = { start: now(), count: 0, addresses: new Set(), reasons: new Map(), hosts: new Map() };
        windows.set(network, window);
      }
      window.count++;
      if (window.addresses.size < MAX_TALLY_KEYS) window.addresses.add(ip);
      tally(window.reasons, reasonOf(record));
      tally(window.hosts, targetOf(record));
    },
    health: () => audit.health(),
    async close() {
      clearInterval(timer);
      for (const network of [...windows.keys()]) flush(network);
      await audit.close();
    },
  };
}

function reasonOf(record: AuditRecord): string {
  if ('reason' in record) return `${'status' in record ? `${record.status} ` : ''}${record.reason}`;
  return 'status' in record ? String(record.status) : record.event;
}

function targetOf(record: AuditRecord): string {
  switch (record.event) {
    case 'access':
      return record.app;
    case 'admin':
      return record.action;
    case 'tunnel':
      return `tunnel ${record.tunnel}`;
    case 'apps':
      return 'apps';
    default:
      return record.event;
  }
}

function tally(counts: Map<string, number>, key: string): void {
  const text = key.length > 128 ? `${key.slice(0, 128)}…` : key;
  if (counts.has(text) || counts.size < MAX_TALLY_KEYS) counts.set(text, (counts.get(text) ?? 0) + 1);
  else counts.set('(others)', (counts.get('(others)') ?? 0) + 1);
}

function top(counts: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).slice(0, SUPPRESSED_TOP));
}
