// The sign-in endpoints under /cdn-cgi/access/ (docs/sso.md). The edge's publicUrl host is the
// organisation's sign-in domain; every app host sends visitors there, and it sends them back.
//   GET|HEAD login/HOSTNAME  sign-in host: with a valid organisation session, hand off an app token
//                            to HOSTNAME's /authorized; else the IdP. Carries CF-Access-Domain.
//   GET      cli             native-app entry (sign-in host): aud, loopback redirect_url, state, S256
//   GET      callback        from the IdP: starts the organisation session, then hand-off or code
//   GET|HEAD authorized      app host: one-time hand-off code → that host's CF_Authorization cookie
//   POST     token           {code, code_verifier} → {token, expires_at, organisation_token, …}
//   GET      certs           JWKS of the signing keys
//   GET|POST logout          revokes the session of the presented token (header or cookie)
// login and cli requests that reach another host are sent to the sign-in host first: the login
// state and the organisation session live there.
//
// Integration (edge server request handler, before app routing):
//   const access = createAccessRoutes({ publicUrl, findAppByAud, findAppByHostname, tokens: { keys, revoked }, idp, log });
//   if (await access(req, res)) return;      // true when the request was one of the above
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AUTH_COOKIE, HEADER, PATH, SSO } from '../shared/constants.js';
import { AirlockError, isAirlockError } from '../shared/errors.js';
import { dialHostOfUrl, hostnameFromHostHeader } from '../shared/host.js';
import { parseDuration } from '../shared/contract/duration.js';
import { badRequestPage, deniedPage, idpUnreachablePage, notFoundPage, signedInPage, signedOutPage, signOutConfirmPage, storeUnavailablePage } from './access-pages.js';
import { issueAppToken, verifyAppToken, type UserPrincipal } from './app-token.js';
import { readCookie, setCookie } from './http-cookies.js';
import { appSessionMs, issueOrganisationToken, verifyOrganisationToken, type OrganisationSession } from './organisation-session.js';
import { appOrigin } from './sign-in-urls.js';
import { LoginCodes, type LoginIdentity } from './login-codes.js';
import { MemoryLoginStateStore, type LoginStateStore } from './login-state-store.js';
import { OidcRelyingParty, type IdpConfig, type PendingOidcLogin } from './oidc-login.js';
import { checkLoopbackRedirect } from './redirect-url.js';
import type { Revocations } from './revocation-list.js';
import type { SigningKeys } from './signing-keys.js';
import { html, redirect } from './access-http.js';
import { sendJson, type JsonAnswer } from './json-answer.js';
import { decodePathSegment, readObjectBody } from './request-body.js';

/** Who is asking, as policies see it at sign-in (no session yet). */
export type LoginPrincipal = Pick<UserPrincipal, 'kind' | 'email' | 'sub' | 'groups'>;

export interface AccessApp {
  hostname: string;
  aud: string;
  sessionMs: number;
  evaluate(principal: LoginPrincipal, context: { ip: string }): { allowed: boolean; reason: string };
  /** Makes this app's token instead of an app token (the operator credential). */
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
  tokens: { keys: SigningKeys; revoked: Revocations };
  /** edge.yaml `idp:`, or a ready relying party (tests inject timeouts). */
  idp: IdpConfig | OidcRelyingParty;
  stateStore?: LoginStateStore<PendingLogin>;
  loginCodes?: LoginCodes;
  /** One-time hand-off codes, keyed by their sha256: an app token on its way to its host's cookie. */
  handoffs?: LoginStateStore<Handoff>;
  /** How long an organisation session lasts (edge.yaml sessionDuration). */
  organisationSessionMs?: number;
  log: AccessLog;
}

