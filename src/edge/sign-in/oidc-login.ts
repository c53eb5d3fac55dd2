// The edge as an OIDC relying party of the organisation's IdP (openid-client): authorization code
// with PKCE S256, state and nonce; identity read from the verified ID token.
//
// Integration: access-routes.ts owns one OidcRelyingParty, built from edge.yaml's `idp:` block:
//   const rp = new OidcRelyingParty({ issuer, clientId, clientSecret, groupsClaim }, { redirectUri: `${publicUrl}${PATH.callback}` });
//   const { url, pending } = await rp.beginLogin();             // keep `pending` server-side
//   const identity = await rp.completeLogin(callbackUrl, pending); // → { sub, email, groups }
// Errors: IDP_UNREACHABLE (discovery or token endpoint down: the edge answers 502) and
// LOGIN_FAILED (the IdP refused, or a check failed: the user should start again).
import * as client from 'openid-client';
import { IDP, SSO } from '../../shared/constants.js';
import { AirlockError } from '../../shared/errors.js';
import { dialHostOfUrl, isLoopbackHost } from '../../shared/host.js';
import type { LoginIdentity } from './login-codes.js';
import { queuedFetch } from './idp-requests.js';

/** edge.yaml `idp:` block. */
export interface IdpConfig {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Claim holding the user's groups (Okta and Keycloak: "groups"; Entra ID: "groups" or "roles"). */
  groupsClaim?: string;
  /** Default: openid email profile. Add "groups" for IdPs that gate the claim behind a scope. */
  scopes?: string[];
}

/** What the edge remembers between the redirect to the IdP and the callback. Secret: never logged. */
export interface PendingOidcLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface RelyingPartyOptions {
  /** The edge's PATH.callback URL, registered at the IdP. */
  redirectUri: string;
  /**
   * Seconds per IdP request once sent (IDP.requestTimeoutSeconds); a hung IdP should become a 502
   * page, not a hung browser tab.
   */
  timeoutSeconds?: number;
}

export class OidcRelyingParty {
  private configuration: Promise<client.Configuration> | undefined;
  private readonly fetch: client.CustomFetch;

  constructor(
    readonly idp: IdpConfig,
    private readonly options: RelyingPartyOptions,
  ) {
    this.fetch = queuedFetch({ timeoutSeconds: options.timeoutSeconds ?? IDP.requestTimeoutSeconds });
  }

  /** Discovery, cached on success; a failure is retried on the next login. */
  discover(): Promise<client.Configuration> {
    this.configuration ??= this.runDiscovery().catch((error: unknown) => {
      this.configuration = undefined;
      throw error;
    });
    return this.configuration;
  }

  async beginLogin(): Promise<{ url: URL; pending: PendingOidcLogin }> {
    const configuration = await this.discover();
    const pending: PendingOidcLogin = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier: client.randomPKCECodeVerifier(),
    };
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.options.redirectUri,
      scope: (this.idp.scopes ?? ['openid', 'email', 'profile']).join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url, pending };
  }

  /** Exchanges the code at the IdP and checks state, nonce, PKCE and the ID token. */
  async completeLogin(callbackUrl: URL, pending: PendingOidcLogin): Promise<LoginIdentity> {
    const configuration = await this.discover();
    const idpError = callbackUrl.searchParams.get('error');
    if (idpError) {
      const description = callbackUrl.searchParams.get('error_description');
      throw new AirlockError(
        'LOGIN_FAILED',
        `the identity provider refused the sign-in: ${idpError}${description ? ` (${description})` : ''}`,
      );
    }
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(configuration, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      if (isNetworkError(error)) throw unreachable(this.idp.issuer, error);
      // openid-client wraps the precise check ("nonce", "state", PKCE) in cause; show that one.
      const cause = (error as { cause?: unknown }).cause;
      const detail = cause instanceof Error ? cause.message : (error as Error).message;
      throw new AirlockError('LOGIN_FAILED', `sign-in could not be completed: ${detail}; start again`);
    }
    return identityFromClaims(tokens.claims() ?? {}, this.idp.groupsClaim ?? SSO.defaultGroupsClaim);
  }

  private async runDiscovery(): Promise<client.Configuration> {
    let issuer: URL;
    try {
      issuer = new URL(this.idp.issuer);
    } catch {
      throw new AirlockError('CONFIG_INVALID', `idp.issuer "${this.idp.issuer}" is not a URL`);
    }
    // Plain http only for an IdP on this machine (the built-in dev IdP); anything else must be https.
    const insecure = issuer.protocol === 'http:' && isLoopbackHost(dialHostOfUrl(issuer));
    if (issuer.protocol !== 'https:' && !insecure) {
      throw new AirlockError('CONFIG_INVALID', `idp.issuer must be an https:// URL, got "${this.idp.issuer}"`);
    }
    const discover = () =>
      client.discovery(issuer, this.idp.clientId, undefined, client.ClientSecretBasic(this.idp.clientSecret), {
        [client.customFetch]: this.fetch,
        // Waiting for a turn in the queue plus the request itself (which has its own limit).
        timeout: 2 * (this.options.timeoutSeconds ?? IDP.requestTimeoutSeconds),
        ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
      });
    try {
      return await discover();
    } catch (error) {
      // Discovery is a GET: one retry rides out a blip, where the code exchange must not be repeated.
      if (!isNetworkError(error)) throw unreachable(this.idp.issuer, error);
      try {
        return await discover();
      } catch (again) {
        throw unreachable(this.idp.issuer, again);
      }
    }
  }
}

/** sub, email and groups from ID token claims; groups may be an array, a single string or absent. */
export function identityFromClaims(claims: Record<string, unknown>, groupsClaim: string): LoginIdentity {
  const { sub, email } = claims;
  if (typeof sub !== 'string' || !sub)
    throw new AirlockError('LOGIN_FAILED', 'the identity provider sent no subject (sub)');
  if (typeof email !== 'string' || !email.includes('@')) {
    throw new AirlockError(
      'LOGIN_FAILED',
      'the identity provider sent no email address; grant the "email" scope to the Airlock client',
    );
  }
  // An unverified address could be anyone's: policies match on email, so refuse it outright.
  if (claims.email_verified === false)
    throw new AirlockError('LOGIN_FAILED', `the identity provider has not verified ${email}`);
  const raw = claims[groupsClaim];
  const groups = Array.isArray(raw)
    ? raw.filter((group): group is string => typeof group === 'string')
    : typeof raw === 'string'
      ? [raw]
      : [];
  return { sub, email: email.toLowerCase(), groups };
}

function isNetworkError(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string; name?: string } }).cause;
  return (
    (error instanceof TypeError && error.message === 'fetch failed') ||
    // openid-client wraps a request that ran out of time (idp-requests.ts) in its own error.
    cause?.name === 'TimeoutError' ||
    ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN'].includes(cause?.code ?? '') ||
    (error as Error).name === 'TimeoutError' ||
    (error as Error).name === 'AbortError'
  );
}

function unreachable(issuer: string, error: unknown): AirlockError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? (error as Error).message;
  return new AirlockError(
    'IDP_UNREACHABLE',
    `the identity provider at ${issuer} is unreachable (${detail}); check idp.issuer in edge.yaml and that the edge can reach it`,
  );
}
