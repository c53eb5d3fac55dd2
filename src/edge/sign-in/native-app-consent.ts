// A native-app sign-in (`/cdn-cgi/access/cli`) that the browser's organisation session would
// complete on its own asks the user first: any web page can send a browser to that URL with an
// attacker's PKCE challenge and loopback port, and the code would go to whoever listens there. The
// page names the app, this computer and the account; only a same-origin POST from it, echoing a
// token also held in a SameSite=Strict cookie, continues.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { PATH, SSO } from '../../shared/constants.js';
import { escapeHtml, htmlDocument } from '../../shared/html.js';
import { readCookie, setCookie } from '../http/http-cookies.js';

/** The form field that carries the consent token. */
export const CONSENT_FIELD = 'consent';

export interface ConsentPage {
  cookie: string;
  body: string;
}

/** The page asking the user, and the cookie its form must match. */
export function consentPage(
  request: { appName: string; account: string; redirectUrl: string; query: URLSearchParams },
  secure: boolean,
): ConsentPage {
  const token = randomBytes(32).toString('base64url');
  const cookie = setCookie(SSO.consentCookie, token, {
    maxAgeSeconds: SSO.loginStateTtlMs / 1000,
    path: PATH.cli,
    secure,
    sameSite: 'Strict',
  });
  const port = new URL(request.redirectUrl).port;
  const hidden = [...request.query, [CONSENT_FIELD, token] as const]
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  const body = htmlDocument(
    'Sign in to an application on this computer?',
    'body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:12vh auto;padding:0 1rem}',
    `<h1>Sign in an application on this computer?</h1>
<p>An application on <strong>this computer</strong> (listening on local port ${escapeHtml(port)}) asks to sign in to
<strong>${escapeHtml(request.appName)}</strong> as <strong>${escapeHtml(request.account)}</strong>.</p>
<p>Continue only if you just started this sign-in yourself, from Airlock or another app you trust.</p>
<form method="post" action="${PATH.cli}">${hidden}<button type="submit">Continue as ${escapeHtml(request.account)}</button></form>
<p>If you did not, close this tab: nothing is shared.</p>`,
  );
  return { cookie, body };
}

/** A POST from the page itself: same origin, and the form's token equals the Strict cookie's. */
export function consentGiven(req: IncomingMessage, form: Record<string, unknown>): boolean {
  const site = req.headers['sec-fetch-site'];
  const origin = req.headers.origin;
  const sameOrigin =
    site !== undefined
      ? site === 'same-origin'
      : typeof origin === 'string' && URL.canParse(origin) && new URL(origin).host === req.headers.host;
  const cookie = readCookie(req.headers, SSO.consentCookie) ?? '';
  const field = typeof form[CONSENT_FIELD] === 'string' ? (form[CONSENT_FIELD] as string) : '';
  return (
    sameOrigin &&
    cookie.length === 43 &&
    field.length === 43 &&
    timingSafeEqual(Buffer.from(cookie), Buffer.from(field))
  );
}

export function clearConsent(secure: boolean): string {
  return setCookie(SSO.consentCookie, '', { maxAgeSeconds: 0, path: PATH.cli, secure, sameSite: 'Strict' });
}
