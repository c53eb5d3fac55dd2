// The two hand-offs of a sign-in that a link from another site could abuse. A native-app sign-in
// (/cdn-cgi/access/cli) that the browser's organisation session would complete shows who asks and
// goes on only on a same-origin POST from that page; a hand-off code (/authorized?code=) works
// only in the browser that started the sign-in, so a code minted for someone else signs no one in.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { s256 } from '../../src/edge/sign-in/login-codes.js';
import { verifyOrganisationToken } from '../../src/edge/sign-in/organisation-session.js';
import { AUTH_COOKIE, PATH, SSO } from '../../src/shared/constants.js';
import { CookieJar, follow, signInAtIdp, step } from '../helpers/cookie-fetch.js';
import { startRig, type Rig } from '../helpers/sso-rig.js';

let rig: Rig;
before(async () => {
  rig = await startRig();
});
after(() => rig.close());

const appOrigin = (hostname: string) => `https://${hostname}:${new URL(rig.edgeOrigin).port}`;
const browser = () => new CookieJar(rig.ca, '127.0.0.1');

async function signedInBrowser(email: string, password: string): Promise<CookieJar> {
  const jar = browser();
  const posted = await signInAtIdp(
    jar,
    await follow(jar, `${appOrigin('open.internal')}${PATH.login}open.internal`),
    email,
    password,
  );
  assert.equal((await follow(jar, posted.location!)).response!.status, 200);
  return jar;
}

/** What an attacker puts in a link: their own PKCE challenge and loopback port, aud of the organisation. */
function attackerLink() {
  const verifier = randomBytes(32).toString('base64url');
  const params = {
    aud: SSO.organisationAud,
    redirect_url: 'http://127.0.0.1:45999/callback',
    state: randomBytes(16).toString('base64url'),
    code_challenge: s256(verifier),
    code_challenge_method: 'S256',
  };
  return { params, verifier, url: `${rig.edgeOrigin}${PATH.cli}?${new URLSearchParams(params)}` };
}

async function exchange(code: string, verifier: string) {
  const response = await step(new CookieJar(rig.ca), `${rig.edgeOrigin}${PATH.token}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, code_verifier: verifier }),
  });
  return { status: response.status, body: JSON.parse(response.text) as Record<string, unknown> };
}

test("a cross-site link to the native-app entry does not hand the victim's organisation session to a local listener", async () => {
  const victim = await signedInBrowser('ada@example.com', 'ada-password');
  const link = attackerLink();
  const page = await step(victim, link.url, { headers: { 'sec-fetch-site': 'cross-site' } });
  assert.equal(page.status, 200, 'a page, not a redirect to the listener');
  assert.equal(page.location, undefined);
  assert.match(page.text, /this computer/);
  assert.match(page.text, /ada@example\.com/);
  assert.match(page.text, /your organisation/);
  assert.match(page.text, /45999/);
  const token = /name="consent" value="([\w-]{43})"/.exec(page.text)?.[1];
  assert.ok(token, 'the form carries a consent token');
  const form = new URLSearchParams({ ...link.params, consent: token }).toString();
  const post = (headers: Record<string, string>, jar = victim) =>
    step(jar, `${rig.edgeOrigin}${PATH.cli}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: form,
    });
  for (const [name, answer] of [
    ['a cross-site POST', await post({ 'sec-fetch-site': 'cross-site' })],
    ['a POST from another origin', await post({ origin: 'https://evil.example' })],
    [
      'a POST without the consent cookie',
      await post(
        { 'sec-fetch-site': 'same-origin' },
        (() => {
          const other = browser();
          other.store(new URL(rig.edgeOrigin), [`${AUTH_COOKIE}=${victim.get(rig.edgeOrigin, AUTH_COOKIE)}`]);
          return other;
        })(),
      ),
    ],
  ] as const) {
    assert.equal(answer.status, 403, name);
    assert.equal(answer.location, undefined, `${name}: no code`);
  }
  const confirmed = await post({ 'sec-fetch-site': 'same-origin' });
  assert.equal(confirmed.status, 302, 'the user pressed Continue on the page');
  const landed = new URL(confirmed.location!);
  assert.equal(landed.origin, 'http://127.0.0.1:45999');
  assert.equal(landed.searchParams.get('state'), link.params.state);
  const { status, body } = await exchange(landed.searchParams.get('code')!, link.verifier);
  assert.equal(status, 200);
  const session = await verifyOrganisationToken(body.token as string, { issuer: rig.edgeOrigin, keys: rig.keys });
  assert.equal(session.email, 'ada@example.com');
});

test('a hand-off link minted for another browser does not sign this one in (login CSRF)', async () => {
  const attacker = await signedInBrowser('eve@example.com', 'eve-password');
  const mint = async () => {
    const bound = await step(attacker, `${appOrigin('open.internal')}${PATH.login}open.internal`);
    const handoff = await step(attacker, bound.location!);
    assert.equal(new URL(handoff.location!).pathname, PATH.authorized);
    return handoff.location!;
  };
  const victim = browser();
  const navigation = { 'sec-fetch-mode': 'navigate', 'sec-fetch-site': 'cross-site' };
  const refused = await step(victim, await mint(), { headers: navigation });
  assert.equal(refused.status, 400);
  assert.match(refused.text, /another browser/);
  assert.equal(victim.get(appOrigin('open.internal'), AUTH_COOKIE), undefined, 'no cookie set on the app host');
  // A code minted without a binding (as for cloudflared's org-token exchange, which keeps no cookies)
  // is refused to a browser too: it cannot be sent as a link either.
  const unbound = await step(attacker, `${rig.edgeOrigin}${PATH.login}open.internal`);
  assert.equal(new URL(unbound.location!).pathname, PATH.authorized, 'a non-browser client gets its code');
  const refusedUnbound = await step(victim, unbound.location!, { headers: navigation });
  assert.equal(refusedUnbound.status, 400);
  assert.equal(victim.get(appOrigin('open.internal'), AUTH_COOKIE), undefined);
  const own = await step(attacker, await mint());
  assert.equal(own.status, 200, 'the browser that started it is signed in');
  assert.ok(attacker.get(appOrigin('open.internal'), AUTH_COOKIE));
});
