// The audit log's file, written so that a failing disk never takes the edge down: a write error
// (a full disk, a lost volume) marks the log unwritable, records queue in a bounded buffer (the
// newest beyond it are counted, not kept), and the file is reopened every few seconds. Once a
// write succeeds, the buffer is written, then one `audit-gap` record saying how many records were
// lost and from when to when.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { AUDIT } from '../../shared/constants.js';

export interface AuditHealth {
  writable: boolean;
  /** When writing first failed (ISO), while it is failing. */
  failingSince?: string;
  /** The write error, e.g. "ENOSPC: no space left on device, write". */
  error?: string;
  /** Records held for when writing works again. */
  buffered: number;
  /** Records lost since writing failed (the buffer was full). */
  dropped: number;
}

export interface AuditFileOptions {
  bufferRecords?: number;
  retryMs?: number;
  /** Called when the log becomes unwritable (with the error) and when it is written again. */
  onChange?: (health: AuditHealth) => void;
  /** Called for every record lost. */
  onDrop?: () => void;
}

export interface AuditFile {
  writeLine(line: string): void;
  health(): AuditHealth;
  close(): Promise<void>;
}

export function openAuditFile(file: string, options: AuditFileOptions = {}): AuditFile {
  const bufferRecords = options.bufferRecords ?? AUDIT.bufferRecords;
  const retryMs = options.retryMs ?? AUDIT.retryMs;
  mkdirSync(dirname(file), { recursive: true });
  let stream: WriteStream | undefined;
  /** Lines handed to the stream whose write has not yet been confirmed. */
  let inFlight: string[] = [];
  let failing: { since: number; error: string } | undefined;
  let buffer: string[] = [];
  let dropped: { count: number; from: number; to: number } | undefined;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;

  const health = (): AuditHealth => ({
    writable: !failing,
    ...(failing ? { failingSince: new Date(failing.since).toISOString(), error: failing.error } : {}),
    buffered: buffer.length,
    dropped: dropped?.count ?? 0,
  });

  const open = (): WriteStream => {
    const opened = createWriteStream(file, { flags: 'a', mode: 0o600 });
    opened.on('error', (error) => fail(opened, error));
    return opened;
  };

  const fail = (from: WriteStream, error: Error) => {
    if (from !== stream) return;
    stream = undefined;
    from.destroy();
    // What was handed over but not confirmed may not be on disk: it goes first when writing resumes.
    buffer = [...inFlight, ...buffer];
    inFlight = [];
    if (!failing) {
      failing = { since: Date.now(), error: error.message };
      options.onChange?.(health());
    }
    if (!closed) scheduleRetry();
  };

  const scheduleRetry = () => {
    if (retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      resume();
    }, retryMs);
    retry.unref();
  };

  /** Reopens the file and writes the buffer and the gap record; a failure leaves everything queued. */
  const resume = () => {
    if (closed || stream) return;
    const attempt = (stream = open());
    const gap = dropped;
    inFlight = buffer;
    buffer = [];
    attempt.write(inFlight.join('') + (gap ? gapRecord(gap, failing!.since) : ''), (error) => {
      if (error || attempt !== stream) return;
      inFlight = [];
      // Records lost while this write was under way are reported by a second gap record.
      if (dropped === gap) dropped = undefined;
      else if (gap && dropped) dropped = { ...dropped, count: dropped.count - gap.count, from: gap.to };
      const since = failing!.since;
      failing = undefined;
      if (dropped) attempt.write(gapRecord(dropped, since));
      dropped = undefined;
      const queued = buffer;
      buffer = [];
      for (const line of queued) writeLine(line);
      options.onChange?.(health());
    });
  };

  const writeLine = (line: string) => {
    if (closed) return;
    if (failing) {
      if (buffer.length < bufferRecords) buffer.push(line);
      else {
        const now = Date.now();
        dropped = dropped ? { ...dropped, count: dropped.count + 1, to: now } : { count: 1, from: now, to: now };
        options.onDrop?.();
      }
      return;
    }
    stream ??= open();
    const writer = stream;
    inFlight.push(line);
    writer.write(line, (error) => {
      if (!error && writer === stream) inFlight.shift();
    });
  };

  return {
    writeLine,
    health,
    close() {
      closed = true;
      clearTimeout(retry);
      const last = stream;
      stream = undefined;
      if (!last) return Promise.resolve();
      return new Promise((resolve) => last.end(() => resolve()));
    },
  };
}

function gapRecord(gap: { count: number; from: number; to: number }, failingSince: number): string {
  return `${JSON.stringify({
    time: new Date().toISOString(),
    event: 'audit-gap',
    dropped: gap.count,
    from: new Date(gap.from).toISOString(),
    to: new Date(gap.to).toISOString(),
    failingSince: new Date(failingSince).toISOString(),
  })}\n`;
}
