// JSON-lines audit log of every access decision and of every allowed stream's end.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { withRefusalBudget } from './refusal-budget.js';

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
  close(): Promise<void>;
}

export function openAuditLog(file: string | undefined): AuditLog {
  if (!file) return { write: () => {}, close: async () => {} };
  return withRefusalBudget(openAuditFile(file));
}

/** A request's text as a record holds it: at most MAX_AUDIT_FIELD_CHARS, cut visibly. */
export function auditField(text: string): string {
  return text.length > MAX_AUDIT_FIELD_CHARS ? `${text.slice(0, MAX_AUDIT_FIELD_CHARS)}…` : text;
}

function openAuditFile(file: string): AuditLog {
  let stream: WriteStream | NodeJS.WriteStream;
  if (file === '-') stream = process.stdout;
  else {
    mkdirSync(dirname(file), { recursive: true });
    stream = createWriteStream(file, { flags: 'a', mode: 0o600 });
  }
  return {
    write(record) {
      stream.write(`${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
    },
    close() {
      if (stream === process.stdout) return Promise.resolve();
      return new Promise((resolve) => (stream as WriteStream).end(resolve));
    },
  };
}
