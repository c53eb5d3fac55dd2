// Signs the per-stream assertion (src/shared/stream-assertion.ts) with the edge's current app-token key.
import { SignJWT } from 'jose';
import { SSO } from '../shared/constants.js';
import { STREAM_ASSERTION, type StreamAssertionClaims } from '../shared/stream-assertion.js';
import type { SigningKeys } from './signing-keys.js';

export async function signStreamAssertion(keys: SigningKeys, issuer: string, claims: StreamAssertionClaims): Promise<string> {
  const key = keys.current();
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...claims, type: STREAM_ASSERTION.type })
    .setProtectedHeader({ alg: SSO.tokenAlgorithm, kid: key.kid, typ: 'JWT' })
    .setIssuer(issuer)
    .setAudience(`tunnel:${claims.tun}`)
    .setIssuedAt(now)
    .setExpirationTime(now + STREAM_ASSERTION.lifetimeSeconds)
    .sign(key.privateKey);
}
