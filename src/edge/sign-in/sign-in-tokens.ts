// The native app's token exchange (RFC 6749 §4.1.3 with PKCE, RFC 7636) and sign-out, which
// revokes the session behind the token or cookie presented.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AUTH_COOKIE, HEADER, SSO } from '../../shared/constants.js';
import { isAirlockError } from '../../shared/errors.js';
import { html, json } from './access-http.js';
import { providerSignOut } from './idp-logout.js';
import { badRequestPage, signedOutPage, signOutConfirmPage, signOutNotRecordedPage } from './access-pages.js';
import { verifyAppToken } from '../tokens/app-token.js';
import { readCookie, setCookie } from '../http/http-cookies.js';
import { issueOrganisationToken, verifyOrganisationToken } from './organisation-session.js';
import { readObjectBody } from '../http/request-body.js';
import type { SignInContext } from './sign-in-context.js';

export function createTokenEndpoints(context: SignInContext) {
  const { deps, issuer, secure, rp, codes, organisationSessionMs, keys, revoked, appByAud, issue } = context;

  async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return json(res, 405, { error: 'invalid_request', error_description: 'use POST' });
    const body = await readObjectBody(req, { forms: true });
    let grant;
    try {
      grant = await codes.exchange(body.code, body.code_verifier);
    } catch (error) {
      if (!isAirlockError(error)) throw error;
      deps.log.warn({ event: 'token-refused', reason: error.details.reason }, 'login code refused');
      return json(res, 400, { error: 'invalid_grant', error_description: error.message });
    }
    const app = appByAud(grant.aud);
    if (!app) return json(res, 400, { error: 'invalid_grant', error_description: 'the application no longer exists' });
    const issued = await issue(app, grant.identity, grant.session);
    const answer: Record<string, unknown> = {
      token: issued.token,
      expires_at: Math.floor(issued.expiresAt.getTime() / 1000),
    };
    // The native app's copy of the organisation session: it mints this user's next app tokens
    // without a browser (the same exchange as cloudflared's org token).
    if (grant.session && !app.issue) {
      const session = await issueOrganisationToken({
        keys,
        issuer,
        identity: grant.identity,
        sessionMs: organisationSessionMs,
        session: grant.session,
      });
      answer.organisation_token = session.token;
      answer.organisation_expires_at = Math.floor(session.expiresAt.getTime() / 1000);
    }
    json(res, 200, answer);
  }

  async function logout(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const fromHeader = headerValue(req, HEADER.accessToken) ?? headerValue(req, HEADER.jwtAssertion);
    const presented = fromHeader ?? readCookie(req.headers, AUTH_COOKIE);
    const wantsJson = fromHeader !== undefined;
    // A cookie is sent by the browser on its own, so a cookie sign-out is a POST from this origin:
    // a link or form on another site (GET, or a cross-site POST) must not sign anyone out.
    if (!fromHeader && req.method === 'GET') return html(res, 200, signOutConfirmPage());
    if (!fromHeader && !sameOrigin(req))
      return html(
        res,
        403,
        badRequestPage('Sign-out must be confirmed on this site; open the sign-out page and press the button.'),
      );
    let signedOut = false;
    const session = presented ? await presentedSession(presented) : undefined;
    if (session) {
      // An app token shares its session's id, and the session may outlive it: revoke the id until
      // the longest a session can last, so the session and every token minted from it end here.
      const until = new Date(Math.max(session.expiresAt.getTime(), Date.now() + organisationSessionMs));
      try {
        await revoked.revoke(session.sessionId, until);
      } catch (error) {
        if (!isAirlockError(error) || error.code !== 'STORE_UNAVAILABLE') throw error;
        // Nothing was recorded (revoke() keeps nothing it could not store): say so, keep the cookie.
        deps.log.warn({ event: 'logout-not-recorded', aud: session.aud, email: session.email }, error.message);
        return notRecorded(res, wantsJson);
      }
      deps.log.info({ event: 'logout', aud: session.aud, email: session.email }, 'session revoked');
      signedOut = true;
    }
    res.setHeader('set-cookie', setCookie(AUTH_COOKIE, '', { maxAgeSeconds: 0, path: '/', secure }));
    if (wantsJson) return json(res, 200, { signed_out: signedOut });
    const endSession = await providerSignOut(req, res, rp, { secure, log: deps.log });
    if (endSession) res.setHeader('refresh', `1; url=${endSession.href}`);
    html(res, 200, signedOutPage(endSession));
  }

  /** The live session behind a presented app or organisation token; undefined when it is dead or forged. */
  async function presentedSession(
    token: string,
  ): Promise<{ sessionId: string; expiresAt: Date; email: string; aud: string } | undefined> {
    const aud = unverifiedAud(token);
    try {
      if (aud === SSO.organisationAud)
        return { ...(await verifyOrganisationToken(token, { issuer, keys, revoked })), aud };
      if (aud && deps.findAppByAud(aud))
        return { ...(await verifyAppToken(token, { issuer, aud, keys, revoked })), aud };
    } catch (error) {
      if (!isAirlockError(error)) throw error; // an expired or revoked token is already signed out
    }
    return undefined;
  }

  return { token, logout };
}

function notRecorded(res: ServerResponse, wantsJson: boolean): void {
  res.setHeader('retry-after', '5');
  if (wantsJson)
    return json(res, 503, {
      error: 'sign_out_not_recorded',
      message:
        'the edge cannot reach its shared state store, so the sign-out was not recorded and the session still works; try again shortly',
    });
  html(res, 503, signOutNotRecordedPage());
}

/** Fetch metadata (or, from older browsers, Origin) says the request comes from this very origin. */
function sameOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin';
  const origin = req.headers.origin;
  return typeof origin === 'string' && URL.canParse(origin) && new URL(origin).host === req.headers.host;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value ? value : undefined;
}

/** Only to pick which app's aud to verify against; the signature check follows. */
function unverifiedAud(token: string): string | undefined {
  try {
    const { aud } = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      aud?: unknown;
    };
    const first = Array.isArray(aud) ? aud[0] : aud;
    return typeof first === 'string' ? first : undefined;
  } catch {
    return undefined;
  }
}
