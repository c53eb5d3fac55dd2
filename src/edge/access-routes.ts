// The sign-in endpoints under /cdn-cgi/access/ (DESIGN.md "Login"; issue 5):
//   GET  login/HOSTNAME  browser entry: IdP login, then the CF_Authorization cookie
//   GET  cli             native-app entry: aud, redirect_url (loopback only), state, S256 code_challenge
//   GET  callback        from the IdP: checks, policy, then a one-time code (cli) or the cookie (browser)
//   POST token           {code, code_verifier} (JSON or form) → {token, expires_at (epoch seconds)}
//   GET  certs           JWKS of the app-token signing keys
//   GET|POST logout      revokes the session of the presented token (header or cookie)
//
// Integration (edge server request handler, before app routing):
//   const access = createAccessRoutes({ publicUrl, findAppByAud, findAppByHostname, tokens: { keys, revoked }, idp, log });
//   if (await access(req, res)) return;      // true when the request was one of the above
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AUTH_COOKIE, HEADER, PATH, SSO } from '../shared/constants.js';
import { AirlockError, isAirlockError } from '../shared/errors.js';
import { badRequestPage, deniedPage, idpUnreachablePage, notFoundPage, signedInPage, signedOutPage } from './access-pages.js';
import { issueAppToken, verifyAppToken, type UserPrincipal } from './app-token.js';
import { LoginCodes, type LoginIdentity } from './login-codes.js';
import { MemoryLoginStateStore, type LoginStateStore } from './login-state-store.js';
import { OidcRelyingParty, type IdpConfig, type PendingOidcLogin } from './oidc-login.js';
import { checkLoopbackRedirect } from './redirect-url.js';
import type { RevocationList } from './revocation-list.js';
import type { SigningKeys } from './signing-keys.js';
import { readBoundedBody } from './request-body.js';

/** Who is asking, as policies see it at sign-in (no session yet). */
export type LoginPrincipal = Pick<UserPrincipal, 'kind' | 'email' | 'sub' | 'groups'>;

export interface AccessApp {
  hostname: string;
  aud: string;
  sessionMs: number;
  evaluate(principal: LoginPrincipal, context: { ip: string }): { allowed: boolean; reason: string };
  /** Makes this app's token instead of an app token (the operator credential, issue 9). */
  issue?(identity: LoginIdentity): Promise<{ token: string; expiresAt: Date }>;
}

/** pino-compatible: one structured line per event; never tokens, codes or secrets. */
export interface AccessLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface AccessRoutesDeps {
  /** https://EDGE[:port], the team URL: token issuer and base of PATH.callback. */
  publicUrl: string;
  findAppByAud(aud: string): AccessApp | undefined;
  findAppByHostname(hostname: string): AccessApp | undefined;
  tokens: { keys: SigningKeys; revoked: RevocationList };
  /** edge.yaml `idp:`, or a ready relying party (tests inject timeouts). */
  idp: IdpConfig | OidcRelyingParty;
  stateStore?: LoginStateStore<PendingLogin>;
  loginCodes?: LoginCodes;
  log: AccessLog;
}

/** What a login was started for: the native app (code to its loopback listener) or the browser (cookie). */
export type LoginTarget = { aud: string; hostname: string } & (
  | { kind: 'cli'; redirectUrl: string; clientState: string; codeChallenge: string }
  | { kind: 'browser'; returnTo?: string }
);

export type PendingLogin = PendingOidcLogin &
  LoginTarget & {
    /** Random secret also held in the browser's cookie: the callback must come from the same browser. */
    binding: string;
  };

const HOSTNAME_PATTERN = /^[a-z0-9.-]{1,253}$/;

