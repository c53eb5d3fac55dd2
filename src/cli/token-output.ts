// The CLI's token store and how it talks about tokens (never printing one unless asked to).
import type { AppSession } from '../core/sign-in.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createTokenStore, defaultTokenFile, tokenExpiry, type TokenStore } from '../core/token-store.js';
import { say } from './args.js';

let store: TokenStore | undefined;

export function cliTokenStore(): TokenStore {
  store ??= createTokenStore({ warn: sayOnce });
  return store;
}

/**
 * The keychain fallback notice, once per machine and reason rather than on every command: the
 * sentence last shown is kept beside the token file; `access token --where` always tells.
 */
function sayOnce(message: string): void {
  const marker = join(dirname(defaultTokenFile()), 'notice-shown');
  try {
    if (readFileSync(marker, 'utf8') === message) return;
  } catch {
    // Not shown yet.
  }
  say(`airlock: warning: [KEYCHAIN_UNAVAILABLE] ${message}`);
  try {
    mkdirSync(dirname(marker), { recursive: true, mode: 0o700 });
    writeFileSync(marker, message, { mode: 0o600 });
  } catch {
    // Shown again next time: harmless.
  }
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
