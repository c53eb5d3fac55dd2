import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { LoginCodes, s256, type LoginCodeRejection } from '../../../src/edge/sign-in/login-codes.js';
import { AirlockError } from '../../../src/shared/errors.js';

const verifier = () => randomBytes(32).toString('base64url');
const identity = { sub: 'u-1', email: 'ada@example.com', groups: ['eng'] };

async function setup(ttlMs = 60_000) {
  const clock = { now: 1_000_000 };
  const codes = new LoginCodes({ ttlMs, now: () => clock.now });
  const codeVerifier = verifier();
  const grant = {
    aud: 'aud-1',
    codeChallenge: s256(codeVerifier),
    redirectUrl: 'http://127.0.0.1:5000/callback',
    identity,
  };
  return { clock, codes, codeVerifier, grant, code: await codes.create(grant) };
}

async function rejected(work: Promise<unknown>, reason: LoginCodeRejection) {
  await assert.rejects(work, (error: unknown) => {
    assert.ok(error instanceof AirlockError);
    assert.equal(error.code, 'LOGIN_FAILED');
    assert.equal(error.details.reason, reason, error.message);
    return true;
  });
}

describe('LoginCodes', () => {
  test('exchanges a code with the right verifier for its grant', async () => {
    const { codes, code, codeVerifier, grant } = await setup();
    assert.match(code, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(await codes.exchange(code, codeVerifier), grant);
  });

  test('rejects a replayed code', async () => {
    const { codes, code, codeVerifier } = await setup();
    await codes.exchange(code, codeVerifier);
    await rejected(codes.exchange(code, codeVerifier), 'replayed');
  });

  test('rejects an expired code', async () => {
    const { codes, code, codeVerifier, clock } = await setup();
    clock.now += 60_001;
    await rejected(codes.exchange(code, codeVerifier), 'expired');
  });

  test('accepts a code just before it expires', async () => {
    const { codes, code, codeVerifier, clock } = await setup();
    clock.now += 59_000;
    assert.equal((await codes.exchange(code, codeVerifier)).aud, 'aud-1');
  });

  test('rejects a wrong verifier', async () => {
    const { codes, code } = await setup();
    await rejected(codes.exchange(code, verifier()), 'verifier');
  });

  test('a wrong verifier burns the code (no second guess)', async () => {
    const { codes, code, codeVerifier } = await setup();
    await rejected(codes.exchange(code, verifier()), 'verifier');
    await rejected(codes.exchange(code, codeVerifier), 'replayed');
  });

  test('rejects the challenge itself sent as the verifier (plain method)', async () => {
    const { codes, code, grant } = await setup();
    await rejected(codes.exchange(code, grant.codeChallenge), 'verifier');
  });

  test('rejects an unknown code', async () => {
    const { codes, codeVerifier } = await setup();
    await rejected(codes.exchange(randomBytes(32).toString('base64url'), codeVerifier), 'unknown-code');
  });

  test('rejects a malformed verifier before looking the code up', async () => {
    const { codes, code, codeVerifier } = await setup();
    await rejected(codes.exchange(code, 'short'), 'malformed');
    await rejected(codes.exchange(code, undefined), 'malformed');
    assert.equal((await codes.exchange(code, codeVerifier)).aud, 'aud-1', 'a malformed attempt does not burn the code');
  });

  test('refuses to create a code for a challenge that is not S256-shaped', async () => {
    const codes = new LoginCodes();
    await assert.rejects(
      codes.create({ aud: 'a', codeChallenge: 'plain-challenge', redirectUrl: 'http://127.0.0.1/callback', identity }),
      /S256/,
    );
  });

  test('two exchanges racing for one code: exactly one gets the grant', async () => {
    const { codes, code, codeVerifier } = await setup();
    const results = await Promise.allSettled([codes.exchange(code, codeVerifier), codes.exchange(code, codeVerifier)]);
    assert.deepEqual(results.map((result) => result.status).sort(), ['fulfilled', 'rejected']);
  });
});
