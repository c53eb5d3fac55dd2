// The AuthProvider for the tray app and `airlock ui`, built on the SSO building blocks (loopback
// login, organisation session, token store) passed in as functions, so this file depends on their
// shape, not their code. Per resource: learn the app's aud and its edge's sign-in origin from the
// edge's 302 (docs/architecture.md "Client ↔ edge"), reuse a stored token until it expires, mint
// one from the edge's organisation session, and open the system browser only when there is none:
// one browser sign-in per edge, however many resources use it.
import { AirlockError, isAirlockError } from '../../shared/errors.js';
import type { DiscoveredApp, Resource } from '../../shared/contract/api.js';
import { listApps } from '../../core/app-list.js';
import type { Credential } from '../../core/credentials.js';
import { resolveEdgeTarget, type EdgeTarget } from '../../core/edge-target.js';
import { dialHostOfUrl, formatHostPort } from '../../shared/host.js';
import { edgeOf, type AuthProvider, type EdgeIdentity, type PendingSignIn } from './auth-provider.js';
import { BrowserSignIns, type SignInFailure } from './browser-sign-ins.js';
import { discoverAppByHead, tokenIdentity } from './app-identity.js';
import type { LoginResult } from '../../core/loopback-login.js';
import { revokeAtEdge } from '../../core/edge-logout.js';
import { exchangeOrganisationToken, ORGANISATION_ACCOUNT, type AppSignIn } from '../../core/organisation-session.js';

export interface SsoTokenStore {
  get(edge: string, aud: string): Promise<string | undefined>;
  set(edge: string, aud: string, token: string): Promise<void>;
  delete(edge: string, aud: string): Promise<void>;
  clear(edge?: string): Promise<void>;
  clearIssuer(issuer: string): Promise<void>;
  /** Where the tokens are kept (token-store.ts describe()). */
  describe?(): Promise<{ kind: 'keychain' | 'encrypted-file' | 'file'; detail: string }>;
}

/** What SsoAuth asks of loginWithBrowser; onUrl and signal let the app show and cancel it. */
export interface LoginRequest {
  edgeOrigin: string;
  aud: string;
  hostname: string;
  ca?: Buffer;
  dial?: EdgeTarget;
  onUrl?: (url: string) => void;
  signal?: AbortSignal;
}

export interface SsoAuthOptions {
  /** loginWithBrowser from src/core/loopback-login.ts, with openBrowser and print bound. */
  login(options: LoginRequest): Promise<LoginResult>;
  /** createTokenStore() from src/core/token-store.ts. */
  tokens: SsoTokenStore;
  caFile?: string;
  /** Learns an application's aud and sign-in origin; by default a HEAD on the app, whose 302 names them. */
  discoverApp?: (target: EdgeTarget) => Promise<AppSignIn | undefined>;
  /** Trades the organisation session for an app token (exchangeOrganisationToken by default). */
  exchange?: typeof exchangeOrganisationToken;
  /** Discovery (listApps by default). */
  listApps?: typeof listApps;
}

export { discoverAppByHead, tokenIdentity };

export class SsoAuth implements AuthProvider {
  /** target edge origin|hostname → the app's aud and sign-in origin, learnt once per run. */
  private readonly apps = new Map<string, AppSignIn>();
  /** sign-in origin → a target that reaches it (the resource's --edge address), for sign-out. */
  private readonly dials = new Map<string, EdgeTarget>();
  /** edge (as the UI names it: the sign-in origin once known) → who is signed in there. */
  private readonly identities = new Map<string, EdgeIdentity>();
  /** One sign-in per edge at a time, however many connections ask. */
  private readonly signIns = new Map<string, Promise<void>>();
  /** One browser window per sign-in origin: a second resource waits, then uses the session. */
  private readonly browserSignIns = new Map<string, Promise<unknown>>();
  /** sign-in origin → the browser sign-in waiting for the user, shown by the UI and cancellable. */
  private readonly waiting = new BrowserSignIns();

  constructor(private readonly options: SsoAuthOptions) {}

  /** Resources of one edge share one sign-in: keyed by the sign-in origin once an app host named it. */
  edgeOf(resource: Resource): string {
    return this.apps.get(appKey(resource))?.signInOrigin ?? edgeOf(resource);
  }

  async credentialFor(resource: Resource): Promise<Credential> {
    const target = this.target(resource);
    const app = this.apps.get(appKey(resource));
    if (!app) return { kind: 'none' }; // the first dial's 302 tells us the aud, through signIn
    const token = await this.options.tokens.get(target.edgeOrigin, app.aud);
    if (!token) {
      this.identities.delete(app.signInOrigin);
      return { kind: 'none' };
    }
    this.remember(app, token);
    return { kind: 'app-token', token };
  }

