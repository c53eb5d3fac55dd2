// The ID token signature check on its own, against a key set served on 127.0.0.1: each hostile
// token is refused with ID_TOKEN_INVALID, and a rotated key set is fetched again.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { idTokenVerifier } from '../../../src/edge/sign-in/id-token-signature.js';

let keys: JWK[] = [];
let fetches = 0;
let server: http.Server;
let jwksUri = '';

before(async () => {
  server = http.createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function signingKey(alg: string) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { privateKey, jwk: { ...jwk, kid, alg, use: 'sig' }, kid };
}

const idToken = (alg: string, kid: string, key: Parameters<SignJWT['sign']>[0]) =>
  new SignJWT({ sub: 'ada' }).setProtectedHeader({ alg, kid }).setIssuedAt().setExpirationTime('5m').sign(key);

const refusedAs = (pattern: RegExp) => (error: { code: string; message: string }) => {
  assert.equal(error.code, 'ID_TOKEN_INVALID');
  assert.match(error.message, pattern);
  return true;
};

describe('ID token signature against the provider JWKS', () => {
  test('refuses a token signed by another key under a published kid', async () => {
    const published = await signingKey('ES256');
    const impostor = await signingKey('ES256');
    keys = [published.jwk];
    const verify = idTokenVerifier({ jwksUri, timeoutMs: 3000, cooldownMs: 0 });
    await verify(await idToken('ES256', published.kid, published.privateKey));
    await assert.rejects(
      verify(await idToken('ES256', published.kid, impostor.privateKey)),
      refusedAs(/signature does not match/),
    );
  });

  test('refuses an HMAC token (keyed with a guessable secret) and an unsigned one', async () => {
    const published = await signingKey('RS256');
    keys = [published.jwk];
    const verify = idTokenVerifier({ jwksUri, timeoutMs: 3000, cooldownMs: 0 });
    const hmac = await idToken('HS256', published.kid, new TextEncoder().encode('client-secret-of-32-bytes-or-more!'));
    await assert.rejects(verify(hmac), refusedAs(/algorithm is not one the edge accepts/));
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from('{"sub":"ada"}').toString('base64url')}.`;
    await assert.rejects(verify(unsigned), (error: { code: string }) => error.code === 'ID_TOKEN_INVALID');
  });

  test('a token under a new kid fetches the key set again (rotation); one no set holds is refused', async () => {
    const old = await signingKey('PS256');
    keys = [old.jwk];
    const verify = idTokenVerifier({ jwksUri, timeoutMs: 3000, cooldownMs: 0 });
    await verify(await idToken('PS256', old.kid, old.privateKey));
    const before = fetches;
    const rotated = await signingKey('EdDSA');
    keys = [rotated.jwk];
    await verify(await idToken('EdDSA', rotated.kid, rotated.privateKey));
    assert.equal(fetches, before + 1, 'fetched once more for the new kid');
    const stranger = await signingKey('ES256');
    await assert.rejects(
      verify(await idToken('ES256', stranger.kid, stranger.privateKey)),
      refusedAs(/no key in the set matches/),
    );
  });
});
