// The synchronous ES256 JWS used for stream assertions: byte-compatible with jose both ways, and
// strict about everything a forged or altered token could change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyObject, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, jwtVerify, createLocalJWKSet } from 'jose';
import { JwsError, signJwsEs256, verifyJwsEs256 } from '../../src/shared/jws-es256.js';
import { timeProblem } from '../../src/connector/stream-verifier.js';

const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
const signer = KeyObject.from(privateKey);
const verifier = createPublicKey({ key: jwk as never, format: 'jwk' });
const keyFor = (kid: string) => (kid === 'k1' ? verifier : undefined);
const now = Math.floor(Date.now() / 1000);
const claims = { sub: 'stream-1', aud: 'tunnel:t', iat: now, exp: now + 60 };

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

test('a token it signs verifies with jose, and a token jose signs verifies with it', async () => {
  const ours = signJwsEs256({ kid: 'k1', typ: 'JWT' }, claims, signer);
  const { payload } = await jwtVerify(ours, createLocalJWKSet({ keys: [jwk] }), {
    algorithms: ['ES256'],
    audience: 'tunnel:t',
  });
  assert.equal(payload.sub, 'stream-1');
  const theirs = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'JWT' }).sign(privateKey);
  assert.deepEqual(verifyJwsEs256(theirs, keyFor).payload, claims);
});

test('an altered payload, header or signature is refused', () => {
  const [header, payload, signature] = signJwsEs256({ kid: 'k1' }, claims, signer).split('.') as [
    string,
    string,
    string,
  ];
  const refused = (token: string, code: JwsError['code']) =>
    assert.throws(
      () => verifyJwsEs256(token, keyFor),
      (error: unknown) => error instanceof JwsError && error.code === code,
      token,
    );
  refused(`${header}.${b64({ ...claims, sub: 'stream-2' })}.${signature}`, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  refused(
    `${b64({ alg: 'ES256', kid: 'k1', typ: 'x' })}.${payload}.${signature}`,
    'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  );
  const flipped = Buffer.from(signature, 'base64url');
  flipped[10]! ^= 1;
  refused(`${header}.${payload}.${flipped.toString('base64url')}`, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  refused(`${header}.${payload}.${signature}A`, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'); // non-canonical length
  refused(`${header}.${payload}.${signature.slice(0, -4)}`, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  refused(`${header}.${payload}`, 'ERR_JWS_INVALID');
  refused(`${header}.${payload}.${signature}.x`, 'ERR_JWS_INVALID');
  refused(`${header}.${payload}.sig+nature`, 'ERR_JWS_INVALID');
});

test('alg none, HS256, a crit header or an unknown kid are refused before any signature check', () => {
  const payload = b64(claims);
  const signature = Buffer.alloc(64).toString('base64url');
  for (const [header, pattern] of [
    [{ alg: 'none', kid: 'k1' }, /algorithm "none" is not allowed/],
    [{ alg: 'HS256', kid: 'k1' }, /algorithm "HS256" is not allowed/],
    [{ alg: 'ES256', kid: 'k1', crit: ['exp'] }, /unsupported JWS header field "crit"/],
    [{ alg: 'ES256', kid: 'k1', jwk }, /unsupported JWS header field "jwk"/],
    [{ alg: 'ES256' }, /names no key/],
    [{ alg: 'ES256', kid: '<script>'.repeat(30) }, /malformed one/], // never quoted back
    [{ alg: 'ES256', kid: 'k2' }, /no published key has kid k2/],
  ] as const) {
    assert.throws(() => verifyJwsEs256(`${b64(header)}.${payload}.${signature}`, keyFor), pattern);
  }
  assert.throws(() => verifyJwsEs256(`${b64([1])}.${payload}.${signature}`, keyFor), /header is not an object/);
});

test('a signature by another P-256 key is refused', () => {
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  assert.throws(
    () => verifyJwsEs256(signJwsEs256({ kid: 'k1' }, claims, other), keyFor),
    /signature verification failed/,
  );
});

test('stream assertion times: expired, too old, issued in the future, not yet valid, or missing', () => {
  assert.equal(timeProblem({ iat: now, exp: now + 60 }, now), undefined);
  // Within the clock tolerance (an edge 20 s ahead of the connector, or behind it).
  assert.equal(timeProblem({ iat: now + 20, exp: now + 80 }, now), undefined);
  assert.equal(timeProblem({ iat: now - 70, exp: now - 10 }, now), undefined);
  assert.match(timeProblem({ iat: now - 100, exp: now - 40 }, now) ?? '', /expired/);
  assert.match(timeProblem({ iat: now - 120, exp: now + 600 }, now) ?? '', /too old/);
  assert.match(timeProblem({ iat: now + 60, exp: now + 120 }, now) ?? '', /future/);
  assert.match(timeProblem({ iat: now, exp: now + 60, nbf: now + 60 }, now) ?? '', /not valid yet/);
  assert.match(timeProblem({ exp: now + 60 }, now) ?? '', /required/);
  assert.match(timeProblem({ iat: String(now), exp: now + 60 }, now) ?? '', /required/);
});
