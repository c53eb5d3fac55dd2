import assert from 'node:assert/strict';
import { createHmac, createSign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CompactSign, exportJWK, exportSPKI } from 'jose';
import { issueAppToken, verifyAppToken, type TokenRejection } from '../../../src/edge/tokens/app-token.js';
import { RevocationList } from '../../../src/edge/tokens/revocation-list.js';
import { SigningKeys, verificationKeysFromJwks } from '../../../src/edge/tokens/signing-keys.js';
import { AirlockError } from '../../../src/shared/errors.js';

const ISSUER = 'https://edge.test';
const AUD = 'aud-app-a';
const HOUR = 3_600_000;
const user = { sub: 'user-1', email: 'ada@example.com', groups: ['eng', 'ops'] };

let dir: string;
let keys: SigningKeys;
let otherEdgeKeys: SigningKeys;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-token-'));
  keys = await SigningKeys.open(join(dir, 'keys'));
  otherEdgeKeys = await SigningKeys.open(join(dir, 'other-edge-keys'));
});
after(() => rm(dir, { recursive: true, force: true }));

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function validClaims(overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: ISSUER,
    aud: [AUD],
    sub: user.sub,
    email: user.email,
    groups: user.groups,
    iat: now,
    nbf: now,
    exp: now + 3600,
    type: 'app',
    sid: 's-1',
    ...overrides,
  };
}

/** Signs header.payload with our real private key, whatever the header says: isolates the header checks. */
function signRaw(header: Record<string, unknown>, payload: unknown): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const signer = createSign('SHA256');
  signer.update(input);
  const signature = signer.sign({ key: keys.current().privateKey as never, dsaEncoding: 'ieee-p1363' } as never);
  return `${input}.${signature.toString('base64url')}`;
}

async function signWithOurKey(header: Record<string, unknown>, payload: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return new CompactSign(bytes).setProtectedHeader({ alg: 'ES256', ...header }).sign(keys.current().privateKey);
}

