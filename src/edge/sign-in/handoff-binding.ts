// Binds a hand-off (`/authorized?code=…` on an app host) to the browser that started the sign-in,
// so a code minted for someone else signs no one in (login CSRF). The app host sets a random
// binding cookie before sending the browser to the sign-in host, with the cookie's sha256 in the
// URL; the hand-off stores that hash, and /authorized on the app host wants the cookie back.
// A native client that trades its organisation session (src/core/organisation-session.ts) makes
// its own binding the same way: the hash in the login URL, the value as the cookie.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { PATH, SSO } from '../../shared/constants.js';
import { readCookie, setCookie } from '../http/http-cookies.js';

export const BINDING_PARAM = SSO.handoffBindingParam;
const HASH_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function bindingHash(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** A fresh binding: the cookie for the app host and the hash for the sign-in host. */
export function newBinding(secure: boolean): { cookie: string; hash: string } {
  const value = randomBytes(32).toString('base64url');
  const cookie = setCookie(SSO.handoffBindingCookie, value, {
    maxAgeSeconds: SSO.loginStateTtlMs / 1000,
    path: PATH.authorized,
    secure,
  });
  return { cookie, hash: bindingHash(value) };
}

/** The binding hash a login URL carries, when well formed. */
export function presentedHash(url: URL): string | undefined {
  const hash = url.searchParams.get(BINDING_PARAM) ?? '';
  return HASH_PATTERN.test(hash) ? hash : undefined;
}

/** Whether the browser at /authorized holds the binding whose hash the hand-off carries. */
export function holdsBinding(req: IncomingMessage, hash: string): boolean {
  const value = readCookie(req.headers, SSO.handoffBindingCookie);
  return value !== undefined && value.length <= 256 && bindingHash(value) === hash;
}

/**
 * Browsers send Fetch Metadata (Sec-Fetch-*) with every https request; clients of the protocol
 * (cloudflared's org-token exchange, which keeps no cookies) do not. A browser always gets a bound
 * hand-off, and an unbound code (minted for such a client) is refused to a browser, so it cannot
 * be sent as a link. Browsers too old for Fetch Metadata are not protected by the latter.
 */
export function isBrowser(req: IncomingMessage): boolean {
  return req.headers['sec-fetch-mode'] !== undefined || req.headers['sec-fetch-site'] !== undefined;
}

export function clearBinding(secure: boolean): string {
  return setCookie(SSO.handoffBindingCookie, '', { maxAgeSeconds: 0, path: PATH.authorized, secure });
}
