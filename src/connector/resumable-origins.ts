// The connector's resumable streams (docs/architecture.md "Resumable streams"): each origin socket
// whose client asked to resume is held with its ResumableStream, its resume secret (hashed) and the
// identity it was opened for, so a later CONNECT carrying the token can reattach it.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DEFAULTS, RESUME } from '../shared/constants.js';
import { ResumableStream } from '../shared/resumable-stream.js';

export interface ResumeLimits {
  windowMs: number;
  bufferBytes: number;
}

interface Held {
  session: ResumableStream;
  secretHash: Buffer;
  identity: string;
  edgeId: string;
}

/** `WINDOW_MS,BUFFER_BYTES` from the edge, clamped to what a connector accepts; undefined if malformed. */
export function parseResumeLimits(header: unknown): ResumeLimits | undefined {
  const match = typeof header === 'string' ? /^(\d{1,9}),(\d{1,10})$/.exec(header) : null;
  if (!match) return undefined;
  return {
    windowMs: Math.min(Math.max(Number(match[1]), 1_000), RESUME.maxWindowMs),
    bufferBytes: Math.min(Math.max(Number(match[2]), RESUME.minBufferBytes), RESUME.maxBufferBytes),
  };
}

/** The identity a stream is bound to: the service token's id or the user's subject, not display fields. */
export function identityKey(header: unknown): string {
  try {
    const parsed = JSON.parse(String(header)) as { kind?: string; id?: string; sub?: string };
    return parsed.kind === 'service-token' ? `service-token:${parsed.id}` : `user:${parsed.sub}`;
  } catch {
    return '';
  }
}

const hash = (secret: string) => createHash('sha256').update(secret).digest();

export class ResumableOrigins {
  private readonly held = new Map<string, Held>();

  constructor(private readonly connectorId: string) {}

  get size(): number {
    return this.held.size;
  }

  /** A new resumable stream: its session and the token the client will present to resume it. */
  create(
    streamId: string,
    identity: string,
    edgeId: string,
    limits: ResumeLimits,
  ): { session: ResumableStream; token: string } {
    const secret = randomBytes(32).toString('base64url');
    const session = new ResumableStream({ ...limits, maxFrameBytes: DEFAULTS.maxFrameBytes });
    this.held.set(streamId, { session, secretHash: hash(secret), identity, edgeId });
    session.once('close', () => this.held.delete(streamId));
    return { session, token: `${this.connectorId}.${streamId}.${secret}` };
  }

  /**
   * The held stream a token names, if the token's secret and the identity match and the stream is
   * still within its window; otherwise why not (the same words for an unknown stream and a wrong
   * secret, so a guess learns nothing).
   */
  find(
    streamId: string,
    token: string,
    identity: string,
  ): { session: ResumableStream; edgeId: string } | { refusal: string } {
    const [connectorId, tokenStreamId, secret] = token.split('.');
    const held = this.held.get(streamId);
    const secretMatches =
      held !== undefined &&
      connectorId === this.connectorId &&
      tokenStreamId === streamId &&
      secret !== undefined &&
      timingSafeEqual(hash(secret), held.secretHash);
    if (!held || !secretMatches || held.session.destroyed)
      return { refusal: 'no such stream to resume (unknown, ended, or past its window)' };
    if (held.identity !== identity) return { refusal: 'the stream belongs to another identity' };
    return { session: held.session, edgeId: held.edgeId };
  }

  /** Records which edge carries the stream now. */
  moved(streamId: string, edgeId: string): void {
    const held = this.held.get(streamId);
    if (held) held.edgeId = edgeId;
  }

  /** Stopping: every held stream is reset (its client cannot resume on a connector that is gone). */
  resetAll(reason: string): void {
    for (const { session } of this.held.values()) session.abort(reason);
  }
}