/** An app token minted on the sign-in host, waiting for /authorized on its app host. Secret. */
export interface Handoff {
  hostname: string;
  token: string;
  expiresAt: number;
  returnTo?: string;
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

/** Answers a request under /cdn-cgi/access/; false when it is none of the sign-in endpoints. */
export type AccessRoutes = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export function createAccessRoutes(deps: AccessRoutesDeps): AccessRoutes {
  const publicUrl = new URL(deps.publicUrl);
  const issuer = publicUrl.origin;
  const signInHost = dialHostOfUrl(publicUrl);
  const secure = publicUrl.protocol === 'https:';
  const rp = deps.idp instanceof OidcRelyingParty ? deps.idp : new OidcRelyingParty(deps.idp, { redirectUri: `${issuer}${PATH.callback}` });
  const states = deps.stateStore ?? new MemoryLoginStateStore<PendingLogin>();
  const codes = deps.loginCodes ?? new LoginCodes();
  const handoffs = deps.handoffs ?? new MemoryLoginStateStore<Handoff>();
  const organisationSessionMs = deps.organisationSessionMs ?? parseDuration(SSO.organisationSessionDuration)!;
  const { keys, revoked } = deps.tokens;

  /**
   * The organisation itself as an app (aud airlock-organisation): the native app signs in to the
   * edge before it knows any app (discovery from a fresh install), and gets the session alone.
   */
  const organisationApp: AccessApp = {
    hostname: signInHost,
    aud: SSO.organisationAud,
    sessionMs: organisationSessionMs,
    evaluate: () => ({ allowed: true, reason: 'signed in to the organisation' }),
  };
  const appByAud = (aud: string) => (aud === SSO.organisationAud ? organisationApp : deps.findAppByAud(aud));

  const onSignInHost = (req: IncomingMessage) => hostnameFromHostHeader(req.headers.host) === signInHost;
  /** Same path and query on the sign-in host, where the login state and the session cookie live. */
  const toSignInHost = (res: ServerResponse, url: URL) => redirect(res, `${issuer}${url.pathname}${url.search}`);

  /** The sign-in host's session cookie, if it holds a live organisation session. */
  async function organisationSession(req: IncomingMessage): Promise<OrganisationSession | undefined> {
    const token = readCookie(req.headers, AUTH_COOKIE);
    if (!token) return undefined;
    try {
      return await verifyOrganisationToken(token, { issuer, keys, revoked });
    } catch (error) {
      if (isAirlockError(error)) return undefined; // expired, revoked or not a session: sign in again
      throw error;
    }
  }

  async function startOrganisationSession(res: ServerResponse, identity: LoginIdentity): Promise<OrganisationSession> {
    const issued = await issueOrganisationToken({ keys, issuer, identity, sessionMs: organisationSessionMs });
    res.appendHeader('set-cookie', setCookie(AUTH_COOKIE, issued.token, { maxAgeSeconds: Math.floor(organisationSessionMs / 1000), path: '/', secure }));
    return { ...identity, sessionId: issued.sessionId, expiresAt: issued.expiresAt };
  }

  /** The app's policy on a signed-in identity, logged once per decision. */
  function decide(req: IncomingMessage, app: AccessApp, identity: LoginIdentity, flow: string) {
    const ip = req.socket.remoteAddress ?? '';
    const decision = app.evaluate({ kind: 'user', sub: identity.sub, email: identity.email, groups: identity.groups }, { ip });
    deps.log.info({ event: 'login', app: app.hostname, email: identity.email, flow, allowed: decision.allowed, reason: decision.reason, ip }, 'sign-in');
    return decision;
  }

  async function startLogin(res: ServerResponse, login: LoginTarget): Promise<void> {
    const { url, pending } = await rp.beginLogin();
    deps.log.info({ event: 'login-start', app: login.hostname, flow: login.kind }, 'sign-in started');
    const binding = randomBytes(32).toString('base64url');
    await states.put(pending.state, { ...pending, ...login, binding }, SSO.loginStateTtlMs);
    res.setHeader('set-cookie', setCookie(bindingCookieName(pending.state), binding, { maxAgeSeconds: SSO.loginStateTtlMs / 1000, path: PATH.callback, secure }));
    redirect(res, url.href);
  }

  async function cli(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (!onSignInHost(req)) return toSignInHost(res, url);
    const query = url.searchParams;
    const app = appByAud(query.get('aud') ?? '');
    if (!app) return html(res, 404, notFoundPage(query.get('aud') ?? ''));
    const redirectUrl = checkLoopbackRedirect(query.get('redirect_url')).href;
    const clientState = query.get('state') ?? '';
    if (!/^[\x21-\x7e]{8,512}$/.test(clientState)) throw new AirlockError('BAD_ARGUMENT', 'state is missing or malformed');
    if (query.get('code_challenge_method') !== 'S256') throw new AirlockError('BAD_ARGUMENT', 'code_challenge_method must be S256 (RFC 7636)');
    const codeChallenge = query.get('code_challenge') ?? '';
    if (!/^[A-Za-z0-9_-]{43}$/.test(codeChallenge)) throw new AirlockError('BAD_ARGUMENT', 'code_challenge must be 43 base64url characters');
    const target = { kind: 'cli', aud: app.aud, hostname: app.hostname, redirectUrl, clientState, codeChallenge } as const;
    // A browser already signed in to the organisation goes straight back to the app: no IdP page.
    const session = await organisationSession(req);
    if (session) return answerNativeApp(req, res, app, session, target);
    await startLogin(res, target);
  }

  async function browserLogin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const hostname = decodePathSegment(url.pathname.slice(PATH.login.length), 'the application hostname').toLowerCase();
    const app = HOSTNAME_PATTERN.test(hostname) ? deps.findAppByHostname(hostname) : undefined;
    if (!app) return html(res, 404, notFoundPage(hostname));
    // Clients of the protocol (cloudflared's HEAD probe) learn the app's domain from this header.
    res.setHeader(HEADER.accessDomain, app.hostname);
    if (!onSignInHost(req)) return toSignInHost(res, url);
    const returnTo = returnTarget(url.searchParams.get('redirect_url'), app.hostname);
    const session = await organisationSession(req);
    if (session) return handOff(req, res, app, session, 'session', returnTo.returnTo);
    await startLogin(res, { kind: 'browser', aud: app.aud, hostname: app.hostname, ...returnTo });
  }

