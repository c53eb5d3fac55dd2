// The edge's part in resumable streams (docs/architecture.md "Resumable streams"): it passes the
// client's request for one on to the connector and the connector's grant back in the 101, and
// routes a resume (re-authorised like any upgrade) to the connector that holds the stream. The
// bytes between the two ends stay opaque here, except for counting their payload.
import type { IncomingMessage } from 'node:http';
import type http2 from 'node:http2';
import { HEADER, RESUME } from '../../shared/constants.js';
import type { AppConfig } from '../config/config.js';
import type { AuditLog } from '../observability/audit-log.js';
import type { EdgeMetrics } from '../observability/metrics.js';

export type ResumeRequest =
  { kind: 'new' } | { kind: 'resume'; token: string; connectorId: string; streamId: string; offsets: string };

/** CONNECTOR_ID.STREAM_ID.SECRET: ids without dots, a 256-bit secret in base64url. */
const TOKEN = /^([A-Za-z0-9_:-]{1,128})\.([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/;

/** What the upgrade asks for: a new resumable stream, a resume, neither, or a token that is not one. */
export function resumeRequest(req: IncomingMessage): ResumeRequest | 'malformed' | undefined {
  const token = req.headers[HEADER.resumeToken];
  if (token !== undefined) {
    const match = typeof token === 'string' ? TOKEN.exec(token) : null;
    if (!match) return 'malformed';
    const text = match[0];
    const offsets = String(req.headers[HEADER.resumeOffsets] ?? '');
    return {
      kind: 'resume',
      token: text,
      connectorId: match[1]!,
      streamId: match[2]!,
      offsets: /^\d{1,16},\d{1,16}$/.test(offsets) ? offsets : '',
    };
  }
  return req.headers[HEADER.resume] === '1' ? { kind: 'new' } : undefined;
}

/** The CONNECT headers that carry the request on to the connector. */
export function connectHeaders(
  request: ResumeRequest | undefined,
  app: AppConfig,
  edgeId: string,
): Record<string, string> {
  if (!request) return {};
  if (request.kind === 'new') {
    const { windowMs, bufferBytes } = resumeLimits(app);
    return { [HEADER.resume]: `${windowMs},${bufferBytes}`, [HEADER.edgeId]: edgeId };
  }
  return { [HEADER.resumeToken]: request.token, [HEADER.resumeOffsets]: request.offsets, [HEADER.edgeId]: edgeId };
}

/**
 * The resume headers of the client's request, for a relay to the edge holding the connector, with
 * this (the client's) edge's id: the connector and the audit name the edge the client is on.
 */
export function relayedHeaders(req: IncomingMessage, edgeId: string): Record<string, string> {
  const forwarded: Record<string, string> = { [HEADER.edgeId]: edgeId };
  for (const name of [HEADER.resume, HEADER.resumeToken, HEADER.resumeOffsets]) {
    const value = req.headers[name];
    if (typeof value === 'string') forwarded[name] = value;
  }
  return forwarded;
}

export function resumeLimits(app: AppConfig): { windowMs: number; bufferBytes: number } {
  return app.resume ?? { windowMs: RESUME.windowMs, bufferBytes: RESUME.bufferBytes };
}

/** The connector's (or the relay edge's) grant, as header lines for the client's 101; none if it gave none. */
export function grantLines(headers: http2.IncomingHttpHeaders | IncomingMessage['headers']): string[] {
  const token = headers[HEADER.resumeToken];
  const limits = headers[HEADER.resume];
  if (typeof token !== 'string' || !TOKEN.test(token)) return [];
  if (typeof limits !== 'string' || !/^\d{1,9},\d{1,10}$/.test(limits)) return [];
  return [`${HEADER.resumeToken}: ${token}`, `${HEADER.resume}: ${limits}`];
}

export interface ResumeReport {
  gapMs?: number;
  replayUp?: number;
  replayDown?: number;
  previousEdge?: string;
}

export function parseReport(value: unknown): ResumeReport {
  try {
    const parsed = JSON.parse(String(value)) as Record<string, unknown>;
    const number = (key: string) => (Number.isSafeInteger(parsed[key]) ? (parsed[key] as number) : undefined);
    return {
      gapMs: number('gapMs'),
      replayUp: number('replayUp'),
      replayDown: number('replayDown'),
      previousEdge: typeof parsed.previousEdge === 'string' ? parsed.previousEdge.slice(0, 64) : undefined,
    };
  } catch {
    return {};
  }
}

/** The stream-resume record and the metrics, resumed or refused. */
export function recordResume(
  deps: { audit: AuditLog; metrics: EdgeMetrics },
  /** `connectorEdge`: this edge, when the client is on another (edgeId) that relays to it. */
  about: { streamId: string; who: string; app: string; ip: string; edgeId: string; connectorEdge?: string },
  result: { outcome: 'resumed'; report: ResumeReport } | { outcome: 'refused'; reason: string },
): void {
  deps.metrics.streamResumes.inc({ outcome: result.outcome });
  const { edgeId, ...fields } = about;
  if (result.outcome === 'refused') {
    deps.audit.write({
      event: 'stream-resume',
      ...fields,
      outcome: 'refused',
      reason: result.reason,
      edgeAfter: edgeId,
    });
    return;
  }
  const { report } = result;
  if (report.replayUp) deps.metrics.resumeReplayedBytes.inc({ direction: 'up' }, report.replayUp);
  if (report.replayDown) deps.metrics.resumeReplayedBytes.inc({ direction: 'down' }, report.replayDown);
  deps.audit.write({
    event: 'stream-resume',
    ...fields,
    outcome: 'resumed',
    edgeAfter: edgeId,
    ...(report.previousEdge ? { edgeBefore: report.previousEdge } : {}),
    ...(report.gapMs !== undefined ? { gapMs: report.gapMs } : {}),
    ...(report.replayUp !== undefined ? { bytesReplayedUp: report.replayUp } : {}),
    ...(report.replayDown !== undefined ? { bytesReplayedDown: report.replayDown } : {}),
  });
}
