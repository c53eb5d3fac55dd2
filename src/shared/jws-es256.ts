// Compact JWS (RFC 7515) with ES256, signed and checked synchronously with node:crypto. Used for
// the per-stream assertion and app tokens, made and checked on every connection's critical path: jose
// signs through WebCrypto, which runs each signature on the libuv thread pool (0.33 ms sign and
// 0.37 ms verify in isolation, about 1 ms and 0.6 ms in a busy edge and connector); node:crypto
// does the same work inline in 0.06 and 0.08 ms (docs/performance.md). The tokens are the same
// bytes jose makes and reads, and jose still generates, stores and publishes the keys.
//
// Deliberately narrow: ES256 only, header fields alg/kid/typ only (a `crit` or anything else is
// refused), a kid of at most 128 URL-safe characters, P-1363 signatures of exactly 64 bytes in
// canonical base64url. Like WebCrypto, the "high-S" twin of a valid signature also verifies (ECDSA
// malleability): harmless here, nothing identifies a token by its text. Claims are the caller's.
import { KeyObject, sign, verify } from 'node:crypto';

export class JwsError extends Error {
  constructor(
    message: string,
    /** ERR_JWT_INVALID: the signature holds but the payload is not a JSON object. */
    readonly code:
      'ERR_JWS_INVALID' | 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' | 'ERR_JWKS_NO_MATCHING_KEY' | 'ERR_JWT_INVALID',
  ) {
    super(message);
  }
}

export interface JwsHeader {
  alg: 'ES256';
  kid: string;
  typ?: string;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const KID = /^[A-Za-z0-9_-]{1,128}$/;
const ALLOWED_HEADER_FIELDS = new Set(['alg', 'kid', 'typ']);

/** node:crypto's view of a WebCrypto key (jose makes and stores them), made once per key. */
const keyObjects = new WeakMap<CryptoKey, KeyObject>();

export function keyObjectFor(key: CryptoKey): KeyObject {
  let found = keyObjects.get(key);
  if (!found) keyObjects.set(key, (found = KeyObject.from(key)));
  return found;
}

export function signJwsEs256(
  header: { kid: string; typ?: string },
  payload: Record<string, unknown>,
  key: KeyObject,
): string {
  const input = `${encode({ alg: 'ES256', ...header })}.${encode(payload)}`;
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** Checks the signature with the key named by `kid`; returns header and payload, claims unchecked. */
export function verifyJwsEs256(
  token: string,
  keyFor: (kid: string) => KeyObject | undefined,
): { header: JwsHeader; payload: Record<string, unknown>; encodedPayload: string } {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => SEGMENT.test(part)))
    throw new JwsError('not a compact JWS', 'ERR_JWS_INVALID');
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  const header = decodeObject(encodedHeader, 'header');
  for (const field of Object.keys(header)) {
    if (!ALLOWED_HEADER_FIELDS.has(field))
      throw new JwsError(`unsupported JWS header field "${field}"`, 'ERR_JWS_INVALID');
  }
  if (header.alg !== 'ES256')
    throw new JwsError(`algorithm ${JSON.stringify(header.alg)} is not allowed (ES256 only)`, 'ERR_JWS_INVALID');
  // Checked before it is used or quoted in a message: the kid is the sender's text.
  if (typeof header.kid !== 'string' || !KID.test(header.kid))
    throw new JwsError('the JWS names no key, or a malformed one (kid)', 'ERR_JWS_INVALID');
  if (header.typ !== undefined && typeof header.typ !== 'string')
    throw new JwsError('malformed typ', 'ERR_JWS_INVALID');
  const key = keyFor(header.kid);
  if (!key) throw new JwsError(`no published key has kid ${header.kid}`, 'ERR_JWKS_NO_MATCHING_KEY');
  const signature = Buffer.from(encodedSignature, 'base64url');
  if (signature.length !== 64 || signature.toString('base64url') !== encodedSignature) {
    throw new JwsError('signature verification failed', 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  }
  const valid = verify(
    'sha256',
    Buffer.from(`${encodedHeader}.${encodedPayload}`),
    { key, dsaEncoding: 'ieee-p1363' },
    signature,
  );
  if (!valid) throw new JwsError('signature verification failed', 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  return {
    header: header as unknown as JwsHeader,
    payload: decodeObject(encodedPayload, 'payload', 'ERR_JWT_INVALID'),
    encodedPayload,
  };
}

function encode(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeObject(
  segment: string,
  what: string,
  code: JwsError['code'] = 'ERR_JWS_INVALID',
): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new JwsError(`the JWS ${what} is not JSON`, code);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new JwsError(`the JWS ${what} is not an object`, code);
  return value as Record<string, unknown>;
}
