// Sign out everywhere (`airlock access logout --all`, the tray's "Sign out everywhere"): revoke at
// its edge every session a stored token belongs to, then forget every token. The edges end the
// streams open under those sessions (docs/security.md "What ends when").
import { tokenExpiry, tokenIssuer, type TokenStore } from './token-store.js';
import { revokeAtEdge } from './edge-logout.js';
import type { EdgeDial } from './edge-http.js';

export interface EdgeSignOut {
  /** The edge's sign-in origin (the tokens' issuer). */
  edge: string;
  /** Sessions revoked there. */
  revoked: number;
  /** Why some could not be (the edge unreachable): their tokens are forgotten all the same. */
  error?: string;
}

/** One token per live session, grouped by the edge that issued it (pure). */
export function sessionsByEdge(tokens: string[], now = Date.now()): Map<string, string[]> {
  const seen = new Set<string>();
  const byEdge = new Map<string, string[]>();
  for (const token of tokens) {
    const issuer = tokenIssuer(token);
    const sid = sessionIdOf(token);
    if (!issuer || !sid || (tokenExpiry(token) ?? 0) <= now || seen.has(`${issuer} ${sid}`)) continue;
    seen.add(`${issuer} ${sid}`);
    byEdge.set(issuer, [...(byEdge.get(issuer) ?? []), token]);
  }
  return byEdge;
}

export async function signOutEverywhere(options: {
  store: Pick<TokenStore, 'tokens' | 'clear'>;
  /** How to reach an edge; default: by name, trusting the system CAs. */
  dialFor?: (edge: string) => EdgeDial | undefined;
}): Promise<EdgeSignOut[]> {
  const byEdge = sessionsByEdge(await options.store.tokens());
  const results = await Promise.all(
    [...byEdge].map(async ([edge, tokens]): Promise<EdgeSignOut> => {
      let revoked = 0;
      let error: string | undefined;
      for (const token of tokens) {
        const dial = options.dialFor?.(edge);
        try {
          if (await revokeAtEdge({ edgeOrigin: edge, token, ...(dial ? { dial } : {}) })) revoked++;
        } catch (failure) {
          error = (failure as Error).message;
        }
      }
      return { edge, revoked, ...(error ? { error } : {}) };
    }),
  );
  await options.store.clear();
  return results;
}

/** The `sid` claim, read without verifying: only to send each session's sign-out once. */
function sessionIdOf(token: string): string | undefined {
  try {
    const { sid } = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      sid?: unknown;
    };
    return typeof sid === 'string' && sid ? sid : undefined;
  } catch {
    return undefined;
  }
}
