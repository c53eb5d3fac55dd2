// The sign-in endpoints against the real built-in IdP, with a scripted cookie-keeping client as
// the browser (test/edge/browser-login.test.ts repeats the main flows in real Chromium).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { verifyAppToken } from '../../../src/edge/tokens/app-token.js';
import { verifyOrganisationToken } from '../../../src/edge/sign-in/organisation-session.js';
import { s256 } from '../../../src/edge/sign-in/login-codes.js';
import { AUTH_COOKIE, HEADER, PATH, SSO } from '../../../src/shared/constants.js';
import { CookieJar, follow, signInAtIdp, step } from '../../helpers/cookie-fetch.js';
import { startRig, type Rig } from '../../helpers/sso-rig.js';

const LOOPBACK = 'http://127.0.0.1:45678/callback';
let rig: Rig;
before(async () => {
  rig = await startRig();
});
after(() => rig.close());

function cliUrl(overrides: Record<string, string> = {}) {
  const verifier = randomBytes(32).toString('base64url');
  const params = {
    aud: 'aud-redis',
    redirect_url: LOOPBACK,
    state: randomBytes(16).toString('base64url'),
    code_challenge: s256(verifier),
    code_challenge_method: 'S256',
    ...overrides,
  };
  return { url: `${rig.edgeOrigin}${PATH.cli}?${new URLSearchParams(params)}`, verifier, state: params.state };
}

/** Runs the native-app flow up to the redirect to the loopback listener; returns that URL. */
async function cliLogin(
  jar: CookieJar,
  email: string,
  password: string,
  url: string,
): Promise<{ loopback?: URL; denied?: { status: number; text: string } }> {
  const loginPage = await follow(jar, url);
  assert.equal(loginPage.response!.status, 200, 'the IdP login page');
  const posted = await signInAtIdp(jar, loginPage, email, password);
  const landed = await follow(jar, posted.location!, (next) => next.href.startsWith('http://127.0.0.1:45678/'));
  if (landed.response) return { denied: landed.response };
  return { loopback: landed.url };
}

async function exchange(body: Record<string, string>, form = false) {
  const jar = new CookieJar(rig.ca);
  const response = await step(jar, `${rig.edgeOrigin}${PATH.token}`, {
    method: 'POST',
    headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json' },
    body: form ? new URLSearchParams(body).toString() : JSON.stringify(body),
  });
  return { status: response.status, body: JSON.parse(response.text) as Record<string, unknown> };
}

/** The rig serves every name on 127.0.0.1: app hosts are reached on its port, as on a real edge. */
const appOrigin = (hostname: string) => `https://${hostname}:${new URL(rig.edgeOrigin).port}`;
const browserJar = () => new CookieJar(rig.ca, '127.0.0.1');
const setCookieLine = (response: { headers: { 'set-cookie'?: string[] } }, name: string) =>
  (response.headers['set-cookie'] ?? []).find((line) => line.startsWith(`${name}=`) && !line.startsWith(`${name}=;`));

/**
 * The login path on the sign-in host as a browser reaches it: through the app host first, which
 * binds the browser to the hand-off (its cookie, the hash in the URL).
 */
async function signInHostLogin(jar: CookieJar, hostname: string, query = '', init: { method?: string } = {}) {
  const bound = await step(jar, `${appOrigin(hostname)}${PATH.login}${hostname}${query}`);
  assert.equal(bound.status, 302, bound.text);
  return step(jar, bound.location!, init);
}

/** Signs in through the browser flow for one app; the jar then holds the organisation session. */
async function signInBrowser(jar: CookieJar, email: string, password: string, hostname: string): Promise<void> {
  const posted = await signInAtIdp(
    jar,
    await follow(jar, `${rig.edgeOrigin}${PATH.login}${hostname}`),
    email,
    password,
  );
  const { response } = await follow(jar, posted.location!);
  assert.equal(response!.status, 200, response!.text);
}

const verify = (token: string, aud = 'aud-redis') =>
  verifyAppToken(token, { issuer: rig.edgeOrigin, aud, keys: rig.keys, revoked: rig.revoked });

