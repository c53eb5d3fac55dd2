// The streams open at this edge, so access that ends also ends them (docs/security.md "What ends
// when"): a revoked session, a locked identity, an expired session, a stream idle too long.
// Which stream ends and why is decided by the pure dueToEnd(); the registry holds the timer.
import { STREAM_END_REASON, type StreamEndReason } from '../../shared/constants.js';

export interface OpenStream {
  streamId: string;
  app: string;
  /** describePrincipal(): an email, or service-token:ID. */
  who: string;
  /** The session behind a user's stream; a re-sign-in moves the stream to the new one. */
  sessionId?: string;
  /** Epoch ms its session expires at (users only). */
  expiresAt?: number;
  /** The app's disconnectOnExpiry: the stream ends at expiresAt. */
  endsAtExpiry?: boolean;
  idleTimeoutMs?: number;
  /** Epoch ms of the last byte either way. */
  lastActive(): number;
  /** Closes the client's WebSocket with CLOSE.accessEnded and `reason`, cancels the origin, audits. */
  end(reason: StreamEndReason): void;
}

/** How often expiry and idle times are checked: the most either may be late by. */
export const SWEEP_INTERVAL_MS = 250;

/** Why `stream` must end at `now`, if it must. */
export function dueToEnd(stream: OpenStream, now: number): StreamEndReason | undefined {
  if (stream.endsAtExpiry && stream.expiresAt !== undefined && stream.expiresAt <= now)
    return STREAM_END_REASON.expired;
  if (stream.idleTimeoutMs !== undefined && now - stream.lastActive() >= stream.idleTimeoutMs)
    return STREAM_END_REASON.idle;
  return undefined;
}

export class OpenStreams {
  // One map walked on each event: revocations and locks are rare, and a sweep visits every stream anyway.
  private readonly streams = new Map<string, OpenStream>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.streams.size;
  }

  /** Registers a stream; the returned function forgets it (call it when the stream ends). */
  add(stream: OpenStream): () => void {
    this.streams.set(stream.streamId, stream);
    if (!this.timer && (stream.endsAtExpiry || stream.idleTimeoutMs !== undefined)) {
      this.timer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
      this.timer.unref();
    }
    return () => {
      this.streams.delete(stream.streamId);
      if (this.streams.size === 0) this.stopTimer();
    };
  }

  /** Ends every stream of a revoked session; returns how many. */
  endSession(sessionId: string, reason: StreamEndReason = STREAM_END_REASON.signedOut): number {
    return this.endWhere((stream) => stream.sessionId === sessionId, reason);
  }

  /** Ends every stream of an identity (a lock); returns how many. */
  endIdentity(who: string, reason: StreamEndReason = STREAM_END_REASON.locked): number {
    const key = who.toLowerCase();
    return this.endWhere((stream) => stream.who.toLowerCase() === key, reason);
  }

  /**
   * A session of `who` for `app` that lasts longer than the one a stream opened under carries the
   * stream over: it now ends with the newer session (its sign-out, its expiry). The same session
   * with a later expiry counts too: a sign-in within an organisation session keeps its id.
   */
  renew(who: string, app: string, sessionId: string, expiresAt: number): number {
    let carried = 0;
    for (const stream of this.streams.values()) {
      if (stream.who !== who || stream.app !== app || stream.sessionId === undefined) continue;
      if ((stream.expiresAt ?? Infinity) >= expiresAt) continue;
      stream.sessionId = sessionId;
      stream.expiresAt = expiresAt;
      carried++;
    }
    return carried;
  }

  /** Ends the streams whose session expired or that were idle too long; returns how many. */
  sweep(): number {
    const now = this.now();
    let ended = 0;
    for (const stream of [...this.streams.values()]) {
      const reason = dueToEnd(stream, now);
      if (!reason) continue;
      this.streams.delete(stream.streamId);
      stream.end(reason);
      ended++;
    }
    return ended;
  }

  close(): void {
    this.stopTimer();
  }

  private endWhere(matches: (stream: OpenStream) => boolean, reason: StreamEndReason): number {
    const ending = [...this.streams.values()].filter(matches);
    for (const stream of ending) {
      this.streams.delete(stream.streamId);
      stream.end(reason);
    }
    return ending.length;
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
