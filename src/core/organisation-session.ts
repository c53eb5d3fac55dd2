// Sign in once per edge (docs/sso.md "Sign-in domain"): the organisation session the first
// browser sign-in hands the client mints the token of every further app, with no browser. The
// exchange is the one the edge serves browsers and cloudflared alike: the login path on the
// sign-in host with the session as its cookie, then the app host's /authorized, whose answer sets
// the app token as that host's cookie.
import { createHash, randomBytes } from 'node:crypto';
import { AUTH_COOKIE, PATH, SSO } from '../shared/constants.js';
import { AirlockError } from '../shared/errors.js';
import { edgeRequest, responseCookie } from './edge-http.js';
import type { EdgeTarget } from './edge-target.js';

/** What an app host's 302 tells the client: the app's audience and the edge's sign-in origin. */
export interface AppSignIn {
  aud: string;
  /** https://SIGNIN[:port]: where sign-in happens and where the organisation session is kept. */
  signInOrigin: string;
}

/**
 * Reads an AUTH_REQUIRED refusal's details (the 302's Location and CF-Access-Aud). An edge whose
 * 302 names no https login path signs in at `fallbackOrigin`, the edge the client dials.
 */
export function appSignInFrom(details: Record<string, unknown>, fallbackOrigin: string): AppSignIn | undefined {
  const { aud, loginUrl } = details;
  if (typeof aud !== 'string' || !aud) return undefined;
  const login = typeof loginUrl === 'string' && URL.canParse(loginUrl) ? new URL(loginUrl) : undefined;
  const named = login?.protocol === 'https:' && login.pathname.startsWith(PATH.login);
  return { aud, signInOrigin: named ? login.origin : fallbackOrigin };
}

/** The organisation session is kept as one more token of the sign-in origin, under its own audience. */
export const ORGANISATION_ACCOUNT = SSO.organisationAud;

/**
 * Trades the organisation session for this app's token. Resolves undefined when the session is no
 * longer good (the edge sends the user to the IdP): sign in with the browser instead. Throws
 * ACCESS_DENIED when the session is good but the app's policy refuses the user.
 */
export async function exchangeOrganisationToken(
  target: EdgeTarget,
  app: AppSignIn,
  organisationToken: string,
): Promise<string | undefined> {
  const login = new URL(`${PATH.login}${target.hostHeader}`, app.signInOrigin);
  login.searchParams.set('kid', app.aud);
  // The edge binds the hand-off to whoever started it: the hash goes in the URL, the value to /authorized.
  const binding = randomBytes(32).toString('base64url');
  login.searchParams.set(SSO.handoffBindingParam, createHash('sha256').update(binding).digest('base64url'));
  const answer = await edgeRequest(target, login, { headers: { cookie: `${AUTH_COOKIE}=${organisationToken}` } });
  if (answer.status === 403) {
    throw new AirlockError(
      'ACCESS_DENIED',
      `your account is not allowed to reach ${target.hostHeader}; ask your administrator for access`,
      { status: 403 },
    );
  }
  const location =
    answer.status === 302 && typeof answer.headers.location === 'string'
      ? new URL(answer.headers.location, login)
      : undefined;
  if (!location || location.pathname !== PATH.authorized) return undefined; // to the IdP: the session ended
  // The hand-off goes only to the app host this client dials, never wherever a Location points.
  if (location.protocol !== 'https:' || location.hostname !== target.hostHeader) {
    throw new AirlockError(
      'EDGE_ERROR',
      `the edge sent the sign-in for ${target.hostHeader} to ${location.host}; refusing to follow`,
    );
  }
  const landed = await edgeRequest(target, location, {
    headers: { cookie: `${SSO.handoffBindingCookie}=${binding}` },
  });
  const token = responseCookie(landed, AUTH_COOKIE);
  if (!token)
    throw new AirlockError(
      'LOGIN_FAILED',
      `the edge did not hand over a token for ${target.hostHeader} (HTTP ${landed.status}); sign in again`,
    );
  return token;
}
