// The relying party against the ways real providers differ, each set up on the built-in IdP
// (oidc-provider): claims only from userinfo, each ID token signature algorithm, a key rotation,
// client_secret_post and private_key_jwt, the provider's own errors, RP-initiated logout.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { OidcRelyingParty, type IdpConfig } from '../../../src/edge/sign-in/oidc-login.js';
import { startIdp, type IdpOptions, type RunningIdp } from '../../../src/idp/provider.js';
import type { IdpClient } from '../../../src/idp/users.js';
import { CookieJar, follow, signInAtIdp } from '../../helpers/cookie-fetch.js';

const REDIRECT = 'https://edge.test/cdn-cgi/access/callback';
const USERS = [{ email: 'ada@example.com', password: 'ada-password', groups: ['eng'] }];
const started: RunningIdp[] = [];
let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-oidc-compat-'));
});
after(async () => {
  await Promise.all(started.map((idp) => idp.close()));
  await rm(dir, { recursive: true, force: true });
});

async function provider(client: Partial<IdpClient> = {}, options: Partial<IdpOptions> = {}): Promise<RunningIdp> {
  const idp = await startIdp({
    users: USERS,
    clients: [{ clientId: 'airlock-edge', clientSecret: 'compat-secret', redirectUris: [REDIRECT], ...client }],
    ...options,
  });
  started.push(idp);
  return idp;
}

function relyingParty(idp: RunningIdp, config: Partial<IdpConfig> = {}): OidcRelyingParty {
  return new OidcRelyingParty(
    { issuer: idp.issuer, clientId: 'airlock-edge', clientSecret: 'compat-secret', ...config },
    { redirectUri: REDIRECT, timeoutSeconds: 5, jwksCooldownMs: 0 },
  );
}

/** The browser's part, done with a cookie jar: the IdP form, then the callback URL. */
async function callbackFor(rp: OidcRelyingParty) {
  const { url, pending } = await rp.beginLogin();
  const jar = new CookieJar();
  const posted = await signInAtIdp(jar, await follow(jar, url), 'ada@example.com', 'ada-password');
  const { url: callback } = await follow(jar, posted.location!, (next) => next.href.startsWith(REDIRECT));
  return { callback, pending };
}

async function signIn(rp: OidcRelyingParty) {
  const { callback, pending } = await callbackFor(rp);
  return rp.finishLogin(callback, pending);
}

const header = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as { alg: string; kid: string };
const payload = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe('claims', () => {
  test('email and groups absent from the ID token are read from userinfo', async () => {
    const idp = await provider({}, { claimsInIdToken: false });
    const { identity, idToken } = await signIn(relyingParty(idp));
    assert.equal(payload(idToken).email, undefined, 'the ID token carries no email');
    assert.deepEqual(identity, { sub: 'ada@example.com', email: 'ada@example.com', groups: ['eng'] });
  });

  test('configured claim names: groups read from another claim (here "email", as a one-value list)', async () => {
    const idp = await provider();
    const { identity } = await signIn(relyingParty(idp, { claims: { groups: 'email' } }));
    assert.deepEqual(identity.groups, ['ada@example.com']);
  });

  test('a missing email claim is refused, naming the claim and where the edge looked', async () => {
    const idp = await provider({}, { claimsInIdToken: false });
    await assert.rejects(
      signIn(relyingParty(idp, { claims: { email: 'mail' } })),
      (error: { code: string; message: string }) => {
        assert.equal(error.code, 'IDP_CLAIM_MISSING');
        assert.match(error.message, /no "mail" claim in the ID token or from the userinfo endpoint/);
        return true;
      },
    );
  });
});

