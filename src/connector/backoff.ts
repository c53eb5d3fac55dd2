// Reconnect delays: exponential with full jitter, so connectors cut off together by an edge
// restart come back spread out instead of as a thundering herd.
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(baseMs / 2 + random() * (ceiling - baseMs / 2));
}
