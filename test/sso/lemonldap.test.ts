// The edge against an OpenID provider written by someone else: LemonLDAP::NG 2.16 from Debian,
// with its default claim settings (email and groups from userinfo, not in the ID token), driven
// in real Chromium. Email and group policies, the provider's sign-out, both secret-based client
// authentications, a client id with a "-" in it, and the provider's own error when it refuses.
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createAccessRoutes, type AccessApp, type AccessRoutes } from '../../src/edge/sign-in/access-routes.js';
import { OidcRelyingParty, type IdpConfig } from '../../src/edge/sign-in/oidc-login.js';
import { RevocationList } from '../../src/edge/tokens/revocation-list.js';
import { SigningKeys } from '../../src/edge/tokens/signing-keys.js';
import { PATH, SSO } from '../../src/shared/constants.js';
import { chromiumMissing, launchChromium } from '../helpers/browser.js';
import { DEMO_USERS, lemonldapMissing, startLemonldap, type RunningLemonldap } from '../helpers/lemonldap.js';
import { selfSignedLoopbackCert } from '../helpers/tls.js';

const missing = chromiumMissing ?? lemonldapMissing();
const DASHED = { clientId: 'airlock-edge', clientSecret: 'dashed-client-secret' };
const PLAIN = { clientId: 'airlockplain', clientSecret: 'plainclientsecret' };

/** mail.internal admits dwho by email; earth.internal admits the earthlings group (rtyler, msmith). */
const apps: AccessApp[] = [
  {
    hostname: 'mail.internal',
    aud: 'aud-mail',
    sessionMs: 600_000,
    evaluate: (principal) =>
      principal.email === DEMO_USERS.dwho.email
        ? { allowed: true, reason: 'email' }
        : { allowed: false, reason: 'not the email' },
  },
  {
    hostname: 'earth.internal',
    aud: 'aud-earth',
    sessionMs: 600_000,
    evaluate: (principal) =>
      principal.groups.includes('earthlings')
        ? { allowed: true, reason: 'group earthlings' }
        : { allowed: false, reason: 'not in group earthlings' },
  },
];

let provider: RunningLemonldap | undefined;
let browser: Browser | undefined;
let server: https.Server;
let edgeOrigin = '';
let stateDir = '';
let routes: AccessRoutes | undefined;
const logs: Array<Record<string, unknown>> = [];

