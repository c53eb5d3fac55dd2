// How a relayed stream ends, shared by the connector relay (stream-relay.ts) and the edge-to-edge
// bridge (relay-bridge.ts).
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { CLOSE } from '../../shared/constants.js';
import type { AuditLog } from '../observability/audit-log.js';
import type { EdgeMetrics } from '../observability/metrics.js';

/** Where a stream's figures go: the metrics and its stream-end audit record. */
export interface StreamDeps {
  audit: AuditLog;
  metrics: EdgeMetrics;
}

/** What the stream-end record names, and how to give the stream's slot back. */
export interface StreamAbout {
  streamId: string;
  who: string;
  app: string;
  release: () => void;
}

/** What the gateway keeps of a running stream, to end it when access ends (open-streams.ts). */
export interface StreamHandle {
  /** Epoch ms of the last byte either way. */
  lastActive(): number;
  /** Closes the client's WebSocket with CLOSE.accessEnded and `reason`, cancels the far side, audits. */
  end(reason: string): void;
}

/**
 * Closes the client's WebSocket on a stream that cannot go on, and from then on reads what the client
 * still sends into nothing. Its upload may have been held back (the WebSocket paused while the far
 * side was full); paused, the edge would never read the client's close reply behind it, and the
 * client would learn of the end only when the 30 s closing timeout dropped the connection.
 */
export function closeDiscarding(ws: WebSocket, upload: Duplex, code: number, reason: string): void {
  if (ws.readyState === ws.OPEN) ws.close(code, reason);
  upload.unpipe();
  upload.resume();
}

/** After the client has gone and its upload has been sent on, how long the origin may take to finish. */
export const ORIGIN_GRACE_MS = 30_000;

/** How the client's WebSocket ended, for the audit record. */
export function closeOutcome(code: number, reason = ''): string {
  if (code === CLOSE.accessEnded) return `ended: ${reason || 'access ended'}`;
  if (code === CLOSE.normal || code === CLOSE.noStatus) return 'closed';
  if (code === CLOSE.abnormal) return 'client left without a close frame (1006)';
  return `closed (${code})`;
}

/** One stream's figures into the metrics and its stream-end audit record. */
export function recordStreamEnd(
  deps: StreamDeps,
  about: { streamId: string; who: string; app: string },
  figures: { bytesUp: number; bytesDown: number; started: number; outcome: string; endedFirst?: 'client' | 'origin' },
): void {
  const { bytesUp, bytesDown, started, outcome, endedFirst } = figures;
  deps.metrics.activeStreams.dec();
  deps.metrics.bytes.inc({ direction: 'up' }, bytesUp);
  deps.metrics.bytes.inc({ direction: 'down' }, bytesDown);
  deps.audit.write({
    event: 'stream-end',
    ...about,
    bytesUp,
    bytesDown,
    durationMs: Date.now() - started,
    outcome,
    ...(endedFirst ? { endedFirst } : {}),
  });
}