describe('access routes: native app (cli) flow', () => {
  test('login → one-time code on the loopback redirect → token for the app', async () => {
    const jar = new CookieJar(rig.ca);
    const { url, verifier, state } = cliUrl();
    const { loopback } = await cliLogin(jar, 'ada@example.com', 'ada-password', url);
    assert.equal(loopback!.origin + loopback!.pathname, LOOPBACK);
    assert.equal(loopback!.searchParams.get('state'), state);
    const { status, body } = await exchange({ code: loopback!.searchParams.get('code')!, code_verifier: verifier });
    assert.equal(status, 200);
    const principal = await verify(body.token as string);
    assert.equal(principal.email, 'ada@example.com');
    assert.deepEqual(principal.groups, ['eng']);
    assert.equal(body.expires_at, Math.floor(principal.expiresAt.getTime() / 1000));
    assert.ok(
      rig.logs.some((line) => line.event === 'login' && line.email === 'ada@example.com' && line.allowed === true),
    );
  });

  test('the token endpoint also takes a form body', async () => {
    const jar = new CookieJar(rig.ca);
    const { url, verifier } = cliUrl();
    const { loopback } = await cliLogin(jar, 'ada@example.com', 'ada-password', url);
    const { status } = await exchange({ code: loopback!.searchParams.get('code')!, code_verifier: verifier }, true);
    assert.equal(status, 200);
  });

  test('rejects a replayed code at the token endpoint', async () => {
    const jar = new CookieJar(rig.ca);
    const { url, verifier } = cliUrl();
    const { loopback } = await cliLogin(jar, 'ada@example.com', 'ada-password', url);
    const code = loopback!.searchParams.get('code')!;
    assert.equal((await exchange({ code, code_verifier: verifier })).status, 200);
    const replay = await exchange({ code, code_verifier: verifier });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
    assert.match(String(replay.body.error_description), /already used/);
  });

  test('rejects a wrong PKCE verifier at the token endpoint', async () => {
    const jar = new CookieJar(rig.ca);
    const { url } = cliUrl();
    const { loopback } = await cliLogin(jar, 'ada@example.com', 'ada-password', url);
    const wrong = await exchange({
      code: loopback!.searchParams.get('code')!,
      code_verifier: randomBytes(32).toString('base64url'),
    });
    assert.equal(wrong.status, 400);
    assert.match(String(wrong.body.error_description), /code_verifier does not match/);
  });

  test('a user denied by policy in the native-app flow: the app is told access_denied, no code', async () => {
    const jar = new CookieJar(rig.ca);
    const { url, state } = cliUrl();
    const { loopback } = await cliLogin(jar, 'eve@example.com', 'eve-password', url);
    assert.equal(loopback!.searchParams.get('error'), 'access_denied');
    assert.equal(loopback!.searchParams.get('state'), state);
    assert.equal(loopback!.searchParams.get('code'), null);
  });

  test('a user denied by policy gets a 403 page naming the app, not the policy', async () => {
    const jar = browserJar();
    const { denied } = await cliLogin(
      jar,
      'eve@example.com',
      'eve-password',
      `${rig.edgeOrigin}${PATH.login}redis.internal`,
    );
    assert.equal(denied!.status, 403);
    assert.match(denied!.text, /not allowed to use <strong>redis\.internal<\/strong>/);
    assert.doesNotMatch(denied!.text, /group|eng|sales/);
    assert.ok(
      rig.logs.some(
        (line) =>
          line.event === 'login' &&
          line.email === 'eve@example.com' &&
          line.allowed === false &&
          line.reason === 'not in group eng',
      ),
    );
  });

  for (const [name, redirect] of [
    ['https', 'https://127.0.0.1:45678/callback'],
    ['another host', 'http://evil.example/callback'],
    ['userinfo trick', 'http://127.0.0.1@evil.example/callback'],
  ] as const) {
    test(`refuses a redirect_url that is not loopback http (${name}) before contacting the IdP`, async () => {
      const response = await step(new CookieJar(rig.ca), cliUrl({ redirect_url: redirect }).url);
      assert.equal(response.status, 400);
      assert.equal(response.location, undefined);
      assert.match(response.text, /redirect_url/);
    });
  }

  test('refuses code_challenge_method plain', async () => {
    const response = await step(new CookieJar(rig.ca), cliUrl({ code_challenge_method: 'plain' }).url);
    assert.equal(response.status, 400);
    assert.match(response.text, /S256/);
  });

  test('refuses a missing state', async () => {
    const response = await step(new CookieJar(rig.ca), cliUrl({ state: '' }).url);
    assert.equal(response.status, 400);
    assert.match(response.text, /state is missing/);
  });

  test('answers 404 for an unknown aud', async () => {
    const response = await step(new CookieJar(rig.ca), cliUrl({ aud: 'aud-nope' }).url);
    assert.equal(response.status, 404);
  });
});

