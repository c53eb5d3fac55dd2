// Reconnect delays: an exponential ceiling, and a uniform draw between base/2 and that ceiling, so
// connectors cut off together by an edge restart come back spread out instead of as a thundering
// herd. Not quite "full jitter" (which draws from 0): the base/2 floor keeps a retry off 0 ms.
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(baseMs / 2 + random() * (ceiling - baseMs / 2));
}
