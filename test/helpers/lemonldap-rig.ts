// The sign-in routes of an edge in front of LemonLDAP::NG (lemonldap.ts), driven in Chromium:
// one provider per suite file, the edge's `idp:` block swapped per test (useIdp).
//
//   const rig = lemonldapRig();        // registers before/after; rig.missing is the skip reason
//   await rig.useIdp({ ...LEMONLDAP_CLIENTS.dashed, tokenEndpointAuthMethod: 'client_secret_post' });
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
import { DEMO_USERS, lemonldapMissing, startLemonldap, type RunningLemonldap } from './lemonldap.js';
import { selfSignedLoopbackCert } from './tls.js';

/** Registered at the provider: one id with a "-" (form-encoded inside Basic), one without. */
export const LEMONLDAP_CLIENTS = {
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

export function lemonldapRig() {
  const missing = chromiumMissing ?? lemonldapMissing();
  let provider: RunningLemonldap | undefined;
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
    provider = await startLemonldap({
      clients: Object.values(LEMONLDAP_CLIENTS).map((client) => ({ ...client, redirectUris })),
    });
    console.log(`# LemonLDAP::NG answered discovery ${provider.startupMs} ms after its start`);
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
    assert.equal(new URL(page.url()).origin, provider!.issuer, 'sent to LemonLDAP::NG');
    await page.locator('input[name=user]').fill(login);
    await page.locator('input[name=password]').fill(login); // demo users' password is their login
    await page.locator('button[type=submit]').first().click();
    return edgeHeading(page);
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
    get edgeOrigin() {
      return edgeOrigin;
    },
    get issuer() {
      return provider!.issuer;
    },
  };
}
