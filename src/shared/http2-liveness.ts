// Liveness of an edge ↔ connector HTTP/2 session, checked from both ends: a ping each interval,
// and a session whose previous ping is still unanswered is destroyed. This finds a peer that
// vanished without a FIN, and a session nghttp2 shut down on its own after a protocol error
// (Node reports neither).
import type { Http2Session } from 'node:http2';

export const LIVENESS_INTERVAL_MS = 15_000;

export function watchLiveness(session: Http2Session, intervalMs = LIVENESS_INTERVAL_MS): void {
  let awaiting = false;
  const timer = setInterval(() => {
    if (awaiting) return void session.destroy();
    awaiting = true;
    const sent = session.ping((error) => {
      awaiting = false;
      if (error) session.destroy();
    });
    if (!sent) session.destroy();
  }, intervalMs);
  timer.unref();
  session.once('close', () => clearInterval(timer));
}

/** Resolves true when the peer answers a ping within timeoutMs. */
export function answersPing(session: Http2Session, timeoutMs: number): Promise<boolean> {
  if (session.destroyed || session.closed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    const sent = session.ping((error) => {
      clearTimeout(timer);
      resolve(!error);
    });
    if (!sent) {
      clearTimeout(timer);
      resolve(false);
    }
  });
}
