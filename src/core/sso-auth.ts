// The AuthProvider for the tray app and `airlock ui`, built on the SSO building blocks (loopback
// login, token store) passed in as functions, so this file depends on their shape, not their code.
// Per resource: learn the app's aud from the edge's 302 (DESIGN.md "Client ↔ edge"), reuse a stored
// token until it expires, and sign in through the system browser when there is none.
import { AirlockError, isAirlockError } from '../shared/errors.js';
import type { Resource } from '../shared/api.js';
import type { Credential } from './credentials.js';
import { resolveEdgeTarget, type EdgeTarget } from './edge-target.js';
import { edgeOf, type AuthProvider, type EdgeIdentity } from './auth-provider.js';
import { checkAccess } from './tunnel-dial.js';

export interface SsoTokenStore {
  get(edge: string, aud: string): Promise<string | undefined>;
  set(edge: string, aud: string, token: string): Promise<void>;
  clear(edge?: string): Promise<void>;
}

export interface SsoAuthOptions {
  /** loginWithBrowser from src/core/loopback-login.ts, with openBrowser and print bound. */
  login(options: { edgeOrigin: string; aud: string; hostname: string; ca?: Buffer }): Promise<{ token: string; expiresAt: Date }>;
  /** createTokenStore() from src/core/token-store.ts. */
  tokens: SsoTokenStore;
  caFile?: string;
  /** Learns an application's aud; by default a HEAD on the app, whose 302 names it. */
  discoverAud?: (target: EdgeTarget) => Promise<string | undefined>;
}

/** The email and expiry claims of a JWT, read without verification (the edge verifies; this is for display). */
export function tokenIdentity(token: string): EdgeIdentity | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { email?: unknown; exp?: unknown };
    return {
      ...(typeof payload.email === 'string' ? { email: payload.email } : {}),
      ...(typeof payload.exp === 'number' ? { expiresAt: new Date(payload.exp * 1000).toISOString() } : {}),
    };
  } catch {
    return undefined;
  }
}

export async function discoverAudByHead(target: EdgeTarget): Promise<string | undefined> {
  try {
    await checkAccess({ target, headers: {} });
    return undefined; // the app needs no sign-in
  } catch (error) {
    if (isAirlockError(error) && error.code === 'AUTH_REQUIRED') {
      const aud = error.details.aud;
      return typeof aud === 'string' && aud ? aud : undefined;
    }
    throw error;
  }
}

export class SsoAuth implements AuthProvider {
  /** hostname → aud, learnt once per run. */
  private readonly auds = new Map<string, string>();
  /** edge (as the UI names it) → who is signed in there. */
  private readonly identities = new Map<string, EdgeIdentity>();
  /** One browser sign-in per edge at a time, however many connections ask. */
  private readonly signIns = new Map<string, Promise<void>>();

  constructor(private readonly options: SsoAuthOptions) {}

  async credentialFor(resource: Resource): Promise<Credential> {
    const target = this.target(resource);
    const aud = this.auds.get(resource.hostname);
    if (!aud) return { kind: 'none' }; // the first dial's 302 tells us the aud, through signIn
    const token = await this.options.tokens.get(target.edgeOrigin, aud);
    if (!token) {
      this.identities.delete(edgeOf(resource));
      return { kind: 'none' };
    }
    this.remember(resource, token);
    return { kind: 'app-token', token };
  }

  signIn(edge: string, resource?: Resource): Promise<void> {
    if (!resource) return Promise.reject(new AirlockError('BAD_ARGUMENT', `add a resource that uses ${edge} first; sign-in is per application`));
    const running = this.signIns.get(edge);
    if (running) return running;
    const work = this.signInOnce(resource).finally(() => this.signIns.delete(edge));
    this.signIns.set(edge, work);
    return work;
  }

  async signOut(edge: string): Promise<void> {
    this.identities.delete(edge);
    // Tokens are stored per edge origin (https://host:port), whatever application they are for.
    const origin = resolveEdgeTarget({ hostname: new URL(edge).hostname.replace(/^\[|\]$/g, ''), edge }).edgeOrigin;
    await this.options.tokens.clear(origin);
  }

  async identity(edge: string): Promise<EdgeIdentity | undefined> {
    const identity = this.identities.get(edge);
    if (identity?.expiresAt && new Date(identity.expiresAt).getTime() <= Date.now()) {
      this.identities.delete(edge);
      return undefined;
    }
    return identity;
  }

  private async signInOnce(resource: Resource): Promise<void> {
    const target = this.target(resource);
    let aud = this.auds.get(resource.hostname);
    if (!aud) {
      aud = await (this.options.discoverAud ?? discoverAudByHead)(target);
      if (!aud) return; // open application: nothing to sign in to
      this.auds.set(resource.hostname, aud);
    }
    // A stored token that is still good is as good as a new sign-in (e.g. after a restart).
    const stored = await this.options.tokens.get(target.edgeOrigin, aud);
    if (stored) {
      this.remember(resource, stored);
      return;
    }
    const { token } = await this.options.login({ edgeOrigin: target.edgeOrigin, aud, hostname: resource.hostname, ...(target.ca ? { ca: target.ca } : {}) });
    await this.options.tokens.set(target.edgeOrigin, aud, token);
    this.remember(resource, token);
  }

  private remember(resource: Resource, token: string): void {
    const identity = tokenIdentity(token);
    if (identity) this.identities.set(edgeOf(resource), identity);
  }

  private target(resource: Resource): EdgeTarget {
    return resolveEdgeTarget({ hostname: resource.hostname, ...(resource.edge ? { edge: resource.edge } : {}), ...(this.options.caFile ? { caFile: this.options.caFile } : {}) });
  }
}
