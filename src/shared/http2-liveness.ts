// Liveness of an edge ↔ connector HTTP/2 session, checked from both ends. Any frame received
// (data, headers, settings, window updates, pings and their answers) is life: a busy session is
// never pinged, let alone destroyed, because its pong may queue behind megabytes of data. A
// session that received nothing for an interval is pinged, and one that received nothing for the
// interval after that (not even the pong) is destroyed: a peer that vanished without a FIN, or a
// session nghttp2 shut down on its own after a protocol error (Node reports neither). A session
// that is closing or destroyed is never pinged or touched again.
import type { Http2Session } from 'node:http2';

export const LIVENESS_INTERVAL_MS = 15_000;

/** Bytes the session has received so far (TLS plaintext, so every frame counts); undefined once it is gone. */
export function receivedBytes(session: Http2Session): number | undefined {
  if (session.destroyed || session.closed) return undefined;
  try {
    const bytes = session.socket?.bytesRead;
    return typeof bytes === 'number' ? bytes : undefined;
  } catch {
    return undefined; // the socket was unbound from the session a moment ago
  }
}

/** Sends a ping unless the session is closing or gone; false when it could not be sent. */
function safePing(session: Http2Session, callback: (error: Error | null) => void): boolean {
  if (session.destroyed || session.closed) return false;
  try {
    return session.ping(callback);
  } catch {
    return false; // ERR_HTTP2_INVALID_SESSION: destroyed between the check and the call
  }
}

export function watchLiveness(session: Http2Session, intervalMs = LIVENESS_INTERVAL_MS): void {
  let seen = receivedBytes(session) ?? 0;
  let pinged = false;
  const timer = setInterval(() => {
    const now = receivedBytes(session);
    if (now === undefined) return stop();
    if (now !== seen) {
      seen = now;
      pinged = false;
      return;
    }
    if (pinged) {
      stop();
      session.destroy();
      return;
    }
    // A ping that cannot be sent (too many outstanding) still gets its interval to see an answer.
    pinged = true;
    safePing(session, () => {});
  }, intervalMs);
  timer.unref();
  const stop = () => {
    clearInterval(timer);
    session.off('close', stop);
    session.off('error', stop);
    session.off('goaway', stop);
  };
  session.once('close', stop);
  session.once('error', stop);
  // After GOAWAY the session is closing: its owner drains and destroys it on its own deadline.
  session.once('goaway', stop);
}

/**
 * Resolves true when the session shows life within timeoutMs: the peer answers a ping, or any
 * frame arrives (a session busy with data may answer the ping only after what is queued before it).
 */
export function answersPing(session: Http2Session, timeoutMs: number): Promise<boolean> {
  const before = receivedBytes(session);
  if (before === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (alive: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(watch);
      resolve(alive);
    };
    const timer = setTimeout(() => settle(false), timeoutMs);
    const watch = setInterval(
      () => {
        const now = receivedBytes(session);
        if (now === undefined) settle(false);
        else if (now !== before) settle(true);
      },
      Math.max(10, Math.floor(timeoutMs / 20)),
    );
    // A ping that cannot be sent (too many outstanding) leaves received frames to decide.
    safePing(session, (error) => settle(!error));
  });
}
