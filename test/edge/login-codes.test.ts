import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { LoginCodes, s256, type LoginCodeRejection } from '../../src/edge/login-codes.js';
import { AirlockError } from '../../src/shared/errors.js';

const verifier = () => randomBytes(32).toString('base64url');
const identity = { sub: 'u-1', email: 'ada@example.com', groups: ['eng'] };

function setup(ttlMs = 60_000) {
  const clock = { now: 1_000_000 };
  const codes = new LoginCodes({ ttlMs, now: () => clock.now });
  const codeVerifier = verifier();
  const grant = { aud: 'aud-1', codeChallenge: s256(codeVerifier), redirectUrl: 'http://127.0.0.1:5000/callback', identity };
  return { clock, codes, codeVerifier, grant, code: codes.create(grant) };
}

function rejected(fn: () => unknown, reason: LoginCodeRejection) {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof AirlockError);
    assert.equal(error.code, 'LOGIN_FAILED');
    assert.equal(error.details.reason, reason, error.message);
    return true;
  });
}

describe('LoginCodes', () => {
  test('exchanges a code with the right verifier for its grant', () => {
    const { codes, code, codeVerifier, grant } = setup();
    assert.match(code, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(codes.exchange(code, codeVerifier), grant);
    assert.equal(codes.size, 0);
  });

  test('rejects a replayed code', () => {
    const { codes, code, codeVerifier } = setup();
    codes.exchange(code, codeVerifier);
    rejected(() => codes.exchange(code, codeVerifier), 'replayed');
  });

  test('rejects an expired code', () => {
    const { codes, code, codeVerifier, clock } = setup();
    clock.now += 60_001;
    rejected(() => codes.exchange(code, codeVerifier), 'expired');
  });

  test('accepts a code just before it expires', () => {
    const { codes, code, codeVerifier, clock } = setup();
    clock.now += 59_000;
    assert.equal(codes.exchange(code, codeVerifier).aud, 'aud-1');
  });

  test('rejects a wrong verifier', () => {
    const { codes, code } = setup();
    rejected(() => codes.exchange(code, verifier()), 'verifier');
  });

  test('a wrong verifier burns the code (no second guess)', () => {
    const { codes, code, codeVerifier } = setup();
    rejected(() => codes.exchange(code, verifier()), 'verifier');
    rejected(() => codes.exchange(code, codeVerifier), 'replayed');
  });

  test('rejects the challenge itself sent as the verifier (plain method)', () => {
    const { codes, code, grant } = setup();
    rejected(() => codes.exchange(code, grant.codeChallenge), 'verifier');
  });

  test('rejects an unknown code', () => {
    const { codes, codeVerifier } = setup();
    rejected(() => codes.exchange(randomBytes(32).toString('base64url'), codeVerifier), 'unknown-code');
  });

  test('rejects a malformed verifier before looking the code up', () => {
    const { codes, code, codeVerifier } = setup();
    rejected(() => codes.exchange(code, 'short'), 'malformed');
    rejected(() => codes.exchange(code, undefined), 'malformed');
    assert.equal(codes.exchange(code, codeVerifier).aud, 'aud-1', 'a malformed attempt does not burn the code');
  });

  test('refuses to create a code for a challenge that is not S256-shaped', () => {
    const codes = new LoginCodes();
    assert.throws(() => codes.create({ aud: 'a', codeChallenge: 'plain-challenge', redirectUrl: 'http://127.0.0.1/callback', identity }), /S256/);
  });

  test('expired codes are swept when new ones are created', () => {
    const { codes, clock } = setup();
    clock.now += 120_000;
    codes.create({ aud: 'a', codeChallenge: s256(verifier()), redirectUrl: 'http://127.0.0.1/callback', identity });
    assert.equal(codes.size, 1);
  });
});