  pendingSignIn(edge: string): PendingSignIn | undefined {
    return this.waiting.waiting(edge);
  }

  cancelSignIn(edge: string): boolean {
    return this.waiting.cancel(edge);
  }

  signInError(edge: string): SignInFailure | undefined {
    return this.waiting.failure(edge);
  }

  watch(listener: () => void): void {
    this.waiting.watch(listener);
  }

  async describeStore(): Promise<{ kind: 'keychain' | 'encrypted-file' | 'file'; detail: string }> {
    if (!this.options.tokens.describe)
      throw new AirlockError('KEYCHAIN_UNAVAILABLE', 'this token store does not say where it keeps tokens');
    return this.options.tokens.describe();
  }

  signIn(edge: string, resource?: Resource): Promise<void> {
    const key = `${edge}|${resource?.hostname ?? ''}`;
    const running = this.signIns.get(key);
    if (running) return running;
    const work = (resource ? this.signInOnce(resource) : this.signInToEdge(edge)).finally(() =>
      this.signIns.delete(key),
    );
    this.signIns.set(key, work);
    return work;
  }

  async renew(resource: Resource): Promise<boolean> {
    const app = this.apps.get(appKey(resource));
    if (!app) return false;
    const target = this.target(resource);
    const stored = await this.options.tokens.get(target.edgeOrigin, app.aud);
    if (stored) {
      this.remember(app, stored);
      return true;
    }
    return this.fromSession(target, app);
  }

  async signOut(edge: string): Promise<void> {
    this.identities.delete(edge);
    const { tokens } = this.options;
    const apps = [...this.apps].filter(([, app]) => app.signInOrigin === edge);
    if (apps.length > 0) {
      // End the session at the edge too, so every app token minted from it stops working.
      const session = await tokens.get(edge, ORGANISATION_ACCOUNT);
      const dial = this.dials.get(edge);
      if (session)
        await revokeAtEdge({ edgeOrigin: edge, token: session, ...(dial ? { dial } : {}) }).catch((error: unknown) => {
          // The edge could not record it: keep the tokens so the sign-out can be tried again.
          if (isAirlockError(error) && error.code === 'STORE_UNAVAILABLE') throw error;
          return false;
        });
      await tokens.delete(edge, ORGANISATION_ACCOUNT);
      for (const [key, app] of apps) await tokens.delete(originOfKey(key), app.aud);
      await tokens.clearIssuer(edge);
      return;
    }
    // Tokens are stored per edge origin (https://host:port), whatever application they are for.
    const origin = this.edgeTarget(edge).edgeOrigin;
    await tokens.clear(origin);
  }

  async tokenExpiry(resource: Resource): Promise<string | undefined> {
    const app = this.apps.get(appKey(resource));
    const token = app ? await this.options.tokens.get(this.target(resource).edgeOrigin, app.aud) : undefined;
    return token ? tokenIdentity(token)?.expiresAt : undefined;
  }

  async forgetExpiring(edge: string, before: number): Promise<void> {
    const { tokens } = this.options;
    const forgetIfEnding = async (origin: string, aud: string) => {
      const token = await tokens.get(origin, aud);
      const expiresAt = token ? tokenIdentity(token)?.expiresAt : undefined;
      if (token && (!expiresAt || new Date(expiresAt).getTime() <= before)) await tokens.delete(origin, aud);
    };
    // The organisation session too when it ends as soon: a token minted from it could last no longer.
    await forgetIfEnding(edge, ORGANISATION_ACCOUNT);
    for (const [key, app] of this.apps) if (app.signInOrigin === edge) await forgetIfEnding(originOfKey(key), app.aud);
  }

  /** Edges signed in to, or signing in to, without a saved resource (from Browse): listed as sessions too. */
  edges(): string[] {
    return [...new Set([...this.identities.keys(), ...this.waiting.origins()])];
  }

  /**
   * Signs in to an edge itself, before any of its apps is saved (Browse on a fresh install): the
   * browser sign-in for the organisation alone, whose session then lists and mints the apps.
   */
  private async signInToEdge(edge: string): Promise<void> {
    const origin = new URL(edge).origin;
    const dial = this.edgeTarget(edge);
    this.dials.set(origin, dial);
    const stored = await this.options.tokens.get(origin, ORGANISATION_ACCOUNT);
    const token =
      stored ??
      (
        await this.browserLogin({
          edgeOrigin: origin,
          aud: ORGANISATION_ACCOUNT,
          hostname: new URL(edge).host,
          ...(dial.ca ? { ca: dial.ca } : {}),
          dial,
        })
      ).token;
    if (!stored) await this.options.tokens.set(origin, ORGANISATION_ACCOUNT, token);
    const identity = tokenIdentity(token);
    if (identity) this.identities.set(origin, identity);
  }