describe('access routes: callback checks', () => {
  test('refuses a callback from another browser (no login cookie: login CSRF)', async () => {
    const victim = new CookieJar(rig.ca);
    const attacker = new CookieJar(rig.ca);
    const loginPage = await follow(attacker, cliUrl().url);
    const posted = await signInAtIdp(attacker, loginPage, 'ada@example.com', 'ada-password');
    const { url: callback } = await follow(attacker, posted.location!, (next) => next.pathname === PATH.callback);
    const response = await step(victim, callback);
    assert.equal(response.status, 400);
    assert.match(response.text, /expired or was started in another browser/);
  });

  test('refuses a replayed callback', async () => {
    const jar = new CookieJar(rig.ca);
    const loginPage = await follow(jar, cliUrl().url);
    const posted = await signInAtIdp(jar, loginPage, 'ada@example.com', 'ada-password');
    const { url: callback } = await follow(jar, posted.location!, (next) => next.pathname === PATH.callback);
    const cookies = jar.header(callback);
    assert.equal((await step(jar, callback)).status, 302);
    const replay = await step(new CookieJar(rig.ca), callback, { headers: { cookie: cookies } });
    assert.equal(replay.status, 400);
  });

  test('refuses a callback with an unknown state', async () => {
    const response = await step(new CookieJar(rig.ca), `${rig.edgeOrigin}${PATH.callback}?code=x&state=made-up`);
    assert.equal(response.status, 400);
  });
});

