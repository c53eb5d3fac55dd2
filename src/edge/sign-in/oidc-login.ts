// The edge as an OIDC relying party of the organisation's IdP (openid-client): authorization code
// with PKCE S256, state and nonce; the ID token's claims and signature checked; claims the ID
// token lacks read from userinfo; the provider's errors quoted (oidc-errors.ts).
//
// Integration: access-routes.ts owns one OidcRelyingParty, built from edge.yaml's `idp:` block:
//   const rp = new OidcRelyingParty({ issuer, clientId, clientSecret, claims }, { redirectUri: `${publicUrl}${PATH.callback}` });
//   const { url, pending } = await rp.beginLogin();                 // keep `pending` server-side
//   const { identity, idToken } = await rp.finishLogin(callbackUrl, pending); // identity → { sub, email, groups }
//   const endSession = await rp.endSessionUrl(idToken);              // RP-initiated logout, or undefined
// Errors: IDP_UNREACHABLE (the edge answers 502), IDP_REFUSED / IDP_CLIENT_REFUSED (the provider's
// own error), IDP_CLAIM_MISSING, ID_TOKEN_INVALID, LOGIN_FAILED (a check of ours: start again).
import * as client from 'openid-client';
import { IDP, SSO } from '../../shared/constants.js';
import { AirlockError } from '../../shared/errors.js';
import { dialHostOfUrl, isLoopbackHost } from '../../shared/host.js';
import { idTokenVerifier, type IdTokenVerifier } from './id-token-signature.js';
import type { LoginIdentity } from './login-codes.js';
import { claimNames, identityFromClaims, needsUserinfo, type ClaimNames, type Claims } from './oidc-claims.js';
import { chooseAuthMethod, clientAuthFor, type TokenEndpointAuthMethod } from './oidc-client-auth.js';
import { authorizationError, endpointError, isNetworkError, unreachable } from './oidc-errors.js';
import { queuedFetch } from './idp-requests.js';

export { identityFromClaims } from './oidc-claims.js';

/** edge.yaml `idp:` block. */
export interface IdpConfig {
  issuer: string;
  clientId: string;
  /** Required unless tokenEndpointAuthMethod is private_key_jwt. */
  clientSecret?: string;
  /** Which claims hold the email address and the groups (defaults: "email", "groups"). */
  claims?: Partial<ClaimNames>;
  /** Older spelling of claims.groups (Okta and Keycloak: "groups"; Entra ID: "groups" or "roles"). */
  groupsClaim?: string;
  /** Default: openid email profile. Add "groups" for IdPs that gate the claim behind a scope. */
  scopes?: string[];
  /** Unset: chosen from discovery (oidc-client-auth.ts). */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  privateKeyFile?: string;
  privateKeyId?: string;
  /** Sign-out at the edge also ends the provider's session when it offers end_session_endpoint. Default true. */
  rpInitiatedLogout?: boolean;
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
  /** Seconds per IdP request; a hung IdP should become a 502 page, not a hung browser tab. */
  timeoutSeconds?: number;
  /** How soon an ID token naming an unknown key may fetch the provider's key set again. */
  jwksCooldownMs?: number;
}

interface Discovered {
  configuration: client.Configuration;
  authMethod: TokenEndpointAuthMethod;
  verifySignature: IdTokenVerifier;
}

export class OidcRelyingParty {
  private discovered: Promise<Discovered> | undefined;
  private readonly names: ClaimNames;
  private readonly fetch: client.CustomFetch;

  constructor(
    readonly idp: IdpConfig,
    private readonly options: RelyingPartyOptions,
  ) {
    this.names = claimNames(idp.claims, idp.groupsClaim);
    this.fetch = queuedFetch({ timeoutSeconds: options.timeoutSeconds ?? IDP.requestTimeoutSeconds });
  }

  /** Discovery, cached on success; a failure is retried on the next login. */
  discover(): Promise<client.Configuration> {
    return this.discovery().then((discovered) => discovered.configuration);
  }

  /** The token endpoint authentication in use (configured, or chosen from discovery). */
  async authMethod(): Promise<TokenEndpointAuthMethod> {
    return (await this.discovery()).authMethod;
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
    return (await this.finishLogin(callbackUrl, pending)).identity;
  }