  /** Only https back to the app's own hostname or this edge: never an open redirect. */
  function returnTarget(text: string | null, hostname: string): { returnTo?: string } {
    if (!text || !URL.canParse(text)) return {};
    const url = new URL(text);
    const ours = url.protocol === 'https:' && !url.username && !url.password && (url.hostname === hostname || url.host === publicUrl.host);
    return ours ? { returnTo: url.href } : {};
  }

  /**
   * A browser signed in to the organisation asks for an app: mint the app token (joined to the
   * session) and send it to the app host's /authorized under a one-time code, which sets that
   * host's cookie. The token never appears in a URL.
   */
  async function handOff(req: IncomingMessage, res: ServerResponse, app: AccessApp, session: OrganisationSession, flow: string, returnTo?: string): Promise<void> {
    if (!decide(req, app, session, flow).allowed) {
      res.setHeader(HEADER.accessAud, app.aud);
      return html(res, 403, deniedPage(app.hostname));
    }
    const issued = await issue(app, session, session);
    const code = randomBytes(32).toString('base64url');
    await handoffs.put(hashCode(code), { hostname: app.hostname, token: issued.token, expiresAt: issued.expiresAt.getTime(), ...(returnTo ? { returnTo } : {}) }, SSO.handoffCodeTtlMs);
    redirect(res, `${appOrigin(deps.publicUrl, app.hostname)}${PATH.authorized}?code=${code}`);
  }

  async function authorized(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const code = url.searchParams.get('code') ?? '';
    const handoff = code.length > 0 && code.length <= 256 ? await handoffs.take(hashCode(code)) : undefined;
    // A code minted for one app host sets no cookie on another.
    if (!handoff || handoff.hostname !== hostnameFromHostHeader(req.headers.host)) {
      throw new AirlockError('LOGIN_FAILED', 'this sign-in link has expired or was already used; go back to the application and sign in again');
    }
    const maxAgeSeconds = Math.max(0, Math.floor((handoff.expiresAt - Date.now()) / 1000));
    res.setHeader('set-cookie', setCookie(AUTH_COOKIE, handoff.token, { maxAgeSeconds, path: '/', secure }));
    if (handoff.returnTo) return redirect(res, handoff.returnTo);
    html(res, 200, signedInPage(handoff.hostname));
  }

  async function callback(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const state = url.searchParams.get('state') ?? '';
    const pending = state ? await states.take(state) : undefined;
    const cookieName = state ? bindingCookieName(state) : '';
    const presented = readCookie(req.headers, cookieName);
    if (!pending || !presented || !sameSecret(presented, pending.binding)) {
      throw new AirlockError('LOGIN_FAILED', 'this sign-in expired or was started in another browser');
    }
    res.setHeader('set-cookie', setCookie(cookieName, '', { maxAgeSeconds: 0, path: PATH.callback, secure }));
    const identity = await rp.completeLogin(url, pending);
    const app = appByAud(pending.aud);
    if (!app) return html(res, 404, notFoundPage(pending.hostname));
    // The user is signed in to the organisation whatever this app's policy says of them.
    const session = await startOrganisationSession(res, identity);
    if (pending.kind === 'cli') return answerNativeApp(req, res, app, session, pending);
    await handOff(req, res, app, session, 'browser', pending.returnTo);
  }