async function rejectsWith(
  token: string,
  reason: TokenRejection,
  code = 'TOKEN_INVALID',
  options: Partial<Parameters<typeof verifyAppToken>[1]> = {},
) {
  await assert.rejects(verifyAppToken(token, { issuer: ISSUER, aud: AUD, keys, ...options }), (error: unknown) => {
    assert.ok(error instanceof AirlockError, `expected AirlockError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.details.reason, reason, error.message);
    assert.match(error.message, /sign in again/);
    return true;
  });
}

describe('issueAppToken / verifyAppToken', () => {
  test('issues a token that verifies into a typed principal', async () => {
    const issued = await issueAppToken({ keys, issuer: ISSUER, aud: AUD, ...user, sessionMs: HOUR });
    const principal = await verifyAppToken(issued.token, { issuer: ISSUER, aud: AUD, keys });
    assert.deepEqual(principal, {
      kind: 'user',
      email: user.email,
      sub: user.sub,
      groups: user.groups,
      sessionId: issued.sessionId,
      expiresAt: issued.expiresAt,
    });
    assert.ok(Math.abs(issued.expiresAt.getTime() - Date.now() - HOUR) < 2_000);
  });

  test('carries the documented claims (docs/architecture.md "Client ↔ edge") and the kid header', async () => {
    const { token } = await issueAppToken({
      keys,
      issuer: ISSUER,
      aud: AUD,
      ...user,
      sessionMs: HOUR,
      sessionId: 'sess-42',
    });
    const [headerPart, payloadPart] = token.split('.');
    const header = JSON.parse(Buffer.from(headerPart!, 'base64url').toString());
    const payload = JSON.parse(Buffer.from(payloadPart!, 'base64url').toString());
    assert.equal(header.alg, 'ES256');
    assert.equal(header.kid, keys.current().kid);
    assert.deepEqual(payload.aud, [AUD]);
    assert.equal(payload.type, 'app');
    assert.equal(payload.sid, 'sess-42');
    for (const claim of ['iss', 'sub', 'email', 'groups', 'iat', 'nbf', 'exp']) assert.ok(claim in payload, claim);
  });

  test('verifies with keys built from the published JWKS (connector path)', async () => {
    const { token } = await issueAppToken({ keys, issuer: ISSUER, aud: AUD, ...user, sessionMs: HOUR });
    const published = await verificationKeysFromJwks(JSON.parse(JSON.stringify(keys.jwks())));
    const principal = await verifyAppToken(token, { issuer: ISSUER, aud: AUD, keys: published });
    assert.equal(principal.email, user.email);
  });

  test('rejects a token with alg none', async () => {
    const token = `${b64({ alg: 'none', kid: keys.current().kid })}.${b64(validClaims())}.`;
    await rejectsWith(token, 'algorithm');
  });

  test('rejects HS256 signed with the public key', async () => {
    const publicPem = await exportSPKI(keys.current().publicKey);
    const publicJwk = JSON.stringify(await exportJWK(keys.current().publicKey));
    for (const secret of [publicPem, publicJwk]) {
      const input = `${b64({ alg: 'HS256', kid: keys.current().kid })}.${b64(validClaims())}`;
      const token = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
      await rejectsWith(token, 'algorithm');
    }
  });

  test('rejects a wrong aud', async () => {
    await rejectsWith(
      await signWithOurKey({ kid: keys.current().kid }, validClaims({ aud: ['someone-else'] })),
      'audience',
    );
  });

  test('rejects a token for app A used on app B', async () => {
    const { token } = await issueAppToken({ keys, issuer: ISSUER, aud: 'aud-app-a', ...user, sessionMs: HOUR });
    await rejectsWith(token, 'audience', 'TOKEN_INVALID', { aud: 'aud-app-b' });
  });

  test('rejects a wrong iss', async () => {
    const { token } = await issueAppToken({ keys, issuer: 'https://evil.test', aud: AUD, ...user, sessionMs: HOUR });
    await rejectsWith(token, 'issuer');
  });

  test('rejects an expired token', async () => {
    const { token } = await issueAppToken({
      keys,
      issuer: ISSUER,
      aud: AUD,
      ...user,
      sessionMs: 60_000,
      now: new Date(Date.now() - 2 * HOUR),
    });
    await rejectsWith(token, 'expired', 'TOKEN_EXPIRED');
  });

  test('rejects a token whose nbf is in the future', async () => {
    const { token } = await issueAppToken({
      keys,
      issuer: ISSUER,
      aud: AUD,
      ...user,
      sessionMs: HOUR,
      now: new Date(Date.now() + 10 * 60_000),
    });
    await rejectsWith(token, 'not-yet-valid');
  });

  test('rejects a tampered payload', async () => {
    const { token } = await issueAppToken({ keys, issuer: ISSUER, aud: AUD, ...user, sessionMs: HOUR });
    const [header, , signature] = token.split('.');
    const forged = `${header}.${b64(validClaims({ email: 'root@example.com', groups: ['admins'] }))}.${signature}`;
    await rejectsWith(forged, 'signature');
  });

  test('rejects an unknown kid', async () => {
    await rejectsWith(await signWithOurKey({ kid: 'not-a-key-we-have' }, validClaims()), 'unknown-kid');
  });

  test('rejects a revoked session', async () => {
    const revoked = await RevocationList.open(join(dir, 'revoked.json'));
    const issued = await issueAppToken({ keys, issuer: ISSUER, aud: AUD, ...user, sessionMs: HOUR });
    await verifyAppToken(issued.token, { issuer: ISSUER, aud: AUD, keys, revoked });
    await revoked.revoke(issued.sessionId, issued.expiresAt);
    await rejectsWith(issued.token, 'revoked', 'TOKEN_REVOKED', { revoked });
  });

  test("rejects a token from another edge's key", async () => {
    const { token } = await issueAppToken({ keys: otherEdgeKeys, issuer: ISSUER, aud: AUD, ...user, sessionMs: HOUR });
    await rejectsWith(token, 'unknown-kid');
  });

  test("rejects another edge's signature under our kid", async () => {
    const bytes = new TextEncoder().encode(JSON.stringify(validClaims()));
    const token = await new CompactSign(bytes)
      .setProtectedHeader({ alg: 'ES256', kid: keys.current().kid })
      .sign(otherEdgeKeys.current().privateKey);
    await rejectsWith(token, 'signature');
  });

  test('a hand-signed token with a clean header verifies (control for the header tests below)', async () => {
    const principal = await verifyAppToken(signRaw({ alg: 'ES256', kid: keys.current().kid }, validClaims()), {
      issuer: ISSUER,
      aud: AUD,
      keys,
    });
    assert.equal(principal.sessionId, 's-1');
  });

  for (const name of ['jku', 'x5u', 'jwk'] as const) {
    test(`rejects a token with a ${name} header`, async () => {
      const value = name === 'jwk' ? await exportJWK(otherEdgeKeys.current().publicKey) : 'https://evil.test/keys';
      await rejectsWith(
        signRaw({ alg: 'ES256', kid: keys.current().kid, [name]: value }, validClaims()),
        'forbidden-header',
      );
    });
  }

  test('rejects a kid that looks like a URL', async () => {
    await rejectsWith(signRaw({ alg: 'ES256', kid: 'https://evil.test/key.json' }, validClaims()), 'bad-kid');
  });

  test('rejects a kid that looks like a path', async () => {
    await rejectsWith(signRaw({ alg: 'ES256', kid: '../../etc/passwd' }, validClaims()), 'bad-kid');
  });

  test('refuses a huge token (> 8 KB) before parsing', async () => {
    // Not even valid base64: proves the size check comes before any decoding.
    await rejectsWith('!'.repeat(8 * 1024 + 1), 'too-large');
    const { token } = await issueAppToken({
      keys,
      issuer: ISSUER,
      aud: AUD,
      ...user,
      groups: Array.from({ length: 600 }, (_, i) => `group-${i}`),
      sessionMs: HOUR,
    });
    assert.ok(token.length > 8 * 1024);
    await rejectsWith(token, 'too-large');
  });

  test('rejects a non-JSON payload', async () => {
    await rejectsWith(await signWithOurKey({ kid: keys.current().kid }, 'this is not json'), 'payload');
  });

  test('rejects a token whose type is not "app"', async () => {
    await rejectsWith(await signWithOurKey({ kid: keys.current().kid }, validClaims({ type: 'id' })), 'type');
    await rejectsWith(await signWithOurKey({ kid: keys.current().kid }, validClaims({ type: undefined })), 'type');
  });

  test('rejects a token without a session id', async () => {
    await rejectsWith(await signWithOurKey({ kid: keys.current().kid }, validClaims({ sid: undefined })), 'claims');
  });

  test('rejects garbage that is not a JWS', async () => {
    await rejectsWith('not.a.jwt', 'malformed');
    await rejectsWith('', 'malformed');
  });
});
