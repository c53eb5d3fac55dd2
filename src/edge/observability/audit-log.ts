// JSON-lines audit log of every access decision and of every allowed stream's end.
import { openAuditFile as openResilientFile, type AuditFileOptions, type AuditHealth } from './audit-file.js';

export type { AuditHealth };

export type AuditRecord =
  | {
      event: 'access';
      streamId: string;
      who: string;
      app: string;
      ip: string;
      decision: 'allow' | 'deny' | 'login';
      reason: string;
      status: number;
    }
  | {
      event: 'stream-end';
      streamId: string;
      who: string;
      app: string;
      bytesUp: number;
      bytesDown: number;
      durationMs: number;
      outcome: string;
      /** Which side ended its sending first (for a stream that carried bytes). */
      endedFirst?: 'client' | 'origin';
    }
  | { event: 'tunnel'; tunnel: string; connector: string; ip: string; decision: 'allow' | 'deny'; reason: string }
  /** A resumable stream's client came back (docs/architecture.md "Resumable streams"), resumed or refused. */
  | {
      event: 'stream-resume';
      streamId: string;
      who: string;
      app: string;
      ip: string;
      outcome: 'resumed' | 'refused';
      reason?: string;
      edgeBefore?: string;
      edgeAfter: string;
      gapMs?: number;
      bytesReplayedUp?: number;
      bytesReplayedDown?: number;
    }
  /** Operators' API: every call, allowed or not. */
  | {
      event: 'admin';
      who: string;
      ip: string;
      action: string;
      target: string;
      decision: 'allow' | 'deny';
      reason: string;
      status: number;
    }
  /** Discovery: who asked which apps they may reach, and how many were listed (never which others exist). */
  | { event: 'apps'; who: string; ip: string; status: number; listed: number }
  /** Anonymous refusals from one address beyond the per-minute allowance: how many were not written. */
  | { event: 'suppressed'; ip: string; count: number; since: string };

/** Anonymous refusals written per address and minute; the rest are counted in a `suppressed` record. */
export const ANONYMOUS_REFUSALS_PER_MINUTE = 60;
/** Longest text of a request (a hostname, a path) copied into a record; longer ones are cut with "…". */
export const MAX_AUDIT_FIELD_CHARS = 256;

export interface AuditLog {
  write(record: AuditRecord): void;
  /** Whether records reach the log; undefined without one. */
  health(): AuditHealth | undefined;
  close(): Promise<void>;
}

export function openAuditLog(file: string | undefined, options: AuditFileOptions = {}): AuditLog {
  if (!file) return { write: () => {}, health: () => undefined, close: async () => {} };
  return limitAnonymousRefusals(openAuditFile(file, options));
}

/**
 * Anyone can send requests that are refused, and each would be a record: past the allowance per
 * address and minute they are counted instead, and the count is written as one `suppressed`
 * record when the minute ends (or the log closes), so neither the disk fills nor the traces vanish.
 */
export function limitAnonymousRefusals(
  audit: AuditLog,
  options: { perMinute?: number; now?: () => number } = {},
): AuditLog {
  const perMinute = options.perMinute ?? ANONYMOUS_REFUSALS_PER_MINUTE;
  const now = options.now ?? Date.now;
  const windows = new Map<string, { start: number; written: number; suppressed: number }>();
  const flush = (ip: string) => {
    const window = windows.get(ip);
    if (window && window.suppressed > 0)
      audit.write({ event: 'suppressed', ip, count: window.suppressed, since: new Date(window.start).toISOString() });
    windows.delete(ip);
  };
  const timer = setInterval(() => {
    for (const [ip, window] of windows) if (now() - window.start >= 60_000) flush(ip);
  }, 10_000);
  timer.unref();
  return {
    write(record) {
      const anonymousRefusal = record.event === 'access' && record.who === 'anonymous' && record.decision !== 'allow';
      if (!anonymousRefusal) return audit.write(record);
      let window = windows.get(record.ip);
      if (window && now() - window.start >= 60_000) {
        flush(record.ip);
        window = undefined;
      }
      if (!window) windows.set(record.ip, (window = { start: now(), written: 0, suppressed: 0 }));
      if (window.written >= perMinute) {
        window.suppressed++;
        return;
      }
      window.written++;
      audit.write(record);
    },
    health: () => audit.health(),
    async close() {
      clearInterval(timer);
      for (const ip of [...windows.keys()]) flush(ip);
      await audit.close();
    },
  };
}

/** A request's text as a record holds it: at most MAX_AUDIT_FIELD_CHARS, cut visibly. */
export function auditField(text: string): string {
  return text.length > MAX_AUDIT_FIELD_CHARS ? `${text.slice(0, MAX_AUDIT_FIELD_CHARS)}…` : text;
}

function openAuditFile(file: string, options: AuditFileOptions): AuditLog {
  const line = (record: AuditRecord) => `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`;
  if (file === '-') {
    // stdout cannot be reopened: after an error (a closed pipe) records are counted as dropped.
    let failed: AuditHealth | undefined;
    process.stdout.on('error', (error) => {
      failed ??= {
        writable: false,
        failingSince: new Date().toISOString(),
        error: error.message,
        buffered: 0,
        dropped: 0,
      };
      options.onChange?.(failed);
    });
    return {
      write(record) {
        if (!failed) return void process.stdout.write(line(record));
        failed.dropped++;
        options.onDrop?.();
      },
      health: () => failed ?? { writable: true, buffered: 0, dropped: 0 },
      close: () => Promise.resolve(),
    };
  }
  const sink = openResilientFile(file, options);
  return { write: (record) => sink.writeLine(line(record)), health: () => sink.health(), close: () => sink.close() };
}
