import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OidcRelyingParty } from '../../src/edge/sign-in/oidc-login.js';
import { startIdp, type RunningIdp } from '../../src/idp/provider.js';
import { hashPassword } from '../../src/idp/users.js';
import { CookieJar, follow, step } from '../helpers/cookie-fetch.js';

const REDIRECT = 'https://edge.test/cdn-cgi/access/callback';
const client = { clientId: 'airlock-edge', clientSecret: 'test-secret-123', redirectUris: [REDIRECT] };
let idp: RunningIdp;

before(async () => {
  idp = await startIdp({
    users: [
      {
        email: 'ada@example.com',
        password: await hashPassword('correct horse'),
        groups: ['eng', 'oncall'],
        name: 'Ada',
      },
      { email: 'bob@example.com', password: 'plain-dev-password', groups: [] },
    ],
    clients: [client],
  });
});
after(() => idp.close());

const rp = () => new OidcRelyingParty({ issuer: idp.issuer, ...client }, { redirectUri: REDIRECT });

/** Runs the browser part of the flow up to the login form; returns the form's action URL. */
async function openLoginForm(jar: CookieJar, authorizationUrl: URL): Promise<URL> {
  const { response, url } = await follow(jar, authorizationUrl);
  assert.equal(response!.status, 200);
  const html = response!.text;
  assert.match(html, /<form method="post"/);
  return new URL(/action="([^"]+)"/.exec(html)![1]!, url);
}

async function submit(jar: CookieJar, action: URL, email: string, password: string) {
  return step(jar, action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, password }).toString(),
  });
}

describe('built-in IdP (oidc-provider) with the edge relying party', () => {
  test('listens on 127.0.0.1 and serves discovery', async () => {
    assert.match(idp.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
    const metadata = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(metadata.issuer, idp.issuer);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
  });

  test('the authorization URL carries PKCE S256, state and nonce', async () => {
    const { url, pending } = await rp().beginLogin();
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(url.searchParams.get('state'), pending.state);
    assert.equal(url.searchParams.get('nonce'), pending.nonce);
    assert.ok(url.searchParams.get('code_challenge'));
    assert.notEqual(url.searchParams.get('code_challenge'), pending.codeVerifier);
  });

  test('signs a user in and returns email and groups from the ID token', async () => {
    const relyingParty = rp();
    const { url, pending } = await relyingParty.beginLogin();
    const jar = new CookieJar();
    const action = await openLoginForm(jar, url);
    const posted = await submit(jar, action, 'Ada@Example.com', 'correct horse');
    assert.equal(posted.status, 303);
    const { url: callback } = await follow(jar, posted.location!, (next) => next.href.startsWith(REDIRECT));
    assert.equal(callback.searchParams.get('state'), pending.state);
    const identity = await relyingParty.completeLogin(callback, pending);
    assert.deepEqual(identity, { sub: 'ada@example.com', email: 'ada@example.com', groups: ['eng', 'oncall'] });
  });

  test('accepts a plain-text dev password', async () => {
    const relyingParty = rp();
    const { url, pending } = await relyingParty.beginLogin();
    const jar = new CookieJar();
    const posted = await submit(jar, await openLoginForm(jar, url), 'bob@example.com', 'plain-dev-password');
    const { url: callback } = await follow(jar, posted.location!, (next) => next.href.startsWith(REDIRECT));
    assert.deepEqual((await relyingParty.completeLogin(callback, pending)).groups, []);
  });

  test('a wrong password shows a clear error on the login page', async () => {
    const { url } = await rp().beginLogin();
    const jar = new CookieJar();
    const posted = await submit(jar, await openLoginForm(jar, url), 'ada@example.com', 'wrong');
    assert.equal(posted.status, 401);
    const html = posted.text;
    assert.match(html, /Wrong email or password/);
    assert.match(html, /value="ada@example.com"/, 'keeps the typed email');
  });

  test('an unknown user gets the same error as a wrong password', async () => {
    const { url } = await rp().beginLogin();
    const jar = new CookieJar();
    const posted = await submit(jar, await openLoginForm(jar, url), 'mallory@example.com', 'x');
    assert.equal(posted.status, 401);
    assert.match(posted.text, /Wrong email or password/);
  });

  test('escapes what the user typed', async () => {
    const { url } = await rp().beginLogin();
    const jar = new CookieJar();
    const posted = await submit(jar, await openLoginForm(jar, url), '"><script>x</script>@example.com', 'x');
    const html = posted.text;
    assert.doesNotMatch(html, /<script>x/);
  });

  test('devInteractions are disabled (no built-in dev login form)', async () => {
    const { url } = await rp().beginLogin();
    const jar = new CookieJar();
    const { response } = await follow(jar, url);
    const html = response!.text;
    assert.match(html, /Airlock dev IdP/);
    assert.doesNotMatch(html, /oidc-provider|login-submit/i);
  });

  test('a callback with a wrong state is refused', async () => {
    const relyingParty = rp();
    const { url, pending } = await relyingParty.beginLogin();
    const jar = new CookieJar();
    const posted = await submit(jar, await openLoginForm(jar, url), 'ada@example.com', 'correct horse');
    const { url: callback } = await follow(jar, posted.location!, (next) => next.href.startsWith(REDIRECT));
    await assert.rejects(
      relyingParty.completeLogin(callback, { ...pending, state: 'other-state' }),
      (error: { code: string }) => error.code === 'LOGIN_FAILED',
    );
  });

  test('a callback with a wrong nonce is refused', async () => {
    const relyingParty = rp();
    const { url, pending } = await relyingParty.beginLogin();
    const jar = new CookieJar();
    const posted = await submit(jar, await openLoginForm(jar, url), 'ada@example.com', 'correct horse');
    const { url: callback } = await follow(jar, posted.location!, (next) => next.href.startsWith(REDIRECT));
    await assert.rejects(
      relyingParty.completeLogin(callback, { ...pending, nonce: 'other-nonce' }),
      (error: { code: string; message: string }) => error.code === 'LOGIN_FAILED' && /nonce/.test(error.message),
    );
  });

  test('an IdP error on the callback becomes LOGIN_FAILED with its description', async () => {
    const relyingParty = rp();
    const { pending } = await relyingParty.beginLogin();
    const callback = new URL(`${REDIRECT}?error=access_denied&error_description=nope&state=${pending.state}`);
    await assert.rejects(relyingParty.completeLogin(callback, pending), /refused the sign-in: access_denied \(nope\)/);
  });

  test('an unreachable IdP is IDP_UNREACHABLE with a clear message', async () => {
    const stopped = await startIdp({ users: [{ email: 'a@b.c', password: 'x', groups: [] }], clients: [client] });
    await stopped.close();
    const relyingParty = new OidcRelyingParty(
      { issuer: stopped.issuer, ...client },
      { redirectUri: REDIRECT, timeoutSeconds: 3 },
    );
    await assert.rejects(relyingParty.beginLogin(), (error: { code: string; message: string }) => {
      assert.equal(error.code, 'IDP_UNREACHABLE');
      assert.match(error.message, /unreachable \(ECONNREFUSED\).*idp\.issuer/);
      return true;
    });
  });

  test('refuses a non-loopback http issuer', async () => {
    const relyingParty = new OidcRelyingParty(
      { issuer: 'http://idp.example.com', ...client },
      { redirectUri: REDIRECT },
    );
    await assert.rejects(relyingParty.discover(), (error: { code: string }) => error.code === 'CONFIG_INVALID');
  });
});
