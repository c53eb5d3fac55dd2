// App tokens (docs/architecture.md "Client ↔ edge": App JWT): issued after login, verified on every connect.
//
// Integration (edge server and connector):
//   const { token, expiresAt, sessionId } = await issueAppToken({ keys, issuer, aud, sub, email, groups, sessionMs });
//   const principal = await verifyAppToken(token, { issuer, aud, keys, revoked });
//     → { kind: 'user', email, sub, groups, sessionId, expiresAt }
//     or throws AirlockError with code TOKEN_INVALID | TOKEN_EXPIRED | TOKEN_REVOKED and
//        details.reason, a stable sub-code of the exact check that failed (see TokenRejection).
// Every failure means "sign in again": the edge answers the 302 of the wire contract.
import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, errors, SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import { JwsError, keyObjectFor, verifyJwsEs256 } from '../../shared/jws-es256.js';
import { CLOCK, SSO } from '../../shared/constants.js';
import { AirlockError, type AirlockErrorCode } from '../../shared/errors.js';
import type { RevocationCheck } from './revocation-list.js';
import type { SigningKeys, VerificationKeys } from './signing-keys.js';

export interface UserPrincipal {
  kind: 'user';
  email: string;
  sub: string;
  groups: string[];
  sessionId: string;
  expiresAt: Date;
}

export interface IssueAppTokenOptions {
  keys: SigningKeys;
  /** The edge's team URL, e.g. https://edge.example.com. */
  issuer: string;
  aud: string;
  sub: string;
  email: string;
  groups: string[];
  sessionMs: number;
  /** Defaults to a fresh random id; pass one to bind several tokens to one revocable session. */
  sessionId?: string;
  now?: Date;
  /** Only src/edge/connector-credential.ts sets this; every other token is an app token. */
  type?: string;
}

export interface IssuedAppToken {
  token: string;
  expiresAt: Date;
  sessionId: string;
}

export async function issueAppToken(options: IssueAppTokenOptions): Promise<IssuedAppToken> {
  const { keys, issuer, aud, sub, email, groups, sessionMs } = options;
  if (!(sessionMs > 0))
    throw new AirlockError('CONFIG_INVALID', `session duration must be positive, got ${sessionMs} ms`);
  const key = keys.current();
  const issuedAt = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const expiresAtSeconds = issuedAt + Math.ceil(sessionMs / 1000);
  const sessionId = options.sessionId ?? randomUUID();
  const token = await new SignJWT({ email, groups, type: options.type ?? SSO.tokenType, sid: sessionId })
    .setProtectedHeader({ alg: SSO.tokenAlgorithm, kid: key.kid, typ: 'JWT' })
    .setIssuer(issuer)
    .setAudience([aud])
    .setSubject(sub)
    .setIssuedAt(issuedAt)
    .setNotBefore(issuedAt)
    .setExpirationTime(expiresAtSeconds)
    .sign(key.privateKey);
  return { token, expiresAt: new Date(expiresAtSeconds * 1000), sessionId };
}

export interface VerifyAppTokenOptions {
  issuer: string;
  /** The aud of the application being accessed: a token for another app is refused. */
  aud: string;
  keys: VerificationKeys;
  revoked?: RevocationCheck;
  now?: Date;
  /** Allowed clock skew between edges / connector, in seconds. */
  clockToleranceSeconds?: number;
  /** Only src/edge/connector-credential.ts sets this: a token of one type never passes as another. */
  type?: string;
}

/** Stable sub-codes in AirlockError.details.reason; tests and audit logs rely on them. */
export type TokenRejection =
  | 'too-large'
  | 'malformed'
  | 'algorithm'
  | 'forbidden-header'
  | 'bad-kid'
  | 'unknown-kid'
  | 'signature'
  | 'payload'
  | 'issuer'
  | 'audience'
  | 'expired'
  | 'not-yet-valid'
  | 'type'
  | 'claims'
  | 'revoked';

