// What the sign-in endpoints (access-routes.ts, docs/sso.md) share: their types, and one context
// per edge: the relying party, the one-time stores, the organisation session, the policy decision
// and token issuing for an app.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AUTH_COOKIE, PATH, SSO } from '../../shared/constants.js';
import { parseDuration } from '../../shared/contract/duration.js';
import { isAirlockError } from '../../shared/errors.js';
import { dialHostOfUrl, hostnameFromHostHeader } from '../../shared/host.js';
import { redirect } from './access-http.js';
import { issueAppToken, type UserPrincipal } from '../tokens/app-token.js';
import { readCookie, setCookie } from '../http/http-cookies.js';
import { LoginCodes, type LoginIdentity } from './login-codes.js';
import { AddressBudget } from '../observability/address-budget.js';
import { MemoryLoginStateStore, type LoginStateStore } from './login-state-store.js';
import { OidcRelyingParty, type IdpConfig, type PendingOidcLogin } from './oidc-login.js';
import {
  appSessionMs,
  issueOrganisationToken,
  verifyOrganisationToken,
  type OrganisationSession,
} from './organisation-session.js';
import type { Revocations } from '../tokens/revocation-list.js';
import type { SigningKeys } from '../tokens/signing-keys.js';
import { clientAddress } from '../http/proxy-protocol.js';

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
  /** An app token was issued to a signed-in user: a newer session carries their open streams over. */
  onAppTokenIssued?(issued: { hostname: string; email: string; sessionId: string; expiresAt: Date }): void;
  /** Sign-in starts per address and network; default SSO.loginStartsPer* a minute. */
  startBudget?: AddressBudget;
  log: AccessLog;
}

/** An app token minted on the sign-in host, waiting for /authorized on its app host. Secret. */
export interface Handoff {
  hostname: string;
  token: string;
  expiresAt: number;
  /** sha256 of the binding cookie the browser that started the sign-in holds on the app host; none for a non-browser client. */
  binding?: string;
  returnTo?: string;
}

/** What a login was started for: the native app (code to its loopback listener) or the browser (cookie). */
export type LoginTarget = { aud: string; hostname: string } & (
  | { kind: 'cli'; redirectUrl: string; clientState: string; codeChallenge: string }
  | { kind: 'browser'; handoffBinding?: string; returnTo?: string }
);

export type PendingLogin = PendingOidcLogin &
  LoginTarget & {
    /** Random secret also held in the browser's cookie: the callback must come from the same browser. */
    binding: string;
  };

export type SignInContext = ReturnType<typeof createSignInContext>;

export function createSignInContext(deps: AccessRoutesDeps) {
  const publicUrl = new URL(deps.publicUrl);
  const issuer = publicUrl.origin;
  const signInHost = dialHostOfUrl(publicUrl);
  const secure = publicUrl.protocol === 'https:';
  const rp =
    deps.idp instanceof OidcRelyingParty
      ? deps.idp
      : new OidcRelyingParty(deps.idp, { redirectUri: `${issuer}${PATH.callback}` });
  const states = deps.stateStore ?? new MemoryLoginStateStore<PendingLogin>();
  const codes = deps.loginCodes ?? new LoginCodes();
  const handoffs = deps.handoffs ?? new MemoryLoginStateStore<Handoff>();
  const startBudget =
    deps.startBudget ??
    new AddressBudget({
      perAddress: SSO.loginStartsPerAddress,
      perNetwork: SSO.loginStartsPerNetwork,
      windowMs: SSO.loginStartWindowMs,
    });
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
    res.appendHeader(
      'set-cookie',
      setCookie(AUTH_COOKIE, issued.token, {
        maxAgeSeconds: Math.floor(organisationSessionMs / 1000),
        path: '/',
        secure,
      }),
    );
    return { ...identity, sessionId: issued.sessionId, expiresAt: issued.expiresAt };
  }

  /** The app's policy on a signed-in identity, logged once per decision. */
  function decide(req: IncomingMessage, app: AccessApp, identity: LoginIdentity, flow: string) {
    const ip = clientAddress(req.socket);
    const decision = app.evaluate(
      { kind: 'user', sub: identity.sub, email: identity.email, groups: identity.groups },
      { ip },
    );
    deps.log.info(
      {
        event: 'login',
        app: app.hostname,
        email: identity.email,
        flow,
        allowed: decision.allowed,
        reason: decision.reason,
        ip,
      },
      'sign-in',
    );
    return decision;
  }

  async function issue(
    app: AccessApp,
    identity: LoginIdentity,
    session?: Pick<OrganisationSession, 'sessionId' | 'expiresAt'>,
  ) {
    const who = { sub: identity.sub, email: identity.email, groups: identity.groups };
    if (app.issue) return app.issue(who);
    if (app === organisationApp)
      return issueOrganisationToken({
        keys,
        issuer,
        identity: who,
        sessionMs: organisationSessionMs,
        ...(session ? { session } : {}),
      });
    const issued = await issueAppToken({
      keys,
      issuer,
      aud: app.aud,
      ...who,
      sessionMs: session ? appSessionMs(app.sessionMs, session) : app.sessionMs,
      ...(session ? { sessionId: session.sessionId } : {}),
    });
    deps.onAppTokenIssued?.({
      hostname: app.hostname,
      email: identity.email,
      sessionId: issued.sessionId,
      expiresAt: issued.expiresAt,
    });
    return issued;
  }

  return {
    deps,
    publicUrl,
    issuer,
    secure,
    rp,
    states,
    codes,
    handoffs,
    organisationSessionMs,
    keys,
    revoked,
    appByAud,
    onSignInHost,
    toSignInHost,
    organisationSession,
    startOrganisationSession,
    decide,
    issue,
    startBudget,
  };
}
