// The sign-in endpoints under /cdn-cgi/access/ (docs/sso.md). The edge's publicUrl host is the
// organisation's sign-in domain; every app host sends visitors there, and it sends them back.
//   GET|HEAD login/HOSTNAME  sign-in host: with a valid organisation session, hand off an app token
//                            to HOSTNAME's /authorized; else the IdP. Carries CF-Access-Domain.
//   GET|POST cli             native-app entry (sign-in host): aud, loopback redirect_url, state, S256;
//                            with a session, a consent page whose same-origin POST continues
//   GET      callback        from the IdP: starts the organisation session, then hand-off or code
//   GET|HEAD authorized      app host: one-time hand-off code → that host's CF_Authorization cookie
//   POST     token           {code, code_verifier} → {token, expires_at, organisation_token, …}
//   GET      certs           JWKS of the signing keys
//   GET|POST logout          revokes the session of the presented token (header or cookie)
// login and cli requests that reach another host are sent to the sign-in host first: the login
// state and the organisation session live there. The browser flows are in sign-in-flows.ts, the
// token exchange and sign-out in sign-in-tokens.ts, what they share in sign-in-context.ts.
//
// Integration (edge server request handler, before app routing):
//   const access = createAccessRoutes({ publicUrl, findAppByAud, findAppByHostname, tokens: { keys, revoked }, idp, log });
//   if (await access(req, res)) return;      // true when the request was one of the above
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PATH } from '../../shared/constants.js';
import { AirlockError, isAirlockError } from '../../shared/errors.js';
import { html, json } from './access-http.js';
import { badRequestPage, idpUnreachablePage, storeUnavailablePage } from './access-pages.js';
import { createSignInContext, type AccessLog, type AccessRoutesDeps } from './sign-in-context.js';
import { createSignInFlows } from './sign-in-flows.js';
import { createTokenEndpoints } from './sign-in-tokens.js';

export type {
  AccessApp,
  AccessLog,
  AccessRoutesDeps,
  Handoff,
  LoginPrincipal,
  LoginTarget,
  PendingLogin,
} from './sign-in-context.js';

/** Answers a request under /cdn-cgi/access/; false when it is none of the sign-in endpoints. */
export type AccessRoutes = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export function createAccessRoutes(deps: AccessRoutesDeps): AccessRoutes {
  const context = createSignInContext(deps);
  const { issuer, keys } = context;
  const { cli, browserLogin, callback, authorized } = createSignInFlows(context);
  const { token, logout } = createTokenEndpoints(context);

  return async (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    if (!url.pathname.startsWith(PATH.accessPrefix)) return false;
    const read = req.method === 'GET' || req.method === 'HEAD';
    try {
      if (url.pathname.startsWith(PATH.login) && read) await browserLogin(req, res, url);
      else if (url.pathname === PATH.cli && (req.method === 'GET' || req.method === 'POST')) await cli(req, res, url);
      else if (url.pathname === PATH.callback && req.method === 'GET') await callback(req, res, url);
      else if (url.pathname === PATH.authorized && read) await authorized(req, res, url);
      else if (url.pathname === PATH.token) await token(req, res);
      else if (url.pathname === PATH.certs && req.method === 'GET') json(res, 200, keys.jwks(), 'public, max-age=300');
      else if (url.pathname === PATH.logout && (req.method === 'GET' || req.method === 'POST')) await logout(req, res);
      else return false;
    } catch (error) {
      respondWithError(res, error, deps.log, url.pathname === PATH.token);
    }
    return true;
  };
}

const STATUS: Partial<Record<string, number>> = { EDGE_ERROR: 500, STORE_UNAVAILABLE: 503, SIGN_IN_BUSY: 429 };

function respondWithError(res: ServerResponse, error: unknown, log: AccessLog, asJson: boolean): void {
  const failure = isAirlockError(error) ? error : new AirlockError('EDGE_ERROR', 'internal error');
  log.warn(
    {
      event: 'access-error',
      code: failure.code,
      message: failure.message,
      ...(isAirlockError(error) ? {} : { error: String(error) }),
    },
    'sign-in error',
  );
  if (res.headersSent) return void res.destroy();
  res.removeHeader('set-cookie');
  if (failure.code === 'SIGN_IN_BUSY') res.setHeader('retry-after', String(failure.details.retryAfterSeconds ?? 60));
  if (asJson) {
    const status = STATUS[failure.code] ?? 400;
    return json(res, status, {
      error: status === 503 || status === 429 ? 'temporarily_unavailable' : 'invalid_request',
      error_description: failure.message,
    });
  }
  if (failure.code === 'IDP_UNREACHABLE') return html(res, 502, idpUnreachablePage());
  if (failure.code === 'STORE_UNAVAILABLE') return html(res, 503, storeUnavailablePage());
  if (failure.code === 'SIGN_IN_BUSY') return html(res, 429, badRequestPage(failure.message));
  if (failure.code === 'EDGE_ERROR') return html(res, 500, badRequestPage('Something went wrong on the edge.'));
  html(res, 400, badRequestPage(failure.message));
}
