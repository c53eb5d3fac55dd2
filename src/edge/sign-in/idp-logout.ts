// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): a browser signing out at the edge
// is sent on to the provider's end_session_endpoint, so the next sign-in asks for the password
// again. The ID token rides along as id_token_hint (most providers skip their "log out?" page for
// it, Okta requires it); the edge keeps no per-session state, so the sign-in host's browser holds
// it in an HttpOnly cookie sent only to the sign-out path.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PATH, SSO } from '../../shared/constants.js';
import { readCookie, setCookie } from '../http/http-cookies.js';
import type { AccessLog } from './sign-in-context.js';
import type { OidcRelyingParty } from './oidc-login.js';

/** Browsers keep cookies up to 4096 bytes; a larger ID token is left out and the hint with it. */
const MAX_HINT_BYTES = 3800;

/** After a sign-in: keep the ID token for sign-out, when sign-out will go to the provider. */
export async function rememberIdToken(
  res: ServerResponse,
  rp: OidcRelyingParty,
  idToken: string,
  options: { secure: boolean; maxAgeMs: number },
): Promise<void> {
  if (idToken.length > MAX_HINT_BYTES || !(await rp.endSessionUrl())) return;
  res.appendHeader(
    'set-cookie',
    setCookie(SSO.idTokenHintCookie, idToken, {
      maxAgeSeconds: Math.floor(options.maxAgeMs / 1000),
      path: PATH.logout,
      secure: options.secure,
    }),
  );
}

/**
 * At a browser sign-out: clears the kept ID token and returns where the provider ends its
 * session, or undefined (none offered, turned off, or discovery failing: the edge's own sign-out
 * must not depend on the provider being up).
 */
export async function providerSignOut(
  req: IncomingMessage,
  res: ServerResponse,
  rp: OidcRelyingParty,
  options: { secure: boolean; log: AccessLog },
): Promise<URL | undefined> {
  const hint = readCookie(req.headers, SSO.idTokenHintCookie);
  if (hint !== undefined)
    res.appendHeader(
      'set-cookie',
      setCookie(SSO.idTokenHintCookie, '', { maxAgeSeconds: 0, path: PATH.logout, secure: options.secure }),
    );
  try {
    const url = await rp.endSessionUrl(hint);
    if (url)
      options.log.info(
        { event: 'logout-idp', endSession: url.origin + url.pathname, hinted: hint !== undefined },
        'sending the browser to end the provider session',
      );
    return url;
  } catch (error) {
    options.log.warn({ event: 'logout-idp-skipped', error: (error as Error).message }, 'provider sign-out skipped');
    return undefined;
  }
}
