// Signing in through the browser (docs/sso.md): the native app's entry (cli), an app host's login
// path, the IdP's callback, and the hand-off of an app token to its host's cookie (authorized).
// The organisation session on the sign-in host spares the IdP page for every app after the first.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AUTH_COOKIE, HEADER, PATH, SSO } from '../../shared/constants.js';
import { AirlockError } from '../../shared/errors.js';
import { hostnameFromHostHeader } from '../../shared/host.js';
import { html, redirect } from './access-http.js';
import { badRequestPage, deniedPage, notFoundPage, signedInPage } from './access-pages.js';
import { clearConsent, consentGiven, consentPage } from './native-app-consent.js';
import { BINDING_PARAM, clearBinding, holdsBinding, isBrowser, newBinding, presentedHash } from './handoff-binding.js';
import { readCookie, setCookie } from '../http/http-cookies.js';
import type { OrganisationSession } from './organisation-session.js';
import { rememberIdToken } from './idp-logout.js';
import { checkLoopbackRedirect } from './redirect-url.js';
import { decodePathSegment, readObjectBody } from '../http/request-body.js';
import type { AccessApp, LoginTarget, SignInContext } from './sign-in-context.js';
import { appOrigin } from './sign-in-urls.js';
import { clientAddress } from '../http/proxy-protocol.js';

const HOSTNAME_PATTERN = /^[a-z0-9.-]{1,253}$/;
/** The native-app entry's parameters, carried through its consent form. */
const CLI_FIELDS = ['aud', 'redirect_url', 'state', 'code_challenge', 'code_challenge_method'] as const;

function stringFields(form: Record<string, unknown>): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const name of CLI_FIELDS) if (typeof form[name] === 'string') fields[name] = form[name] as string;
  return fields;
}

