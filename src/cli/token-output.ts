// The CLI's token store and how it talks about tokens (never printing one unless asked to).
import type { AppSession } from '../core/sign-in.js';
import { createTokenStore, tokenExpiry, type TokenStore } from '../core/token-store.js';
import { say } from './args.js';

let store: TokenStore | undefined;

export function cliTokenStore(): TokenStore {
  store ??= createTokenStore({ warn: (message) => say(`airlock: ${message}`) });
  return store;
}

/** " as ada@example.com until 14:03" — read from the token's claims, which the edge verified. */
export function describeToken(token: string): string {
  let email = '';
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      email?: unknown;
    };
    if (typeof payload.email === 'string') email = ` as ${payload.email}`;
  } catch {
    // An opaque token still works; it just has nothing to show.
  }
  const expiry = tokenExpiry(token);
  return `${email}${expiry ? ` (session until ${new Date(expiry).toLocaleString()})` : ''}`;
}

/** "Signed in to HOST as …", and how: a user should see that the second app needed no browser. */
export function describeSignIn(hostname: string, token: string, session: AppSession): string {
  const how = session.lastSignIn();
  const origin = session.signInOrigin();
  const via =
    how === 'session' && origin
      ? `, with your session at ${new URL(origin).host} (no browser needed)`
      : how === 'stored'
        ? ' (stored token)'
        : '';
  return `Signed in to ${hostname}${describeToken(token)}${via}.`;
}