describe('ID token signatures', () => {
  for (const algorithm of ['RS256', 'PS256', 'ES256', 'EdDSA'] as const) {
    test(`a ${algorithm} ID token verifies against the provider's JWKS`, async () => {
      const idp = await provider({}, { signingAlgorithm: algorithm });
      const { identity, idToken } = await signIn(relyingParty(idp));
      assert.equal(header(idToken).alg, algorithm);
      assert.equal(identity.email, 'ada@example.com');
    });
  }

  test('a key rotation (the provider restarts with a new key) is picked up from the JWKS', async () => {
    const first = await provider();
    const rp = relyingParty(first);
    const before = header((await signIn(rp)).idToken).kid;
    const port = first.port;
    await first.close();
    const second = await provider({}, { port });
    const afterRotation = (await signIn(rp)).idToken;
    assert.notEqual(header(afterRotation).kid, before, 'signed with the new key');
    await second.close();
  });
});

describe('client authentication at the token endpoint', () => {
  test('client_secret_post, configured, signs in', async () => {
    const idp = await provider({ tokenEndpointAuthMethod: 'client_secret_post' });
    const rp = relyingParty(idp, { tokenEndpointAuthMethod: 'client_secret_post' });
    assert.equal((await signIn(rp)).identity.email, 'ada@example.com');
  });

  test("a wrong secret: the provider's invalid_client is quoted under IDP_CLIENT_REFUSED", async () => {
    const idp = await provider({ tokenEndpointAuthMethod: 'client_secret_post' });
    const rp = relyingParty(idp, { tokenEndpointAuthMethod: 'client_secret_post', clientSecret: 'not-the-secret' });
    await assert.rejects(signIn(rp), (error: { code: string; message: string }) => {
      assert.equal(error.code, 'IDP_CLIENT_REFUSED');
      assert.match(error.message, /token endpoint refused the sign-in: invalid_client/);
      assert.match(error.message, /idp\.tokenEndpointAuthMethod/);
      return true;
    });
  });

  test('private_key_jwt with a P-256 key file, chosen because the key is configured', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const file = join(dir, 'client-key.pem');
    await writeFile(file, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const jwk = { ...publicKey.export({ format: 'jwk' }), use: 'sig', alg: 'ES256' };
    const idp = await provider({ tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [jwk] } });
    const rp = relyingParty(idp, { clientSecret: undefined, privateKeyFile: file });
    assert.equal((await signIn(rp)).identity.email, 'ada@example.com');
    assert.equal(await rp.authMethod(), 'private_key_jwt');
  });
});

describe("the provider's errors", () => {
  test('an error on the callback is IDP_REFUSED, quoting error and error_description', async () => {
    const idp = await provider();
    const rp = relyingParty(idp);
    const { pending } = await rp.beginLogin();
    const callback = new URL(`${REDIRECT}?error=access_denied&error_description=not+today&state=${pending.state}`);
    await assert.rejects(rp.finishLogin(callback, pending), (error: { code: string; message: string }) => {
      assert.equal(error.code, 'IDP_REFUSED');
      assert.match(error.message, /access_denied \(not today\)/);
      return true;
    });
  });

  test('a used code: the token endpoint says invalid_grant', async () => {
    const idp = await provider();
    const rp = relyingParty(idp);
    const { callback, pending } = await callbackFor(rp);
    await rp.finishLogin(callback, pending);
    await assert.rejects(rp.finishLogin(callback, pending), (error: { code: string; message: string }) => {
      assert.equal(error.code, 'IDP_REFUSED');
      assert.match(error.message, /token endpoint refused the sign-in: invalid_grant/);
      return true;
    });
  });
});

describe('RP-initiated logout', () => {
  test('end_session_endpoint with client_id and the ID token as id_token_hint', async () => {
    const idp = await provider();
    const rp = relyingParty(idp);
    const { idToken } = await signIn(rp);
    const url = await rp.endSessionUrl(idToken);
    assert.ok(url);
    assert.equal(url.origin, idp.issuer);
    assert.equal(url.searchParams.get('client_id'), 'airlock-edge');
    assert.equal(url.searchParams.get('id_token_hint'), idToken);
  });

  test('rpInitiatedLogout: false leaves the provider session alone', async () => {
    const idp = await provider();
    assert.equal(await relyingParty(idp, { rpInitiatedLogout: false }).endSessionUrl(), undefined);
  });
});
