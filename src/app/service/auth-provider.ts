// How the ResourceManager gets credentials and signs in, per edge. The SSO implementation is
// SsoAuth (sso-auth.ts); NoAuth stands in where sign-in is not wired.
import type { DiscoveredApp, Resource } from '../../shared/contract/api.js';
import { AirlockError } from '../../shared/errors.js';
import type { Credential } from '../../core/credentials.js';

export interface EdgeIdentity {
  email?: string;
  /** ISO time the token expires. */
  expiresAt?: string;
}

/** How the manager gets credentials; the SSO module implements this (keychain + loopback login). */
export interface AuthProvider {
  /** The edge a resource signs in at, as the UI groups it: one entry per edge, not per resource. */
  edgeOf(resource: Resource): string;
  credentialFor(resource: Resource): Promise<Credential>;
  /** Signs in to an edge (opens the system browser); resolves when a credential is stored. */
  signIn(edge: string, resource?: Resource): Promise<void>;
  signOut(edge: string): Promise<void>;
  /**
   * A credential for this resource without a browser: a stored token, or one minted from its edge's
   * session (sign-in is per edge, tokens per app). False when only a browser sign-in would do.
   */
  renew?(resource: Resource): Promise<boolean>;
  identity(edge: string): Promise<EdgeIdentity | undefined>;
  /** Edges signed in to that no saved resource names (sign-in from Browse). */
  edges?(): string[];
  /** Discovery: the apps `edge` lets the signed-in user reach, and the address its resources dial. */
  discover?(edge: string): Promise<{ apps: DiscoveredApp[]; edgeAddress?: string }>;
  /** When set, sign-in cannot work here; shown to the user as is. */
  readonly unavailableReason?: string;
  /** A browser sign-in to `edge` waiting for the user: its page (once known) and since when. */
  pendingSignIn?(edge: string): PendingSignIn | undefined;
  /** Stops a pending browser sign-in (it fails with LOGIN_CANCELLED); false when none was pending. */
  cancelSignIn?(edge: string): boolean;
  /** How the last browser sign-in to `edge` failed, until the next one starts or succeeds. */
  signInError?(edge: string): { code: string; message: string; at: string } | undefined;
  /** Called whenever a sign-in starts, learns its URL, or ends: the UI shows each step. */
  watch?(listener: () => void): void;
  /** When the token a resource's new connections would use expires (ISO), if it holds one. */
  tokenExpiry?(resource: Resource): Promise<string | undefined>;
  /**
   * Forgets the edge's tokens that expire before `before` (epoch ms), so the next sign-in gets new
   * ones: a sign-in again before the session ends, which the edge then carries open streams over to.
   */
  forgetExpiring?(edge: string, before: number): Promise<void>;
  /** Where tokens are kept, for Settings. */
  describeStore?(): Promise<{ kind: 'keychain' | 'encrypted-file' | 'file'; detail: string }>;
}

export interface PendingSignIn {
  url?: string;
  startedAt: string;
  expiresAt?: string;
}

export const SIGN_IN_UNAVAILABLE =
  'sign-in not available in this build; resources that need no sign-in (or a service token) still connect';

/** Until the SSO module is wired in: no credential, and sign-in says plainly that it is not there. */
export class NoAuth implements AuthProvider {
  readonly unavailableReason = SIGN_IN_UNAVAILABLE;
  edgeOf(resource: Resource): string {
    return edgeOf(resource);
  }
  async credentialFor(): Promise<Credential> {
    return { kind: 'none' };
  }
  async signIn(): Promise<void> {
    throw new AirlockError('AUTH_REQUIRED', SIGN_IN_UNAVAILABLE);
  }
  async signOut(): Promise<void> {}
  async identity(): Promise<EdgeIdentity | undefined> {
    return undefined;
  }
}

/** The https:// origin a resource signs in at: its explicit edge, else its own hostname (as cloudflared). */
export function edgeOf(resource: Pick<Resource, 'hostname' | 'edge'>): string {
  return resource.edge ?? `https://${resource.hostname}`;
}
