// JSON-lines audit log of every access decision and of every allowed stream's end.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

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
  /** Operators' API (issue 9): every call, allowed or not. */
  | { event: 'admin'; who: string; ip: string; action: string; target: string; decision: 'allow' | 'deny'; reason: string; status: number };

export interface AuditLog {
  write(record: AuditRecord): void;
  close(): Promise<void>;
}

export function openAuditLog(file: string | undefined): AuditLog {
  if (!file) return { write: () => {}, close: async () => {} };
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