  /** RFC 8252 §7.3: a one-time code (or access_denied, RFC 6749 §4.1.2.1) to the app's loopback listener. */
  async function answerNativeApp(req: IncomingMessage, res: ServerResponse, app: AccessApp, session: OrganisationSession, pending: Extract<LoginTarget, { kind: 'cli' }>): Promise<void> {
    const target = new URL(pending.redirectUrl);
    if (decide(req, app, session, 'cli').allowed) {
      const identity = { sub: session.sub, email: session.email, groups: session.groups };
      target.searchParams.set('code', await codes.create({ aud: app.aud, codeChallenge: pending.codeChallenge, redirectUrl: pending.redirectUrl, identity, session }));
    } else {
      target.searchParams.set('error', 'access_denied');
    }
    target.searchParams.set('state', pending.clientState);
    redirect(res, target.href);
  }

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
    const answer: Record<string, unknown> = { token: issued.token, expires_at: Math.floor(issued.expiresAt.getTime() / 1000) };
    // The native app's copy of the organisation session: it mints this user's next app tokens
    // without a browser (the same exchange as cloudflared's org token).
    if (grant.session && !app.issue) {
      const session = await issueOrganisationToken({ keys, issuer, identity: grant.identity, sessionMs: organisationSessionMs, session: grant.session });
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
    if (!fromHeader && !sameOrigin(req)) return html(res, 403, badRequestPage('Sign-out must be confirmed on this site; open the sign-out page and press the button.'));
    let signedOut = false;
    const session = presented ? await presentedSession(presented) : undefined;
    if (session) {
      // An app token shares its session's id, and the session may outlive it: revoke the id until
      // the longest a session can last, so the session and every token minted from it end here.
      const until = new Date(Math.max(session.expiresAt.getTime(), Date.now() + organisationSessionMs));
      await revoked.revoke(session.sessionId, until);
      deps.log.info({ event: 'logout', aud: session.aud, email: session.email }, 'session revoked');
      signedOut = true;
    }
    res.setHeader('set-cookie', setCookie(AUTH_COOKIE, '', { maxAgeSeconds: 0, path: '/', secure }));
    if (wantsJson) return json(res, 200, { signed_out: signedOut });
    html(res, 200, signedOutPage());
  }

  /** The live session behind a presented app or organisation token; undefined when it is dead or forged. */
  async function presentedSession(token: string): Promise<{ sessionId: string; expiresAt: Date; email: string; aud: string } | undefined> {
    const aud = unverifiedAud(token);
    try {
      if (aud === SSO.organisationAud) return { ...(await verifyOrganisationToken(token, { issuer, keys, revoked })), aud };
      if (aud && deps.findAppByAud(aud)) return { ...(await verifyAppToken(token, { issuer, aud, keys, revoked })), aud };
    } catch (error) {
      if (!isAirlockError(error)) throw error; // an expired or revoked token is already signed out
    }
    return undefined;
  }

  async function issue(app: AccessApp, identity: LoginIdentity, session?: Pick<OrganisationSession, 'sessionId' | 'expiresAt'>) {
    const who = { sub: identity.sub, email: identity.email, groups: identity.groups };
    if (app.issue) return app.issue(who);
    if (app === organisationApp) return issueOrganisationToken({ keys, issuer, identity: who, sessionMs: organisationSessionMs, ...(session ? { session } : {}) });
    return issueAppToken({
      keys,
      issuer,
      aud: app.aud,
      ...who,
      sessionMs: session ? appSessionMs(app.sessionMs, session) : app.sessionMs,
      ...(session ? { sessionId: session.sessionId } : {}),
    });
  }

  return async (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    if (!url.pathname.startsWith(PATH.accessPrefix)) return false;
    const read = req.method === 'GET' || req.method === 'HEAD';
    try {
      if (url.pathname.startsWith(PATH.login) && read) await browserLogin(req, res, url);
      else if (url.pathname === PATH.cli && req.method === 'GET') await cli(req, res, url);
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

/** The sign-in endpoints' JSON goes out as bare application/json, as their clients have always read it. */
function json(res: ServerResponse, status: number, body: JsonAnswer, cacheControl = 'no-store'): void {
  sendJson(res, status, body, { 'content-type': 'application/json', 'cache-control': cacheControl });
}

function respondWithError(res: ServerResponse, error: unknown, log: AccessLog, asJson: boolean): void {
  const failure = isAirlockError(error) ? error : new AirlockError('EDGE_ERROR', 'internal error');
  log.warn({ event: 'access-error', code: failure.code, message: failure.message, ...(isAirlockError(error) ? {} : { error: String(error) }) }, 'sign-in error');
  if (res.headersSent) return void res.destroy();
  res.removeHeader('set-cookie');
  if (asJson) {
    const status = failure.code === 'EDGE_ERROR' ? 500 : failure.code === 'STORE_UNAVAILABLE' ? 503 : 400;
    return json(res, status, { error: status === 503 ? 'temporarily_unavailable' : 'invalid_request', error_description: failure.message });
  }
  if (failure.code === 'IDP_UNREACHABLE') return html(res, 502, idpUnreachablePage());
  if (failure.code === 'STORE_UNAVAILABLE') return html(res, 503, storeUnavailablePage());
  if (failure.code === 'EDGE_ERROR') return html(res, 500, badRequestPage('Something went wrong on the edge.'));
  html(res, 400, badRequestPage(failure.message));
}

/** One cookie per login, named by its state, so two sign-ins in one browser do not collide. */
function bindingCookieName(state: string): string {
  return `${SSO.loginStateCookie}_${createHash('sha256').update(state).digest('base64url').slice(0, 16)}`;
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

function hashCode(code: string): string {
  return createHash('sha256').update(code).digest('base64url');
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