  /** completeLogin, plus the ID token itself: the id_token_hint of a later RP-initiated logout. */
  async finishLogin(
    callbackUrl: URL,
    pending: PendingOidcLogin,
  ): Promise<{ identity: LoginIdentity; idToken: string }> {
    const { configuration, verifySignature } = await this.discovery();
    const refused = authorizationError(callbackUrl);
    if (refused) throw refused;
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(configuration, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw await endpointError(error, 'token', this.idp.issuer);
    }
    const idToken = tokens.id_token!;
    await verifySignature(idToken);
    const idTokenClaims = (tokens.claims() ?? {}) as Claims;
    return { identity: await this.identity(configuration, idTokenClaims, tokens.access_token), idToken };
  }

  /**
   * Where to send the browser to end the provider's session too (OpenID RP-Initiated Logout 1.0),
   * or undefined when the provider offers none or edge.yaml turned it off.
   */
  async endSessionUrl(idTokenHint?: string): Promise<URL | undefined> {
    if (this.idp.rpInitiatedLogout === false) return undefined;
    const configuration = await this.discover();
    if (!configuration.serverMetadata().end_session_endpoint) return undefined;
    return client.buildEndSessionUrl(configuration, {
      client_id: this.idp.clientId,
      ...(idTokenHint ? { id_token_hint: idTokenHint } : {}),
    });
  }

  private async identity(configuration: client.Configuration, idToken: Claims, accessToken: string) {
    if (!needsUserinfo(idToken, this.names)) return identityFromClaims({ idToken }, this.names);
    if (!configuration.serverMetadata().userinfo_endpoint)
      return identityFromClaims({ idToken, userinfoSkipped: 'the provider has no userinfo_endpoint' }, this.names);
    if (typeof idToken.sub !== 'string') return identityFromClaims({ idToken }, this.names);
    let userinfo: Claims;
    try {
      // fetchUserInfo refuses an answer about another subject (OIDC Core §5.3.2).
      userinfo = (await client.fetchUserInfo(configuration, accessToken, idToken.sub)) as Claims;
    } catch (error) {
      throw await endpointError(error, 'userinfo', this.idp.issuer);
    }
    return identityFromClaims({ idToken, userinfo }, this.names);
  }

  private discovery(): Promise<Discovered> {
    this.discovered ??= this.runDiscovery().catch((error: unknown) => {
      this.discovered = undefined;
      throw error;
    });
    return this.discovered;
  }

  private async runDiscovery(): Promise<Discovered> {
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
    const timeoutSeconds = this.options.timeoutSeconds ?? IDP.requestTimeoutSeconds;
    // Waiting for a turn in the queue (idp-requests.ts) plus the request itself, which has its own limit.
    const discover = () =>
      client.discovery(issuer, this.idp.clientId, undefined, undefined, {
        [client.customFetch]: this.fetch,
        timeout: 2 * timeoutSeconds,
        ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
      });
    let configuration: client.Configuration;
    try {
      configuration = await discover();
    } catch (error) {
      // Discovery is a GET: one retry rides out a blip, where the code exchange must not be repeated.
      if (!isNetworkError(error)) throw unreachable(this.idp.issuer, error);
      try {
        configuration = await discover();
      } catch (again) {
        throw unreachable(this.idp.issuer, again);
      }
    }
    const metadata = configuration.serverMetadata();
    const authMethod = chooseAuthMethod(
      this.idp.tokenEndpointAuthMethod,
      metadata.token_endpoint_auth_methods_supported,
      this.idp,
    );
    // The same issuer and metadata, now with the client's authentication.
    const authenticated = new client.Configuration(
      metadata,
      this.idp.clientId,
      undefined,
      await clientAuthFor(authMethod, this.idp),
    );
    if (insecure) client.allowInsecureRequests(authenticated);
    authenticated[client.customFetch] = this.fetch;
    authenticated.timeout = 2 * timeoutSeconds;
    if (!metadata.jwks_uri)
      throw new AirlockError('CONFIG_INVALID', `the identity provider at ${this.idp.issuer} publishes no jwks_uri`);
    const verifySignature = idTokenVerifier({
      jwksUri: metadata.jwks_uri,
      timeoutMs: timeoutSeconds * 1000,
      cooldownMs: this.options.jwksCooldownMs ?? SSO.idpJwksCooldownMs,
    });
    return { configuration: authenticated, authMethod, verifySignature };
  }
}
