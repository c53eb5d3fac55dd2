// The operator's credential: what `airlock tunnel login` receives and the admin API
// accepts. An ES256 JWT from the same keys as app tokens, but of its own type ("connector") and
// for the edge's own URL as audience: it never opens an application, and an app token never
// opens the admin API (both directions are checked by type and by audience).
import { HOST_ADMIN } from '../../shared/constants.js';
import { AirlockError, isAirlockError } from '../../shared/errors.js';
import { issueAppToken, verifyAppToken, type UserPrincipal } from '../tokens/app-token.js';
import type { RevocationCheck } from '../tokens/revocation-list.js';
import type { SigningKeys } from '../tokens/signing-keys.js';

export interface CredentialContext {
  /** The edge's origin: issuer and audience of the credential. */
  edgeOrigin: string;
  keys: SigningKeys;
  revoked?: RevocationCheck;
}

export function issueConnectorCredential(
  context: CredentialContext,
  identity: { sub: string; email: string; groups: string[] },
  validForMs: number = HOST_ADMIN.credentialMs,
  now?: Date,
) {
  return issueAppToken({
    ...(now ? { now } : {}),
    keys: context.keys,
    issuer: context.edgeOrigin,
    aud: context.edgeOrigin,
    ...identity,
    sessionMs: validForMs,
    type: HOST_ADMIN.credentialType,
  });
}

/** Throws AirlockError TOKEN_INVALID | TOKEN_EXPIRED | TOKEN_REVOKED with a "log in again" message. */
export async function verifyConnectorCredential(
  token: string,
  context: CredentialContext & { now?: Date },
): Promise<UserPrincipal> {
  try {
    return await verifyAppToken(token, {
      issuer: context.edgeOrigin,
      aud: context.edgeOrigin,
      keys: context.keys,
      ...(context.revoked ? { revoked: context.revoked } : {}),
      ...(context.now ? { now: context.now } : {}),
      type: HOST_ADMIN.credentialType,
    });
  } catch (error) {
    if (!isAirlockError(error)) throw error;
    const reason = error.message.replace(/; sign in again$/, '');
    throw new AirlockError(
      error.code,
      `the operator credential was refused (${reason}); run \`airlock tunnel login --edge ${context.edgeOrigin}\` again`,
      error.details,
    );
  }
}
