// Signs the per-stream assertion (src/shared/stream-assertion.ts) with the edge's current app-token
// key. Synchronously, with node:crypto: it is on every connection's critical path (jws-es256.ts).
import { keyObjectFor, signJwsEs256 } from '../../shared/jws-es256.js';
import { STREAM_ASSERTION, type StreamAssertionClaims } from '../../shared/stream-assertion.js';
import type { SigningKeys } from './signing-keys.js';

export function signStreamAssertion(keys: SigningKeys, issuer: string, claims: StreamAssertionClaims): string {
  const key = keys.current();
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    ...claims,
    type: STREAM_ASSERTION.type,
    iss: issuer,
    aud: `tunnel:${claims.tun}`,
    iat: now,
    exp: now + STREAM_ASSERTION.lifetimeSeconds,
  };
  return signJwsEs256({ kid: key.kid, typ: 'JWT' }, payload, keyObjectFor(key.privateKey));
}