// Headers that would let the token choose its own verification key (RFC 8725 §3.10, §2.8).
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c', 'crit'] as const;
const KID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export async function verifyAppToken(token: string, options: VerifyAppTokenOptions): Promise<UserPrincipal> {
  // Bound the work an unauthenticated peer can cause before a single byte is decoded.
  if (typeof token !== 'string' || Buffer.byteLength(token) > SSO.maxTokenBytes) {
    throw rejection('too-large', `token is larger than ${SSO.maxTokenBytes} bytes`);
  }
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw rejection('malformed', 'token is not a compact JWS');
  }
  if (header.alg !== SSO.tokenAlgorithm)
    throw rejection('algorithm', `token algorithm "${String(header.alg)}" is not allowed`);
  const forbidden = FORBIDDEN_HEADERS.filter((name) => name in header);
  if (forbidden.length > 0) throw rejection('forbidden-header', `token header carries ${forbidden.join(', ')}`);
  if (typeof header.kid !== 'string' || !KID_PATTERN.test(header.kid))
    throw rejection('bad-kid', 'token key id is missing or malformed');
  const key = options.keys.publicKey(header.kid);
  if (!key) throw rejection('unknown-kid', 'token was signed with a key this edge does not publish');

  // The signature is checked inline (src/shared/jws-es256.ts: jose would send it to the thread
  // pool, about 0.4-1 ms on every connect); the claims then go through jose's own claim checks,
  // the ones jwtVerify runs, fed the payload whose signature was just verified. The "none" header
  // exists only inside this call: it is how jose's claim checks are reached without a signature.
  let verified: string;
  try {
    verified = verifyJwsEs256(token, () => keyObjectFor(key)).encodedPayload;
  } catch (error) {
    throw fromJwsError(error);
  }
  let payload: JWTPayload;
  try {
    ({ payload } = UnsecuredJWT.decode(`${CLAIMS_ONLY_HEADER}.${verified}.`, {
      issuer: options.issuer,
      audience: options.aud,
      requiredClaims: ['iss', 'aud', 'sub', 'exp', 'nbf', 'iat'],
      clockTolerance: options.clockToleranceSeconds ?? CLOCK.toleranceSeconds,
      ...(options.now ? { currentDate: options.now } : {}),
    }));
  } catch (error) {
    throw fromJoseError(error);
  }

  const expectedType = options.type ?? SSO.tokenType;
  if (payload.type !== expectedType)
    throw rejection('type', `token type "${String(payload.type)}" is not "${expectedType}"`);
  const { sub, email, groups, sid, exp } = payload;
  if (
    typeof sub !== 'string' ||
    typeof email !== 'string' ||
    typeof sid !== 'string' ||
    !sid ||
    !Array.isArray(groups) ||
    !groups.every((group) => typeof group === 'string')
  ) {
    throw rejection('claims', 'token lacks sub, email, groups or sid');
  }
  if (options.revoked?.has(sid)) throw rejection('revoked', 'this session was signed out', 'TOKEN_REVOKED');
  return { kind: 'user', email, sub, groups: groups as string[], sessionId: sid, expiresAt: new Date(exp! * 1000) };
}

const CLAIMS_ONLY_HEADER = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');

function fromJwsError(error: unknown): AirlockError {
  if (!(error instanceof JwsError)) return rejection('malformed', 'token is malformed');
  if (error.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED')
    return rejection('signature', 'token signature does not verify');
  if (error.code === 'ERR_JWT_INVALID') return rejection('payload', 'token payload is not a JSON claims set');
  return rejection('malformed', 'token is malformed');
}

function fromJoseError(error: unknown): AirlockError {
  if (error instanceof errors.JWTExpired) return rejection('expired', 'token has expired', 'TOKEN_EXPIRED');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return rejection('issuer', 'token was issued by another edge');
    if (error.claim === 'aud') return rejection('audience', 'token is for another application');
    if (error.claim === 'nbf') return rejection('not-yet-valid', 'token is not valid yet (check the clock)');
    return rejection('claims', `token claim ${error.claim} is invalid`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return rejection('signature', 'token signature does not verify');
  if (error instanceof errors.JOSEAlgNotAllowed) return rejection('algorithm', 'token algorithm is not allowed');
  if (error instanceof errors.JWTInvalid) return rejection('payload', 'token payload is not a JSON claims set');
  return rejection('malformed', 'token is malformed');
}

function rejection(reason: TokenRejection, message: string, code: AirlockErrorCode = 'TOKEN_INVALID'): AirlockError {
  return new AirlockError(code, `${message}; sign in again`, { reason });
}
