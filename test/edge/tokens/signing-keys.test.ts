import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { issueAppToken, verifyAppToken } from '../../../src/edge/tokens/app-token.js';
import { SigningKeys, verificationKeysFromJwks } from '../../../src/edge/tokens/signing-keys.js';
import { AirlockError } from '../../../src/shared/errors.js';

const claims = {
  issuer: 'https://edge.test',
  aud: 'aud-1',
  sub: 'u',
  email: 'u@example.com',
  groups: [],
  sessionMs: 3_600_000,
};
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-keys-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('SigningKeys', () => {
  test('creates one ES256 key in a 0700 dir, stored as a 0600 JWK file', async () => {
    const keysDir = join(dir, 'keys');
    const keys = await SigningKeys.open(keysDir);
    assert.equal(keys.kids().length, 1);
    assert.equal((await stat(keysDir)).mode & 0o777, 0o700);
    const files = await readdir(keysDir);
    assert.deepEqual(files, [`${keys.current().kid}.jwk.json`]);
    assert.equal((await stat(join(keysDir, files[0]!))).mode & 0o777, 0o600);
  });

  test('publishes public keys only', async () => {
    const keys = await SigningKeys.open(dir);
    const [jwk] = keys.jwks().keys;
    assert.equal(jwk!.kty, 'EC');
    assert.equal(jwk!.crv, 'P-256');
    assert.equal(jwk!.alg, 'ES256');
    assert.equal(jwk!.kid, keys.current().kid);
    assert.equal('d' in jwk!, false);
  });

  test('tokens survive a restart (keys reloaded from disk)', async () => {
    const first = await SigningKeys.open(dir);
    const { token } = await issueAppToken({ keys: first, ...claims });
    const reopened = await SigningKeys.open(dir);
    assert.equal(reopened.current().kid, first.current().kid);
    const principal = await verifyAppToken(token, { issuer: claims.issuer, aud: claims.aud, keys: reopened });
    assert.equal(principal.email, claims.email);
  });

  test('keys reloaded from disk are extractable, so node:crypto takes them without DEP0204 (Node 24)', async () => {
    await SigningKeys.open(dir);
    const reopened = await SigningKeys.open(dir);
    assert.equal(reopened.current().privateKey.extractable, true);
    assert.equal(reopened.current().publicKey.extractable, true);
  });

  test('rotate() makes a new current key and keeps the previous one published', async () => {
    const keys = await SigningKeys.open(dir);
    const old = keys.current().kid;
    const before = await issueAppToken({ keys, ...claims });
    const fresh = await keys.rotate();
    assert.notEqual(fresh.kid, old);
    assert.equal(keys.current().kid, fresh.kid);
    assert.deepEqual(
      keys.jwks().keys.map((key) => key.kid),
      [fresh.kid, old],
    );
    const afterRotation = await issueAppToken({ keys, ...claims });
    assert.equal(JSON.parse(Buffer.from(afterRotation.token.split('.')[0]!, 'base64url').toString()).kid, fresh.kid);
    for (const { token } of [before, afterRotation])
      await verifyAppToken(token, { issuer: claims.issuer, aud: claims.aud, keys });
    const reopened = await SigningKeys.open(dir);
    assert.equal(reopened.current().kid, fresh.kid, 'the newest key stays current after a restart');
    assert.equal(reopened.kids().length, 2);
  });

  test('retire() stops publishing an old key, and its tokens stop verifying', async () => {
    const keys = await SigningKeys.open(dir);
    const old = keys.current().kid;
    const { token } = await issueAppToken({ keys, ...claims });
    await keys.rotate();
    await keys.retire(old);
    assert.equal(keys.kids().includes(old), false);
    assert.equal((await readdir(dir)).length, 1);
    await assert.rejects(
      verifyAppToken(token, { issuer: claims.issuer, aud: claims.aud, keys }),
      (error: AirlockError) => error.details.reason === 'unknown-kid',
    );
    assert.equal((await SigningKeys.open(dir)).kids().includes(old), false);
  });

  test('refuses to retire the current key', async () => {
    const keys = await SigningKeys.open(dir);
    await assert.rejects(keys.retire(keys.current().kid), /rotate before retiring/);
  });

  test('refuses to retire a kid that is a path', async () => {
    const keys = await SigningKeys.open(dir);
    await assert.rejects(keys.retire('../../etc/passwd'), (error: AirlockError) => error.code === 'BAD_ARGUMENT');
  });

  test('reports a corrupt key file by path', async () => {
    await writeFile(join(dir, 'broken.jwk.json'), '{not json');
    await assert.rejects(
      SigningKeys.open(dir),
      (error: AirlockError) => error.code === 'CONFIG_UNREADABLE' && error.message.includes('broken.jwk.json'),
    );
  });

  test('verificationKeysFromJwks ignores private and non-EC members', async () => {
    const keys = await SigningKeys.open(dir);
    const published = await verificationKeysFromJwks({
      keys: [...keys.jwks().keys, { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' }],
    });
    assert.ok(published.publicKey(keys.current().kid));
    assert.equal(published.publicKey('hmac'), undefined);
  });
});
