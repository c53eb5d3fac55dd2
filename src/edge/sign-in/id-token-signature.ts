// The ID token's signature, checked against the provider's JWKS (OIDC Core §3.1.3.7 step 6).
// openid-client checks iss, aud, exp and nonce of a token-endpoint ID token but, as the spec allows
// over TLS, not its signature; a careful relying party checks it anyway. The key set is fetched
// once and again when a token names a key it does not hold (the provider rotated its keys).
import { compactVerify, createRemoteJWKSet, errors } from 'jose';
import { SSO } from '../../shared/constants.js';
import { AirlockError } from '../../shared/errors.js';

export interface IdTokenVerifierOptions {
  jwksUri: string;
  timeoutMs: number;
  /** How soon an unknown `kid` may fetch the key set again. */
  cooldownMs: number;
}

export type IdTokenVerifier = (idToken: string) => Promise<void>;

export function idTokenVerifier(options: IdTokenVerifierOptions): IdTokenVerifier {
  const keySet = createRemoteJWKSet(new URL(options.jwksUri), {
    timeoutDuration: options.timeoutMs,
    cooldownDuration: options.cooldownMs,
  });
  return async (idToken) => {
    try {
      // An explicit allow-list (RFC 8725 §3.1): never none, never HMAC keyed with the client secret.
      await compactVerify(idToken, keySet, { algorithms: [...SSO.idTokenAlgorithms] });
    } catch (error) {
      if (error instanceof errors.JWKSTimeout || (error instanceof TypeError && /fetch/.test(error.message)))
        throw new AirlockError(
          'IDP_UNREACHABLE',
          `the identity provider's key set at ${options.jwksUri} is unreachable`,
        );
      throw new AirlockError(
        'ID_TOKEN_INVALID',
        `the identity provider's ID token failed its signature check against ${options.jwksUri}: ${reason(error)}`,
      );
    }
  };
}

function reason(error: unknown): string {
  if (error instanceof errors.JOSEAlgNotAllowed) return 'its algorithm is not one the edge accepts';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key in the set matches it';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the signature does not match';
  return (error as Error).message;
}