export function createSignInFlows(context: SignInContext) {
  const {
    deps,
    publicUrl,
    secure,
    rp,
    states,
    codes,
    handoffs,
    appByAud,
    onSignInHost,
    toSignInHost,
    organisationSession,
    organisationSessionMs,
    startOrganisationSession,
    decide,
    issue,
    startBudget,
  } = context;

  async function startLogin(req: IncomingMessage, res: ServerResponse, login: LoginTarget): Promise<void> {
    // Every start keeps a login state for 10 minutes: each address and network may start only so many.
    // The client's address, not a trusted balancer's (PROXY v2), or its users share one budget.
    const spent = startBudget.take(clientAddress(req.socket));
    if (!spent.allowed) {
      throw new AirlockError(
        'SIGN_IN_BUSY',
        `too many sign-ins were started from this ${spent.over}; try again shortly`,
        {
          retryAfterSeconds: Math.max(1, Math.ceil(spent.retryAfterMs / 1000)),
        },
      );
    }
    const { url, pending } = await rp.beginLogin();
    deps.log.info({ event: 'login-start', app: login.hostname, flow: login.kind }, 'sign-in started');
    const binding = randomBytes(32).toString('base64url');
    await states.put(pending.state, { ...pending, ...login, binding }, SSO.loginStateTtlMs);
    res.setHeader(
      'set-cookie',
      setCookie(bindingCookieName(pending.state), binding, {
        maxAgeSeconds: SSO.loginStateTtlMs / 1000,
        path: PATH.callback,
        secure,
      }),
    );
    redirect(res, url.href);
  }

  async function cli(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (!onSignInHost(req)) return toSignInHost(res, url);
    const consenting = req.method === 'POST';
    const form = consenting ? await readObjectBody(req, { forms: true }) : {};
    const query = consenting ? new URLSearchParams(stringFields(form)) : url.searchParams;
    const app = appByAud(query.get('aud') ?? '');
    if (!app) return html(res, 404, notFoundPage(query.get('aud') ?? ''));
    const redirectUrl = checkLoopbackRedirect(query.get('redirect_url')).href;
    const clientState = query.get('state') ?? '';
    if (!/^[\x21-\x7e]{8,512}$/.test(clientState))
      throw new AirlockError('BAD_ARGUMENT', 'state is missing or malformed');
    if (query.get('code_challenge_method') !== 'S256')
      throw new AirlockError('BAD_ARGUMENT', 'code_challenge_method must be S256 (RFC 7636)');
    const codeChallenge = query.get('code_challenge') ?? '';
    if (!/^[A-Za-z0-9_-]{43}$/.test(codeChallenge))
      throw new AirlockError('BAD_ARGUMENT', 'code_challenge must be 43 base64url characters');
    const target = {
      kind: 'cli',
      aud: app.aud,
      hostname: app.hostname,
      redirectUrl,
      clientState,
      codeChallenge,
    } as const;
    const session = await organisationSession(req);
    if (!session) return startLogin(req, res, target);
    // The session would complete this on its own: the user says yes on a page first (item of issue 24).
    if (!consenting) {
      const fields = new URLSearchParams();
      for (const name of CLI_FIELDS) fields.set(name, query.get(name) ?? '');
      const appName = app.aud === SSO.organisationAud ? `your organisation (${app.hostname})` : app.hostname;
      const page = consentPage({ appName, account: session.email, redirectUrl, query: fields }, secure);
      res.setHeader('set-cookie', page.cookie);
      return html(res, 200, page.body);
    }
    if (!consentGiven(req, form)) {
      return html(res, 403, badRequestPage('This sign-in must be confirmed on the page this edge showed you.'));
    }
    res.setHeader('set-cookie', clearConsent(secure));
    return answerNativeApp(req, res, app, session, target);
  }

  async function browserLogin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const hostname = decodePathSegment(url.pathname.slice(PATH.login.length), 'the application hostname').toLowerCase();
    const app = HOSTNAME_PATTERN.test(hostname) ? deps.findAppByHostname(hostname) : undefined;
    if (!app) return html(res, 404, notFoundPage(hostname));
    // Clients of the protocol (cloudflared's HEAD probe) learn the app's domain from this header.
    res.setHeader(HEADER.accessDomain, app.hostname);
    const head = req.method === 'HEAD';
    if (!onSignInHost(req)) {
      if (head) return toSignInHost(res, url);
      // The app host marks this browser before the sign-in: its hand-off must come back to it.
      const binding = newBinding(secure);
      res.setHeader('set-cookie', binding.cookie);
      url.searchParams.set(BINDING_PARAM, binding.hash);
      return toSignInHost(res, url);
    }
    const returnTo = returnTarget(url.searchParams.get('redirect_url'), app.hostname);
    const session = await organisationSession(req);
    // A HEAD (cloudflared probes the login path on every connection) starts nothing: no login state.
    // From a program (no Fetch Metadata) with an organisation session it is cloudflared's token
    // exchange, which needs the (unbound) hand-off; a browser's HEAD never mints one.
    if (head && session && !isBrowser(req))
      return handOff(req, res, app, session, 'session', undefined, returnTo.returnTo);
    if (head) return probeAnswer(req, res, app, session);
    const handoffBinding = presentedHash(url);
    if (!handoffBinding && isBrowser(req)) {
      // Started on the sign-in host: let the app host bind this browser first.
      url.searchParams.delete(BINDING_PARAM);
      return redirect(res, `${appOrigin(deps.publicUrl, app.hostname)}${url.pathname}${url.search}`);
    }
    if (session) return handOff(req, res, app, session, 'session', handoffBinding, returnTo.returnTo);
    await startLogin(req, res, {
      kind: 'browser',
      aud: app.aud,
      hostname: app.hostname,
      ...(handoffBinding ? { handoffBinding } : {}),
      ...returnTo,
    });
  }

  function probeAnswer(req: IncomingMessage, res: ServerResponse, app: AccessApp, session?: OrganisationSession): void {
    if (session && !decide(req, app, session, 'session').allowed) {
      res.setHeader(HEADER.accessAud, app.aud);
      return html(res, 403, deniedPage(app.hostname));
    }
    res.writeHead(200, { 'cache-control': 'no-store' });
    res.end();
  }

  /** Only https back to the app's own hostname or this edge: never an open redirect. */
  function returnTarget(text: string | null, hostname: string): { returnTo?: string } {
    if (!text || !URL.canParse(text)) return {};
    const url = new URL(text);
    const ours =
      url.protocol === 'https:' &&
      !url.username &&
      !url.password &&
      (url.hostname === hostname || url.host === publicUrl.host);
    return ours ? { returnTo: url.href } : {};
  }

  /**
   * A browser signed in to the organisation asks for an app: mint the app token (joined to the
   * session) and send it to the app host's /authorized under a one-time code, which sets that
   * host's cookie. The token never appears in a URL.
   */
  async function handOff(
    req: IncomingMessage,
    res: ServerResponse,
    app: AccessApp,
    session: OrganisationSession,
    flow: string,
    binding: string | undefined,
    returnTo?: string,
  ): Promise<void> {
    if (!decide(req, app, session, flow).allowed) {
      res.setHeader(HEADER.accessAud, app.aud);
      return html(res, 403, deniedPage(app.hostname));
    }
    const issued = await issue(app, session, session);
    const code = randomBytes(32).toString('base64url');
    await handoffs.put(
      hashCode(code),
      {
        hostname: app.hostname,
        token: issued.token,
        expiresAt: issued.expiresAt.getTime(),
        ...(binding ? { binding } : {}),
        ...(returnTo ? { returnTo } : {}),
      },
      SSO.handoffCodeTtlMs,
    );
    redirect(res, `${appOrigin(deps.publicUrl, app.hostname)}${PATH.authorized}?code=${code}`);
  }

  async function authorized(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const code = url.searchParams.get('code') ?? '';
    const handoff = code.length > 0 && code.length <= 256 ? await handoffs.take(hashCode(code)) : undefined;
    // A code minted for one app host sets no cookie on another.
    if (!handoff || handoff.hostname !== hostnameFromHostHeader(req.headers.host)) {
      throw new AirlockError(
        'LOGIN_FAILED',
        'this sign-in link has expired or was already used; go back to the application and sign in again',
      );
    }
    // A code minted for another browser (someone else's sign-in, sent as a link) sets no cookie here.
    if (handoff.binding ? !holdsBinding(req, handoff.binding) : isBrowser(req)) {
      throw new AirlockError('LOGIN_FAILED', 'this sign-in link was started in another browser; sign in again here');
    }
    const maxAgeSeconds = Math.max(0, Math.floor((handoff.expiresAt - Date.now()) / 1000));
    res.setHeader('set-cookie', [
      setCookie(AUTH_COOKIE, handoff.token, { maxAgeSeconds, path: '/', secure }),
      clearBinding(secure),
    ]);
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
    const { identity, idToken } = await rp.finishLogin(url, pending);
    const app = appByAud(pending.aud);
    if (!app) return html(res, 404, notFoundPage(pending.hostname));
    // The user is signed in to the organisation whatever this app's policy says of them.
    const session = await startOrganisationSession(res, identity);
    await rememberIdToken(res, rp, idToken, { secure, maxAgeMs: organisationSessionMs });
    if (pending.kind === 'cli') return answerNativeApp(req, res, app, session, pending);
    await handOff(req, res, app, session, 'browser', pending.handoffBinding, pending.returnTo);
  }

  /** RFC 8252 §7.3: a one-time code (or access_denied, RFC 6749 §4.1.2.1) to the app's loopback listener. */
  async function answerNativeApp(
    req: IncomingMessage,
    res: ServerResponse,
    app: AccessApp,
    session: OrganisationSession,
    pending: Extract<LoginTarget, { kind: 'cli' }>,
  ): Promise<void> {
    const target = new URL(pending.redirectUrl);
    if (decide(req, app, session, 'cli').allowed) {
      const identity = { sub: session.sub, email: session.email, groups: session.groups };
      target.searchParams.set(
        'code',
        await codes.create({
          aud: app.aud,
          codeChallenge: pending.codeChallenge,
          redirectUrl: pending.redirectUrl,
          identity,
          session,
        }),
      );
    } else {
      target.searchParams.set('error', 'access_denied');
    }
    target.searchParams.set('state', pending.clientState);
    redirect(res, target.href);
  }

  return { cli, browserLogin, callback, authorized };
}

/** One cookie per login, named by its state, so two sign-ins in one browser do not collide. */
function bindingCookieName(state: string): string {
  return `${SSO.loginStateCookie}_${createHash('sha256').update(state).digest('base64url').slice(0, 16)}`;
}

function hashCode(code: string): string {
  return createHash('sha256').update(code).digest('base64url');
}

function sameSecret(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