export function createAccessRoutes(deps: AccessRoutesDeps): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const publicUrl = new URL(deps.publicUrl);
  const issuer = publicUrl.origin;
  const secure = publicUrl.protocol === 'https:';
  const rp = deps.idp instanceof OidcRelyingParty ? deps.idp : new OidcRelyingParty(deps.idp, { redirectUri: `${issuer}${PATH.callback}` });
  const states = deps.stateStore ?? new MemoryLoginStateStore<PendingLogin>();
  const codes = deps.loginCodes ?? new LoginCodes();
  const { keys, revoked } = deps.tokens;

  async function startLogin(res: ServerResponse, login: LoginTarget): Promise<void> {
    const { url, pending } = await rp.beginLogin();
    const binding = randomBytes(32).toString('base64url');
    await states.put(pending.state, { ...pending, ...login, binding }, SSO.loginStateTtlMs);
    res.setHeader('set-cookie', cookie(bindingCookieName(pending.state), binding, { maxAgeSeconds: SSO.loginStateTtlMs / 1000, path: PATH.callback, secure }));
    redirect(res, url.href);
  }

  async function cli(res: ServerResponse, query: URLSearchParams): Promise<void> {
    const app = deps.findAppByAud(query.get('aud') ?? '');
    if (!app) return html(res, 404, notFoundPage(query.get('aud') ?? ''));
    const redirectUrl = checkLoopbackRedirect(query.get('redirect_url')).href;
    const clientState = query.get('state') ?? '';
    if (!/^[\x21-\x7e]{8,512}$/.test(clientState)) throw new AirlockError('BAD_ARGUMENT', 'state is missing or malformed');
    if (query.get('code_challenge_method') !== 'S256') throw new AirlockError('BAD_ARGUMENT', 'code_challenge_method must be S256 (RFC 7636)');
    const codeChallenge = query.get('code_challenge') ?? '';
    if (!/^[A-Za-z0-9_-]{43}$/.test(codeChallenge)) throw new AirlockError('BAD_ARGUMENT', 'code_challenge must be 43 base64url characters');
    await startLogin(res, { kind: 'cli', aud: app.aud, hostname: app.hostname, redirectUrl, clientState, codeChallenge });
  }

  async function browserLogin(res: ServerResponse, hostname: string, query: URLSearchParams): Promise<void> {
    const app = HOSTNAME_PATTERN.test(hostname) ? deps.findAppByHostname(hostname) : undefined;
    if (!app) return html(res, 404, notFoundPage(hostname));
    await startLogin(res, { kind: 'browser', aud: app.aud, hostname: app.hostname, ...returnTarget(query.get('redirect_url'), app.hostname) });
  }

  /** Only https back to the app's own hostname or this edge: never an open redirect. */
  function returnTarget(text: string | null, hostname: string): { returnTo?: string } {
    if (!text || !URL.canParse(text)) return {};
    const url = new URL(text);
    const ours = url.protocol === 'https:' && !url.username && !url.password && (url.hostname === hostname || url.host === publicUrl.host);
    return ours ? { returnTo: url.href } : {};
  }

  async function callback(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const state = url.searchParams.get('state') ?? '';
    const pending = state ? await states.take(state) : undefined;
    const cookieName = state ? bindingCookieName(state) : '';
    const presented = readCookie(req, cookieName);
    if (!pending || !presented || !sameSecret(presented, pending.binding)) {
      throw new AirlockError('LOGIN_FAILED', 'this sign-in expired or was started in another browser');
    }
    res.setHeader('set-cookie', cookie(cookieName, '', { maxAgeSeconds: 0, path: PATH.callback, secure }));
    const identity = await rp.completeLogin(url, pending);
    const app = deps.findAppByAud(pending.aud);
    if (!app) return html(res, 404, notFoundPage(pending.hostname));
    const ip = req.socket.remoteAddress ?? '';
    const decision = app.evaluate({ kind: 'user', ...identity }, { ip });
    deps.log.info({ event: 'login', app: app.hostname, email: identity.email, flow: pending.kind, allowed: decision.allowed, reason: decision.reason, ip }, 'sign-in');
    if (!decision.allowed && pending.kind === 'cli') {
      // RFC 6749 §4.1.2.1: tell the waiting app too, so it stops waiting and says why.
      const target = new URL(pending.redirectUrl);
      target.searchParams.set('error', 'access_denied');
      target.searchParams.set('state', pending.clientState);
      return redirect(res, target.href);
    }
    if (!decision.allowed) return html(res, 403, deniedPage(app.hostname));
    if (pending.kind === 'cli') {
      const code = codes.create({ aud: app.aud, codeChallenge: pending.codeChallenge, redirectUrl: pending.redirectUrl, identity });
      const target = new URL(pending.redirectUrl);
      target.searchParams.set('code', code);
      target.searchParams.set('state', pending.clientState);
      return redirect(res, target.href);
    }
    const issued = await issue(app, identity);
    res.appendHeader('set-cookie', cookie(AUTH_COOKIE, issued.token, { maxAgeSeconds: Math.floor(app.sessionMs / 1000), path: '/', secure }));
    if (pending.returnTo) return redirect(res, pending.returnTo);
    html(res, 200, signedInPage(app.hostname));
  }

  async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return json(res, 405, { error: 'invalid_request', error_description: 'use POST' });
    const body = await readBody(req);
    let grant;
    try {
      grant = codes.exchange(body.code, body.code_verifier);
    } catch (error) {
      if (!isAirlockError(error)) throw error;
      deps.log.warn({ event: 'token-refused', reason: error.details.reason }, 'login code refused');
      return json(res, 400, { error: 'invalid_grant', error_description: error.message });
    }
    const app = deps.findAppByAud(grant.aud);
    if (!app) return json(res, 400, { error: 'invalid_grant', error_description: 'the application no longer exists' });
    const issued = await issue(app, grant.identity);
    json(res, 200, { token: issued.token, expires_at: Math.floor(issued.expiresAt.getTime() / 1000) });
  }

  async function logout(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const presented = headerValue(req, HEADER.accessToken) ?? headerValue(req, HEADER.jwtAssertion) ?? readCookie(req, AUTH_COOKIE);
    const wantsJson = presented !== undefined && !readCookie(req, AUTH_COOKIE);
    let signedOut = false;
    const aud = presented ? unverifiedAud(presented) : undefined;
    if (presented && aud && deps.findAppByAud(aud)) {
      try {
        const principal = await verifyAppToken(presented, { issuer, aud, keys, revoked });
        await revoked.revoke(principal.sessionId, principal.expiresAt);
        deps.log.info({ event: 'logout', aud, email: principal.email }, 'session revoked');
        signedOut = true;
      } catch (error) {
        if (!isAirlockError(error)) throw error; // an expired or revoked token is already signed out
      }
    }
    res.setHeader('set-cookie', cookie(AUTH_COOKIE, '', { maxAgeSeconds: 0, path: '/', secure }));
    if (wantsJson) return json(res, 200, { signed_out: signedOut });
    html(res, 200, signedOutPage());
  }

  async function issue(app: AccessApp, identity: LoginIdentity) {
    if (app.issue) return app.issue(identity);
    return issueAppToken({ keys, issuer, aud: app.aud, ...identity, sessionMs: app.sessionMs });
  }

  return async (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    if (!url.pathname.startsWith(PATH.accessPrefix)) return false;
    try {
      if (url.pathname.startsWith(PATH.login) && req.method === 'GET') {
        await browserLogin(res, safeDecode(url.pathname.slice(PATH.login.length)).toLowerCase(), url.searchParams);
      } else if (url.pathname === PATH.cli && req.method === 'GET') await cli(res, url.searchParams);
      else if (url.pathname === PATH.callback && req.method === 'GET') await callback(req, res, url);
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

function respondWithError(res: ServerResponse, error: unknown, log: AccessLog, asJson: boolean): void {
  const failure = isAirlockError(error) ? error : new AirlockError('EDGE_ERROR', 'internal error');
  log.warn({ event: 'access-error', code: failure.code, message: failure.message, ...(isAirlockError(error) ? {} : { error: String(error) }) }, 'sign-in error');
  if (res.headersSent) return void res.destroy();
  res.removeHeader('set-cookie');
  if (asJson) return json(res, failure.code === 'EDGE_ERROR' ? 500 : 400, { error: 'invalid_request', error_description: failure.message });
  if (failure.code === 'IDP_UNREACHABLE') return html(res, 502, idpUnreachablePage());
  if (failure.code === 'EDGE_ERROR') return html(res, 500, badRequestPage('Something went wrong on the edge.'));
  html(res, 400, badRequestPage(failure.message));
}

/** One cookie per login, named by its state, so two sign-ins in one browser do not collide. */
function bindingCookieName(state: string): string {
  return `${SSO.loginStateCookie}_${createHash('sha256').update(state).digest('base64url').slice(0, 16)}`;
}

function cookie(name: string, value: string, options: { maxAgeSeconds: number; path: string; secure: boolean }): string {
  // SameSite=Lax: sent on the IdP's top-level redirect back to us, not on cross-site subrequests.
  return `${name}=${value}; Path=${options.path}; Max-Age=${options.maxAgeSeconds}; HttpOnly; SameSite=Lax${options.secure ? '; Secure' : ''}`;
}

function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // malformed %-escapes: not a hostname, so the lookup below answers 404
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value ? value : undefined;
}

function sameSecret(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** Only to pick which app's aud to verify against; the signature check follows. */
function unverifiedAud(token: string): string | undefined {
  try {
    const { aud } = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { aud?: unknown };
    const first = Array.isArray(aud) ? aud[0] : aud;
    return typeof first === 'string' ? first : undefined;
  } catch {
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readBoundedBody(req);
  if ((req.headers['content-type'] ?? '').startsWith('application/json')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // falls through to the error below
    }
    throw new AirlockError('BAD_ARGUMENT', 'body is not a JSON object');
  }
  return Object.fromEntries(new URLSearchParams(text));
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'cache-control': 'no-store' });
  res.end();
}

function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'x-frame-options': 'DENY',
  });
  res.end(body);
}

function json(res: ServerResponse, status: number, body: unknown, cacheControl = 'no-store'): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': cacheControl });
  res.end(JSON.stringify(body));
}