describe('access routes: browser flow, certs, logout', () => {
  test("login/HOSTNAME signs in on the sign-in host, then /authorized sets the app host's own cookie", async () => {
    const jar = browserJar();
    const loginPage = await follow(jar, `${rig.edgeOrigin}${PATH.login}open.internal`);
    const posted = await signInAtIdp(jar, loginPage, 'eve@example.com', 'eve-password');
    const { url: callbackUrl } = await follow(jar, posted.location!, (next) => next.pathname === PATH.callback);
    const callback = await step(jar, callbackUrl);
    assert.equal(callback.status, 302);
    const handoff = new URL(callback.location!);
    assert.equal(handoff.origin + handoff.pathname, `${appOrigin('open.internal')}${PATH.authorized}`);
    assert.equal(handoff.searchParams.has('token'), false, 'the token never travels in a URL');
    const sessionCookie = setCookieLine(callback, AUTH_COOKIE)!;
    assert.match(sessionCookie, /HttpOnly/);
    assert.match(sessionCookie, /Secure/);
    assert.doesNotMatch(sessionCookie, /Domain=/i, 'host-only');
    const session = await verifyOrganisationToken(jar.get(rig.edgeOrigin, AUTH_COOKIE)!, {
      issuer: rig.edgeOrigin,
      keys: rig.keys,
      revoked: rig.revoked,
    });
    assert.equal(session.email, 'eve@example.com');

    const landed = await step(jar, handoff);
    assert.equal(landed.status, 200);
    assert.match(landed.text, /Signed in to open\.internal/);
    const appCookie = setCookieLine(landed, AUTH_COOKIE)!;
    assert.match(appCookie, /HttpOnly/);
    assert.match(appCookie, /Secure/);
    assert.match(appCookie, /SameSite=Lax/);
    // Max-Age is the app token's remaining lifetime (600 s), so a slow machine may see a second or two less.
    const maxAge = Number(/Max-Age=(\d+);/.exec(appCookie)?.[1]);
    assert.ok(maxAge > 590 && maxAge <= 600, `Max-Age=${maxAge} should be the token's remaining 600 s`);
    assert.match(appCookie, /Expires=\w{3}, /, 'Expires too: cloudflared reads only that');
    assert.doesNotMatch(appCookie, /Domain=/i, 'host-only');
    const principal = await verify(jar.get(appOrigin('open.internal'), AUTH_COOKIE)!, 'aud-open');
    assert.equal(principal.email, 'eve@example.com');
    assert.equal(principal.sessionId, session.sessionId, 'the app token joins the organisation session');
    // (The dev IdP shares the 127.0.0.1 host, and so its cookies, as it would in a browser.)
    assert.deepEqual(
      jar.names(rig.edgeOrigin).filter((name) => name.startsWith(SSO.loginStateCookie)),
      [],
      'the login-state cookie was cleared',
    );
    assert.ok(jar.names(rig.edgeOrigin).includes(AUTH_COOKIE));
  });

  test('a second app on the same sign-in domain needs no trip to the IdP', async () => {
    const jar = browserJar();
    await signInBrowser(jar, 'ada@example.com', 'ada-password', 'open.internal');
    const idpRequestsBefore = rig.logs.filter((line) => line.event === 'login' && line.flow === 'browser').length;
    const answer = await signInHostLogin(jar, 'redis.internal', '?kid=aud-redis');
    assert.equal(answer.status, 302);
    assert.equal(
      new URL(answer.location!).origin,
      appOrigin('redis.internal'),
      'straight to the app host, not the IdP',
    );
    assert.equal(answer.headers[HEADER.accessDomain], 'redis.internal');
    const landed = await step(jar, answer.location!);
    assert.equal(landed.status, 200);
    const principal = await verify(jar.get(appOrigin('redis.internal'), AUTH_COOKIE)!, 'aud-redis');
    assert.equal(principal.email, 'ada@example.com');
    assert.equal(
      rig.logs.filter((line) => line.event === 'login' && line.flow === 'browser').length,
      idpRequestsBefore,
    );
    assert.ok(
      rig.logs.some(
        (line) =>
          line.event === 'login' && line.flow === 'session' && line.app === 'redis.internal' && line.allowed === true,
      ),
    );
  });

  test('the organisation session is refused, with CF-Access-Aud, for an app the policy denies', async () => {
    const jar = browserJar();
    await signInBrowser(jar, 'eve@example.com', 'eve-password', 'open.internal');
    for (const method of ['GET', 'HEAD']) {
      const answer = await signInHostLogin(jar, 'redis.internal', '?kid=aud-redis', { method });
      assert.equal(answer.status, 403, method);
      assert.equal(answer.headers[HEADER.accessAud], 'aud-redis');
      assert.equal(answer.headers[HEADER.accessDomain], 'redis.internal');
    }
    assert.equal(jar.get(appOrigin('redis.internal'), AUTH_COOKIE), undefined);
  });

  test("HEAD on the login path answers with CF-Access-Domain (cloudflared's probe) and keeps nothing", async () => {
    const anonymous = await step(browserJar(), `${rig.edgeOrigin}${PATH.login}open.internal?kid=aud-open`, {
      method: 'HEAD',
    });
    assert.equal(anonymous.status, 200, 'no login state started: no redirect to the IdP');
    assert.equal(anonymous.headers[HEADER.accessDomain], 'open.internal');
    assert.equal(anonymous.headers['set-cookie'], undefined);
    const jar = browserJar();
    await signInBrowser(jar, 'eve@example.com', 'eve-password', 'open.internal');
    // A browser's HEAD (Fetch Metadata) mints no hand-off, signed in or not.
    const signedIn = await step(jar, `${rig.edgeOrigin}${PATH.login}open.internal?kid=aud-open`, {
      method: 'HEAD',
      headers: { 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate' },
    });
    assert.equal(signedIn.status, 200, 'no hand-off minted');
    assert.equal(signedIn.location, undefined);
    assert.equal(signedIn.headers[HEADER.accessDomain], 'open.internal');
    // A program's HEAD with the organisation session is cloudflared's token exchange: it is handed off.
    const exchange = await step(jar, `${rig.edgeOrigin}${PATH.login}open.internal?kid=aud-open`, { method: 'HEAD' });
    assert.equal(exchange.status, 302);
    assert.equal(new URL(exchange.location!).pathname, PATH.authorized);
  });

  test('login and cli requests that reach an app host go to the sign-in host first', async () => {
    const jar = browserJar();
    const login = await step(
      jar,
      `${appOrigin('open.internal')}${PATH.login}open.internal?kid=aud-open&redirect_url=x`,
    );
    assert.equal(login.status, 302);
    const onSignInHost = new URL(login.location!);
    assert.equal(onSignInHost.origin + onSignInHost.pathname, `${rig.edgeOrigin}${PATH.login}open.internal`);
    assert.equal(onSignInHost.searchParams.get('kid'), 'aud-open');
    assert.equal(onSignInHost.searchParams.get('redirect_url'), 'x');
    assert.match(onSignInHost.searchParams.get(SSO.handoffBindingParam)!, /^[\w-]{43}$/, "the binding cookie's hash");
    assert.equal(login.headers[HEADER.accessDomain], 'open.internal');
    assert.deepEqual(jar.names(appOrigin('open.internal')), [SSO.handoffBindingCookie], 'only the binding cookie');
    const { url } = cliUrl();
    const cli = await step(jar, url.replace(rig.edgeOrigin, appOrigin('open.internal')));
    assert.equal(cli.location, url);
  });

  test('a hand-off code is single use and only for its own app host', async () => {
    const jar = browserJar();
    await signInBrowser(jar, 'ada@example.com', 'ada-password', 'open.internal');
    const first = await signInHostLogin(jar, 'redis.internal');
    const wrongHost = await step(jar, first.location!.replace('redis.internal', 'open.internal'));
    assert.equal(wrongHost.status, 400);
    assert.equal(setCookieLine(wrongHost, AUTH_COOKIE), undefined);
    const second = await signInHostLogin(jar, 'redis.internal');
    assert.equal((await step(jar, second.location!)).status, 200);
    const replay = await step(jar, second.location!);
    assert.equal(replay.status, 400);
    assert.match(replay.text, /expired or was already used/);
  });

  test('an organisation session token is never an app token', async () => {
    const jar = browserJar();
    await signInBrowser(jar, 'ada@example.com', 'ada-password', 'open.internal');
    const sessionToken = jar.get(rig.edgeOrigin, AUTH_COOKIE)!;
    await assert.rejects(
      verify(sessionToken, 'aud-open'),
      (error: { details: { reason: string } }) => error.details.reason === 'audience',
    );
    await assert.rejects(
      verify(sessionToken, SSO.organisationAud),
      (error: { details: { reason: string } }) => error.details.reason === 'type',
    );
  });

  test('returns to an https URL on the app hostname after login', async () => {
    const jar = browserJar();
    const start = `${rig.edgeOrigin}${PATH.login}open.internal?redirect_url=${encodeURIComponent(`${appOrigin('open.internal')}/dashboard`)}`;
    const posted = await signInAtIdp(jar, await follow(jar, start), 'eve@example.com', 'eve-password');
    const { url } = await follow(
      jar,
      posted.location!,
      (next) => next.hostname === 'open.internal' && next.pathname !== PATH.authorized,
    );
    assert.equal(url.href, `${appOrigin('open.internal')}/dashboard`);
    assert.ok(jar.get(appOrigin('open.internal'), AUTH_COOKIE));
  });

  test('is not an open redirect: a foreign redirect_url is ignored', async () => {
    const jar = browserJar();
    const start = `${rig.edgeOrigin}${PATH.login}open.internal?redirect_url=${encodeURIComponent('https://evil.example/')}`;
    const posted = await signInAtIdp(jar, await follow(jar, start), 'eve@example.com', 'eve-password');
    const { response, url } = await follow(jar, posted.location!, (next) => next.hostname === 'evil.example');
    assert.notEqual(url.hostname, 'evil.example');
    assert.match(response!.text, /Signed in to open\.internal/);
  });

  test('answers 404 for an unknown hostname', async () => {
    const response = await step(new CookieJar(rig.ca), `${rig.edgeOrigin}${PATH.login}nope.internal`);
    assert.equal(response.status, 404);
    assert.match(response.text, /nope\.internal/);
  });

  test('answers 400 with the reason for a malformed %-escape in the hostname', async () => {
    const response = await step(new CookieJar(rig.ca), `${rig.edgeOrigin}${PATH.login}%E0%A4%A`);
    assert.equal(response.status, 400);
    assert.match(response.text, /the application hostname in the path has a malformed %-escape/);
  });

  test('certs publishes the JWKS (public keys only)', async () => {
    const response = await step(new CookieJar(rig.ca), `${rig.edgeOrigin}${PATH.certs}`);
    assert.equal(response.status, 200);
    const jwks = JSON.parse(response.text) as { keys: Array<Record<string, unknown>> };
    assert.deepEqual(
      jwks.keys.map((key) => key.kid),
      rig.keys.kids(),
    );
    assert.ok(jwks.keys.every((key) => !('d' in key)));
  });

  test('logout with the token header revokes the session', async () => {
    const jar = new CookieJar(rig.ca);
    const { url, verifier } = cliUrl();
    const { loopback } = await cliLogin(jar, 'ada@example.com', 'ada-password', url);
    const { body } = await exchange({ code: loopback!.searchParams.get('code')!, code_verifier: verifier });
    const token = body.token as string;
    await verify(token);
    const response = await step(new CookieJar(rig.ca), `${rig.edgeOrigin}${PATH.logout}`, {
      method: 'POST',
      headers: { [HEADER.accessToken]: token },
    });
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.text), { signed_out: true });
    await assert.rejects(verify(token), (error: { code: string }) => error.code === 'TOKEN_REVOKED');
  });

  test('logout on the sign-in host ends the organisation session and every app token minted from it', async () => {
    const jar = browserJar();
    await signInBrowser(jar, 'ada@example.com', 'ada-password', 'open.internal');
    await step(jar, (await signInHostLogin(jar, 'redis.internal')).location!);
    const openToken = jar.get(appOrigin('open.internal'), AUTH_COOKIE)!;
    const redisToken = jar.get(appOrigin('redis.internal'), AUTH_COOKIE)!;
    const response = await step(jar, `${rig.edgeOrigin}${PATH.logout}`, {
      method: 'POST',
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    assert.equal(response.status, 200);
    assert.match(response.text, /Signed out/);
    assert.equal(jar.get(rig.edgeOrigin, AUTH_COOKIE), undefined);
    await assert.rejects(verify(openToken, 'aud-open'), (error: { code: string }) => error.code === 'TOKEN_REVOKED');
    await assert.rejects(verify(redisToken, 'aud-redis'), (error: { code: string }) => error.code === 'TOKEN_REVOKED');
    const again = await signInHostLogin(jar, 'redis.internal');
    assert.equal(new URL(again.location!).origin, rig.idp.issuer, 'the next app asks the IdP again');
  });

  test('logout with an app token ends its organisation session too', async () => {
    const jar = browserJar();
    await signInBrowser(jar, 'ada@example.com', 'ada-password', 'open.internal');
    const appToken = jar.get(appOrigin('open.internal'), AUTH_COOKIE)!;
    const sessionToken = jar.get(rig.edgeOrigin, AUTH_COOKIE)!;
    const response = await step(new CookieJar(rig.ca), `${rig.edgeOrigin}${PATH.logout}`, {
      method: 'POST',
      headers: { [HEADER.accessToken]: appToken },
    });
    assert.deepEqual(JSON.parse(response.text), { signed_out: true });
    await assert.rejects(
      verifyOrganisationToken(sessionToken, { issuer: rig.edgeOrigin, keys: rig.keys, revoked: rig.revoked }),
      (error: { code: string }) => error.code === 'TOKEN_REVOKED',
    );
  });

  test('logout with a forged token revokes nothing', async () => {
    const revokedBefore = rig.revoked.size;
    const forged = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"aud":["aud-redis"],"sid":"x"}').toString('base64url')}.`;
    const response = await step(new CookieJar(rig.ca), `${rig.edgeOrigin}${PATH.logout}`, {
      method: 'POST',
      headers: { [HEADER.accessToken]: forged },
    });
    assert.deepEqual(JSON.parse(response.text), { signed_out: false });
    assert.equal(rig.revoked.size, revokedBefore);
  });

  test('paths outside /cdn-cgi/access/ are not handled', async () => {
    const response = await step(new CookieJar(rig.ca), `${rig.edgeOrigin}/cdn-cgi/access/unknown`);
    assert.equal(response.text, 'not an access route');
  });
});

describe('access routes: IdP unreachable', () => {
  test('answers 502 with a clear page when the IdP cannot be reached', async () => {
    const down = await startRig({ idpIssuer: 'http://127.0.0.1:9' });
    try {
      const bound = `${down.edgeOrigin}${PATH.login}open.internal?${SSO.handoffBindingParam}=${'b'.repeat(43)}`;
      const response = await step(new CookieJar(down.ca), bound);
      assert.equal(response.status, 502);
      assert.match(response.text, /identity provider could not be reached/);
      assert.ok(down.logs.some((line) => line.code === 'IDP_UNREACHABLE'));
    } finally {
      await down.close();
    }
  });
});
