// The sign-in routes of an edge in front of a real OpenID provider, driven in Chromium: LemonLDAP::NG
// from Debian (lemonldap.ts), or the built-in IdP set up the same way (the demo users, email and
// groups from userinfo only). One provider per suite file, the edge's `idp:` block swapped per test.
//
//   const rig = providerRig('lemonldap');  // registers before/after; rig.missing is the skip reason
//   await rig.useIdp({ ...PROVIDER_CLIENTS.dashed, tokenEndpointAuthMethod: 'client_secret_post' });
//   await rig.withPage(async (page) => assert.equal(await rig.signIn(page, 'mail.internal', 'dwho'), 'Signed in to mail.internal'));
// Apps: mail.internal admits dwho by email; earth.internal admits the earthlings group (rtyler, msmith).
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createAccessRoutes, type AccessApp, type AccessRoutes } from '../../src/edge/sign-in/access-routes.js';
import { OidcRelyingParty, type IdpConfig } from '../../src/edge/sign-in/oidc-login.js';
import { RevocationList } from '../../src/edge/tokens/revocation-list.js';
import { SigningKeys } from '../../src/edge/tokens/signing-keys.js';
import { PATH } from '../../src/shared/constants.js';
import { chromiumMissing, launchChromium } from './browser.js';
import { startIdp } from '../../src/idp/provider.js';
import { DEMO_USERS, lemonldapMissing, startLemonldap } from './lemonldap.js';
import { selfSignedLoopbackCert } from './tls.js';

/** Registered at the provider: one id with a "-" (form-encoded inside Basic), one without. */
export const PROVIDER_CLIENTS = {
  dashed: { clientId: 'airlock-edge', clientSecret: 'dashed-client-secret' },
  plain: { clientId: 'airlockplain', clientSecret: 'plainclientsecret' },
};

const APPS: AccessApp[] = [
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

export type ProviderKind = 'lemonldap' | 'built-in';

interface RunningProvider {
  issuer: string;
  close(): Promise<void>;
}

/** The built-in IdP with LemonLDAP::NG's demo users (password = login) and its default claim placement. */
async function startBuiltIn(clients: Array<{ clientId: string; clientSecret: string; redirectUris: string[] }>) {
  return startIdp({
    users: Object.entries(DEMO_USERS).map(([login, user]) => ({
      email: user.email,
      password: login,
      groups: [...user.groups],
    })),
    clients: clients.map((client) => ({ ...client, tokenEndpointAuthMethod: 'client_secret_post' as const })),
    claimsInIdToken: false,
  });
}

export function providerRig(kind: ProviderKind) {
  const missing = chromiumMissing ?? (kind === 'lemonldap' ? lemonldapMissing() : undefined);
  let provider: RunningProvider | undefined;
  let browser: Browser | undefined;
  let server: https.Server | undefined;
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
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    edgeOrigin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const redirectUris = [`${edgeOrigin}${PATH.callback}`];
    const clients = Object.values(PROVIDER_CLIENTS).map((client) => ({ ...client, redirectUris }));
    if (kind === 'lemonldap') {
      const lemonldap = await startLemonldap({ clients });
      console.log(`# LemonLDAP::NG answered discovery ${lemonldap.startupMs} ms after its start`);
      provider = lemonldap;
    } else {
      provider = await startBuiltIn(clients);
    }
    browser = await launchChromium({ mapToLoopback: ['*.internal'] });
  });

  after(async () => {
    await browser?.close();
    await provider?.close();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    }
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  /** The edge's sign-in routes as edge.yaml `idp:` would configure them. */
  async function useIdp(idp: Omit<IdpConfig, 'issuer'>): Promise<OidcRelyingParty> {
    const keys = await SigningKeys.open(join(stateDir, 'keys'));
    const revoked = await RevocationList.open(join(stateDir, 'revoked.json'));
    const rp = new OidcRelyingParty(
      { issuer: provider!.issuer, ...idp },
      { redirectUri: `${edgeOrigin}${PATH.callback}`, timeoutSeconds: 20 },
    );
    routes = createAccessRoutes({
      publicUrl: edgeOrigin,
      findAppByAud: (aud) => APPS.find((app) => app.aud === aud),
      findAppByHostname: (hostname) => APPS.find((app) => app.hostname === hostname),
      tokens: { keys, revoked },
      idp: rp,
      log: { info: (fields) => logs.push(fields), warn: (fields) => logs.push(fields) },
    });
    return rp;
  }

  /** A fresh browser profile: no provider session, no edge cookies. */
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
    assert.equal(new URL(page.url()).origin, provider!.issuer, 'sent to the provider');
    // Demo users' password is their login.
    if (kind === 'lemonldap') {
      await page.locator('input[name=user]').fill(login);
      await page.locator('input[name=password]').fill(login);
      await page.locator('button[type=submit]').first().click();
    } else {
      await page.getByLabel('Email').fill(DEMO_USERS[login].email);
      await page.getByLabel('Password').fill(login);
      await page.getByRole('button', { name: 'Sign in' }).click();
    }
    return edgeHeading(page);
  }

  /** The provider's own sign-out page, reached from the edge's: LemonLDAP::NG skips its question for our RP. */
  async function confirmProviderSignOut(page: Page): Promise<void> {
    await page.waitForURL((url) => url.origin === provider!.issuer, { timeout: 30_000 });
    if (kind === 'built-in') await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForLoadState('load');
  }

  /** The provider asks for a password: its session is gone. */
  async function providerAsksForPassword(page: Page): Promise<void> {
    assert.equal(new URL(page.url()).origin, provider!.issuer);
    await page.locator('input[name=password]').waitFor({ timeout: 15_000 });
  }

  async function edgeHeading(page: Page): Promise<string> {
    const heading = page.locator('main h1');
    try {
      await heading.waitFor({ timeout: 30_000 });
    } catch (error) {
      const body = (await page.textContent('body').catch(() => ''))?.replace(/\s+/g, ' ').slice(0, 600);
      throw new Error(`no edge page at ${page.url()}: ${body}`, { cause: error });
    }
    return (await heading.textContent()) ?? '';
  }

  return {
    missing,
    logs,
    useIdp,
    withPage,
    signIn,
    edgeHeading,
    confirmProviderSignOut,
    providerAsksForPassword,
    get edgeOrigin() {
      return edgeOrigin;
    },
    get issuer() {
      return provider!.issuer;
    },
  };
}
