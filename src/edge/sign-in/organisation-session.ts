// The organisation session (docs/sso.md "Sign-in domain"): one sign-in at the IdP per user and
// edge, kept as a token of its own type and audience. It mints app tokens for any app the user's
// policy allows, each bound to the same revocable session id, so one sign-out ends them all.
import { SSO } from '../../shared/constants.js';
import { issueAppToken, verifyAppToken, type IssuedAppToken, type UserPrincipal } from '../tokens/app-token.js';
import type { LoginIdentity } from './login-codes.js';
import type { RevocationCheck } from '../tokens/revocation-list.js';
import type { SigningKeys, VerificationKeys } from '../tokens/signing-keys.js';

export interface OrganisationSession extends LoginIdentity {
  sessionId: string;
  expiresAt: Date;
}

export async function issueOrganisationToken(options: {
  keys: SigningKeys;
  issuer: string;
  identity: LoginIdentity;
  sessionMs: number;
  /** Re-issuing for a session that exists (the native app's copy): same id, same end. */
  session?: Pick<OrganisationSession, 'sessionId' | 'expiresAt'>;
}): Promise<IssuedAppToken> {
  const { keys, issuer, identity, session } = options;
  const sessionMs = session ? session.expiresAt.getTime() - Date.now() : options.sessionMs;
  return issueAppToken({
    keys,
    issuer,
    aud: SSO.organisationAud,
    type: SSO.organisationTokenType,
    ...identity,
    sessionMs,
    ...(session ? { sessionId: session.sessionId } : {}),
  });
}

/** Throws AirlockError (TOKEN_INVALID / TOKEN_EXPIRED / TOKEN_REVOKED) like verifyAppToken. */
export async function verifyOrganisationToken(
  token: string,
  options: { issuer: string; keys: VerificationKeys; revoked?: RevocationCheck },
): Promise<OrganisationSession> {
  const principal: UserPrincipal = await verifyAppToken(token, {
    ...options,
    aud: SSO.organisationAud,
    type: SSO.organisationTokenType,
  });
  return {
    sub: principal.sub,
    email: principal.email,
    groups: principal.groups,
    sessionId: principal.sessionId,
    expiresAt: principal.expiresAt,
  };
}

/** An app token's lifetime when minted from a session: the app's own, never past the session's end. */
export function appSessionMs(
  appSessionMs: number,
  session: Pick<OrganisationSession, 'expiresAt'>,
  now = Date.now(),
): number {
  return Math.max(1000, Math.min(appSessionMs, session.expiresAt.getTime() - now));
}
