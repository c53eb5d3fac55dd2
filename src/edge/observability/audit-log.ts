// JSON-lines audit log of every access decision and of every allowed stream's end.
import { openAuditFile as openResilientFile, type AuditFileOptions, type AuditHealth } from './audit-file.js';
import { withRefusalBudget } from './refusal-budget.js';

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
  /** Refusals before identity from one network beyond its allowance (refusal-budget.ts): not written, counted. */
  | {
      event: 'suppressed';
      network: string;
      count: number;
      addresses: number;
      since: string;
      reasons: Record<string, number>;
      hosts: Record<string, number>;
    };
/** Longest text of a request (a hostname, a path) copied into a record; longer ones are cut with "…". */
export const MAX_AUDIT_FIELD_CHARS = 256;

export interface AuditLog {
  /** `beforeIdentity`: a refusal made before anyone was identified, under the refusal budget. */
  write(record: AuditRecord, meta?: { beforeIdentity?: boolean }): void;
  /** Whether records reach the log; undefined without one. */
  health(): AuditHealth | undefined;
  close(): Promise<void>;
}

export function openAuditLog(file: string | undefined, options: AuditFileOptions = {}): AuditLog {
  if (!file) return { write: () => {}, health: () => undefined, close: async () => {} };
  return withRefusalBudget(openAuditFile(file, options));
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
