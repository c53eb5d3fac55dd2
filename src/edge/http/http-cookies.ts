// Cookies the edge sets and reads: the CF_Authorization cookies (one per host: the organisation
// session on the sign-in host, an app token on each app host) and the per-login binding cookie.
import type { IncomingHttpHeaders } from 'node:http';

export interface CookieOptions {
  maxAgeSeconds: number;
  path: string;
  secure: boolean;
  /** Strict for a cookie that must never ride a cross-site request, not even a top-level one. */
  sameSite?: 'Strict' | 'Lax';
}

/**
 * Host-only (no Domain attribute), HttpOnly, SameSite=Lax: sent on the top-level redirects of a
 * sign-in, never on cross-site subrequests. Expires as well as Max-Age: some clients of the
 * protocol (cloudflared's org-token exchange) read only Expires.
 */
export function setCookie(name: string, value: string, options: CookieOptions): string {
  const expires = new Date(Date.now() + options.maxAgeSeconds * 1000).toUTCString();
  return `${name}=${value}; Path=${options.path}; Max-Age=${options.maxAgeSeconds}; Expires=${expires}; HttpOnly; SameSite=${options.sameSite ?? 'Lax'}${options.secure ? '; Secure' : ''}`;
}

export function readCookie(headers: IncomingHttpHeaders, name: string): string | undefined {
  for (const part of (headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
