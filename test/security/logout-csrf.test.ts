// Sign-out cannot be triggered from another site: a GET only shows a confirmation page, and a
// cookie sign-out is a POST from the edge's own origin (Sec-Fetch-Site, or Origin). The CLI and
// tray, which present the token in a header, sign out as before.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { verifyOrganisationToken } from '../../src/edge/sign-in/organisation-session.js';
import { AUTH_COOKIE, PATH } from '../../src/shared/constants.js';
import { chromiumMissing, launchChromium } from '../helpers/browser.js';
import { CookieJar, follow, signInAtIdp, step } from '../helpers/cookie-fetch.js';
import { startRig, type Rig } from '../helpers/sso-rig.js';

let rig: Rig;
before(async () => {
  rig = await startRig();
});
after(() => rig.close());

async function signedInJar(): Promise<{ jar: CookieJar; session: string }> {
  const jar = new CookieJar(rig.ca, '127.0.0.1');
  const posted = await signInAtIdp(
    jar,
    await follow(jar, `${rig.edgeOrigin}${PATH.login}open.internal`),
    'ada@example.com',
    'ada-password',
  );
  await follow(jar, posted.location!);
  return { jar, session: jar.get(rig.edgeOrigin, AUTH_COOKIE)! };
}

const live = (session: string) =>
  verifyOrganisationToken(session, { issuer: rig.edgeOrigin, keys: rig.keys, revoked: rig.revoked }).then(
    () => true,
    () => false,
  );

test('a GET on the sign-out path (a link on any site) only asks for confirmation', async () => {
  const { jar, session } = await signedInJar();
  const answer = await step(jar, `${rig.edgeOrigin}${PATH.logout}`, { headers: { 'sec-fetch-site': 'cross-site' } });
  assert.equal(answer.status, 200);
  assert.match(answer.text, /Sign out\?/);
  assert.match(answer.text, /<form method="post">/);
  assert.equal(await live(session), true, 'still signed in');
  assert.ok(jar.get(rig.edgeOrigin, AUTH_COOKIE), 'the cookie is kept');
});

test('a cross-site POST with the cookie is refused', async () => {
  const { jar, session } = await signedInJar();
  const attempts: Record<string, string>[] = [
    { 'sec-fetch-site': 'cross-site' },
    { 'sec-fetch-site': 'same-site' },
    { origin: 'https://evil.example' },
    {},
  ];
  for (const headers of attempts) {
    const answer = await step(jar, `${rig.edgeOrigin}${PATH.logout}`, { method: 'POST', headers });
    assert.equal(answer.status, 403, JSON.stringify(headers));
  }
  assert.equal(await live(session), true);
});

test('the confirmation button signs out in a real browser', async (t) => {
  if (chromiumMissing) return t.skip(chromiumMissing);
  const browser = await launchChromium({ mapToLoopback: ['*.internal'] });
  try {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(`${rig.edgeOrigin}${PATH.login}open.internal`);
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill('ada-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Signed in to open.internal' }).waitFor();
    const session = (await context.cookies(rig.edgeOrigin)).find((cookie) => cookie.name === AUTH_COOKIE)!.value;
    await page.goto(`${rig.edgeOrigin}${PATH.logout}`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Signed out' }).waitFor();
    assert.equal(await live(session), false);
  } finally {
    await browser.close();
  }
});
