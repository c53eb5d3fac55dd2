// Requests from the edge to the IdP (discovery, JWKS, the token endpoint), for many sign-ins at
// once: at most IDP.maxConcurrentRequests in flight per edge, the rest waiting their turn, each
// given IDP.requestTimeoutSeconds once it is sent. A burst of sign-ins (a team starting its day,
// a balancer moving everyone at once) otherwise sends every code exchange to the IdP together,
// and on a busy IdP they all run out of time together.
import type { CustomFetch } from 'openid-client';
import { IDP } from '../../shared/constants.js';

export function queuedFetch(
  options: { maxConcurrent?: number; timeoutSeconds?: number; fetch?: typeof fetch } = {},
): CustomFetch {
  const maxConcurrent = options.maxConcurrent ?? IDP.maxConcurrentRequests;
  const timeoutMs = (options.timeoutSeconds ?? IDP.requestTimeoutSeconds) * 1000;
  const send = options.fetch ?? fetch;
  let active = 0;
  const waiting: (() => void)[] = [];
  /** Resolves when this request may go; rejects if the caller's own deadline passes first. */
  const turn = (signal: AbortSignal | undefined) =>
    new Promise<void>((resolve, reject) => {
      if (active < maxConcurrent) return void (active++, resolve());
      const go = () => {
        signal?.removeEventListener('abort', giveUp);
        resolve();
      };
      const giveUp = () => {
        waiting.splice(waiting.indexOf(go), 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', giveUp, { once: true });
      waiting.push(go);
    });
  const done = () => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };
  return async (url, init) => {
    await turn(init.signal);
    try {
      // Its own time limit starts when the request leaves, not while it waits its turn.
      const sent = AbortSignal.timeout(timeoutMs);
      const signal = init.signal ? AbortSignal.any([init.signal, sent]) : sent;
      return await send(url, { ...init, signal } as RequestInit);
    } finally {
      done();
    }
  };
}