before(async () => {
  if (missing) return;
  stateDir = await mkdtemp(join(tmpdir(), 'airlock-lemonldap-edge-'));
  const { cert, key } = selfSignedLoopbackCert();
  server = https.createServer({ cert, key }, (req, res) => {
    routes!(req, res).then(
      (handled) => {
        if (!handled) res.writeHead(404).end();
      },
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  edgeOrigin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const redirectUris = [`${edgeOrigin}${PATH.callback}`];
  provider = await startLemonldap({ clients: [DASHED, PLAIN].map((client) => ({ ...client, redirectUris })) });
  console.log(`# LemonLDAP::NG answered discovery ${provider.startupMs} ms after start`);
  browser = await launchChromium({ mapToLoopback: ['*.internal'] });
});

after(async () => {
  await browser?.close();
  await provider?.close();
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

/** The edge's sign-in routes as edge.yaml `idp:` would configure them. */
async function useIdp(idp: Omit<IdpConfig, 'issuer'>): Promise<OidcRelyingParty> {
  const keys = await SigningKeys.open(join(stateDir, 'keys'));
  const revoked = await RevocationList.open(join(stateDir, 'revoked.json'));
  const rp = new OidcRelyingParty(
    { issuer: provider!.issuer, ...idp },
    { redirectUri: `${edgeOrigin}${PATH.callback}`, timeoutSeconds: 10 },
  );
  routes = createAccessRoutes({
    publicUrl: edgeOrigin,
    findAppByAud: (aud) => apps.find((app) => app.aud === aud),
    findAppByHostname: (hostname) => apps.find((app) => app.hostname === hostname),
    tokens: { keys, revoked },
    idp: rp,
    log: { info: (fields) => logs.push(fields), warn: (fields) => logs.push(fields) },
  });
  return rp;
}

async function withPage(run: (page: Page) => Promise<void>): Promise<void> {
  const context = await browser!.newContext({ ignoreHTTPSErrors: true });
  try {
    await run(await context.newPage());
  } finally {
    await context.close();
  }
}

/** Opens an app's sign-in, fills the provider's form, and returns the heading the edge ends on. */
async function signIn(page: Page, hostname: string, login: keyof typeof DEMO_USERS): Promise<string> {
  await page.goto(`${edgeOrigin}${PATH.login}${hostname}`);
  assert.equal(new URL(page.url()).origin, provider!.issuer, 'sent to LemonLDAP::NG');
  await fillProviderForm(page, login);
  return edgeHeading(page);
}

async function fillProviderForm(page: Page, login: string): Promise<void> {
  await page.locator('input[name=user]').fill(login);
  await page.locator('input[name=password]').fill(login); // demo users' password is their login
  await page.locator('button[type=submit]').first().click();
}

async function edgeHeading(page: Page): Promise<string> {
  const heading = page.locator('main h1');
  try {
    await heading.waitFor({ timeout: 20_000 });
  } catch (error) {
    const body = (await page.textContent('body').catch(() => ''))?.replace(/\s+/g, ' ').slice(0, 600);
    throw new Error(`no edge page at ${page.url()}: ${body}`, { cause: error });
  }
  return (await heading.textContent()) ?? '';
}

describe('LemonLDAP::NG from Debian, default claim settings', () => {
  test('email policy: dwho is admitted, rtyler refused; email and groups came from userinfo', async (t) => {
    if (missing) return t.skip(missing);
    await useIdp({ ...DASHED, tokenEndpointAuthMethod: 'client_secret_post' });
    await withPage(async (page) => {
      assert.equal(await signIn(page, 'mail.internal', 'dwho'), 'Signed in to mail.internal');
      // The provider's defaults keep email and groups out of the ID token (kept as the logout hint).
      const hint = (await page.context().cookies(`${edgeOrigin}${PATH.logout}`)).find(
        (cookie) => cookie.name === SSO.idTokenHintCookie,
      );
      const claims = JSON.parse(Buffer.from(hint!.value.split('.')[1]!, 'base64url').toString()) as Record<
        string,
        unknown
      >;
      assert.equal(claims.sub, 'dwho');
      assert.equal(claims.email, undefined);
      assert.equal(claims.groups, undefined);
    });
    await withPage(async (page) => assert.equal(await signIn(page, 'mail.internal', 'rtyler'), 'Access denied'));
    const decisions = logs.filter((line) => line.event === 'login' && line.app === 'mail.internal');
    assert.deepEqual(
      decisions.slice(-2).map((line) => [line.email, line.allowed]),
      [
        [DEMO_USERS.dwho.email, true],
        [DEMO_USERS.rtyler.email, false],
      ],
    );
  });

  test('group policy: rtyler (earthlings) is admitted, dwho (timelords) refused', async (t) => {
    if (missing) return t.skip(missing);
    await useIdp({ ...DASHED, tokenEndpointAuthMethod: 'client_secret_post' });
    await withPage(async (page) =>
      assert.equal(await signIn(page, 'earth.internal', 'rtyler'), 'Signed in to earth.internal'),
    );
    await withPage(async (page) => assert.equal(await signIn(page, 'earth.internal', 'dwho'), 'Access denied'));
  });

  test('sign-out ends the provider session too: the next sign-in asks for the password again', async (t) => {
    if (missing) return t.skip(missing);
    await useIdp({ ...DASHED, tokenEndpointAuthMethod: 'client_secret_post' });
    await withPage(async (page) => {
      assert.equal(await signIn(page, 'mail.internal', 'dwho'), 'Signed in to mail.internal');
      await page.goto(`${edgeOrigin}${PATH.logout}`);
      await page.getByRole('button', { name: 'Sign out' }).click();
      assert.equal(await edgeHeading(page), 'Signed out');
      assert.match((await page.textContent('main')) ?? '', /signed out of your identity provider at 127\.0\.0\.1:\d+/);
      // The page sends the browser on to end_session_endpoint, with the ID token as the hint.
      await page.waitForURL((url) => url.origin === provider!.issuer, { timeout: 15_000 });
      await page.waitForLoadState('load');
      await page.goto(`${edgeOrigin}${PATH.login}mail.internal`);
      assert.equal(new URL(page.url()).origin, provider!.issuer);
      await page.locator('input[name=password]').waitFor({ timeout: 10_000 });
    });
    assert.ok(logs.some((line) => line.event === 'logout-idp' && line.hinted === true));
  });

  test('with rpInitiatedLogout: false the provider session survives sign-out (the next sign-in is silent)', async (t) => {
    if (missing) return t.skip(missing);
    await useIdp({ ...DASHED, tokenEndpointAuthMethod: 'client_secret_post', rpInitiatedLogout: false });
    await withPage(async (page) => {
      assert.equal(await signIn(page, 'mail.internal', 'dwho'), 'Signed in to mail.internal');
      await page.goto(`${edgeOrigin}${PATH.logout}`);
      await page.getByRole('button', { name: 'Sign out' }).click();
      assert.equal(await edgeHeading(page), 'Signed out');
      assert.doesNotMatch((await page.textContent('main')) ?? '', /identity provider/);
      await page.goto(`${edgeOrigin}${PATH.login}mail.internal`);
      assert.equal(await edgeHeading(page), 'Signed in to mail.internal');
    });
  });

  test('client_secret_basic works with a client id that Basic leaves unchanged', async (t) => {
    if (missing) return t.skip(missing);
    const rp = await useIdp({ ...PLAIN, tokenEndpointAuthMethod: 'client_secret_basic' });
    await withPage(async (page) =>
      assert.equal(await signIn(page, 'earth.internal', 'msmith'), 'Signed in to earth.internal'),
    );
    assert.equal(await rp.authMethod(), 'client_secret_basic');
  });

  test('unset, the method is chosen from discovery: client_secret_post for "airlock-edge"', async (t) => {
    if (missing) return t.skip(missing);
    const rp = await useIdp(DASHED);
    await withPage(async (page) =>
      assert.equal(await signIn(page, 'earth.internal', 'msmith'), 'Signed in to earth.internal'),
    );
    assert.equal(await rp.authMethod(), 'client_secret_post');
  });

  test('client_secret_basic with "airlock-edge": the provider\'s invalid_client is shown and logged', async (t) => {
    if (missing) return t.skip(missing);
    await useIdp({ ...DASHED, tokenEndpointAuthMethod: 'client_secret_basic' });
    await withPage(async (page) => {
      assert.equal(await signIn(page, 'mail.internal', 'dwho'), 'Sign-in failed');
      assert.match((await page.textContent('main')) ?? '', /token endpoint refused the sign-in: invalid_client/);
    });
    const refusal = [...logs].reverse().find((line) => line.event === 'access-error');
    assert.equal(refusal?.code, 'IDP_CLIENT_REFUSED');
    assert.match(String(refusal?.message), /invalid_client/);
  });
});