  async identity(edge: string): Promise<EdgeIdentity | undefined> {
    const identity = this.identities.get(edge);
    if (identity?.expiresAt && new Date(identity.expiresAt).getTime() <= Date.now()) {
      this.identities.delete(edge);
      return undefined;
    }
    return identity;
  }

  async discover(edge: string): Promise<{ apps: DiscoveredApp[]; edgeAddress?: string }> {
    const session = await this.options.tokens.get(edge, ORGANISATION_ACCOUNT);
    if (!session)
      throw new AirlockError('AUTH_REQUIRED', `sign in to ${edge} first: connect any of its resources once`);
    const dial = this.dials.get(edge) ?? this.edgeTarget(edge);
    const apps = await (this.options.listApps ?? listApps)(dial, edge, { organisationToken: session });
    return {
      apps,
      ...(dial.explicitEdge ? { edgeAddress: `https://${formatHostPort(dial)}` } : {}),
    };
  }

  private async signInOnce(resource: Resource): Promise<void> {
    const target = this.target(resource);
    let app = this.apps.get(appKey(resource));
    if (!app) {
      app = await (this.options.discoverApp ?? discoverAppByHead)(target);
      if (!app) return; // open application: nothing to sign in to
      this.apps.set(appKey(resource), app);
    }
    this.dials.set(app.signInOrigin, target);
    const { tokens } = this.options;
    // A stored token that is still good is as good as a new sign-in (e.g. after a restart).
    const stored = await tokens.get(target.edgeOrigin, app.aud);
    if (stored) return this.remember(app, stored);
    for (;;) {
      if (await this.fromSession(target, app)) return;
      const running = this.browserSignIns.get(app.signInOrigin);
      if (!running) break;
      await running.catch(() => undefined); // another resource of this edge is signing in: use its session
    }
    const login = this.browserLogin({
      edgeOrigin: app.signInOrigin,
      aud: app.aud,
      hostname: resource.hostname,
      ...(target.ca ? { ca: target.ca } : {}),
      dial: target,
    });
    this.browserSignIns.set(app.signInOrigin, login);
    try {
      const result = await login;
      await tokens.set(target.edgeOrigin, app.aud, result.token);
      if (result.organisation) await tokens.set(app.signInOrigin, ORGANISATION_ACCOUNT, result.organisation.token);
      this.remember(app, result.token);
    } finally {
      this.browserSignIns.delete(app.signInOrigin);
    }
  }

  /** The browser sign-in, announced to watchers as it starts, shows its URL, and ends. */
  private browserLogin(request: LoginRequest): Promise<LoginResult> {
    return this.waiting.run(request.edgeOrigin, (hooks) => this.options.login({ ...request, ...hooks }));
  }

  /** This app's token from the edge's organisation session, when we hold a good one. */
  private async fromSession(target: EdgeTarget, app: AppSignIn): Promise<boolean> {
    const session = await this.options.tokens.get(app.signInOrigin, ORGANISATION_ACCOUNT);
    if (!session) return false;
    const token = await (this.options.exchange ?? exchangeOrganisationToken)(target, app, session);
    if (!token) {
      await this.options.tokens.delete(app.signInOrigin, ORGANISATION_ACCOUNT); // ended at the edge
      return false;
    }
    await this.options.tokens.set(target.edgeOrigin, app.aud, token);
    this.remember(app, token);
    return true;
  }

  private remember(app: AppSignIn, token: string): void {
    const identity = tokenIdentity(token);
    if (identity) this.identities.set(app.signInOrigin, identity);
  }

  /** The edge itself as a dial target (its own host and port), for sign-in, sign-out and discovery. */
  private edgeTarget(edge: string): EdgeTarget {
    const caFile = this.options.caFile;
    return resolveEdgeTarget({ hostname: dialHostOfUrl(new URL(edge)), edge, ...(caFile ? { caFile } : {}) });
  }

  private target(resource: Resource): EdgeTarget {
    return resolveEdgeTarget({
      hostname: resource.hostname,
      ...(resource.edge ? { edge: resource.edge } : {}),
      ...(this.options.caFile ? { caFile: this.options.caFile } : {}),
    });
  }
}

/** Where the app's token is stored: its target's edge origin, kept in the key beside the hostname. */
function appKey(resource: Resource): string {
  return `${targetOrigin(resource)}|${resource.hostname}`;
}

function targetOrigin(resource: Resource): string {
  return resolveEdgeTarget({ hostname: resource.hostname, ...(resource.edge ? { edge: resource.edge } : {}) })
    .edgeOrigin;
}

function originOfKey(key: string): string {
  return key.slice(0, key.lastIndexOf('|'));
}
