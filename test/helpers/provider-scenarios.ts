// The sign-in scenarios every provider must pass, in real Chromium, with the provider's claims
// only in userinfo: test/sso/lemonldap*.test.ts run them against LemonLDAP::NG from Debian,
// built-in-provider.test.ts against the built-in IdP. Policies: an email policy and a group
// policy, each admitting one demo user and refusing another. Sign-out: the provider's session ends
// too (and not, when turned off). Client authentication: post and basic, a client id with "-".
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { PATH, SSO } from '../../src/shared/constants.js';
import { DEMO_USERS } from './lemonldap.js';
import { PROVIDER_CLIENTS, providerRig, type ProviderKind } from './provider-rig.js';

export function policyScenarios(kind: ProviderKind, title: string): void {
  const rig = providerRig(kind);
  describe(`${title}: policies`, () => {
    test('email policy: dwho is admitted, rtyler refused; email and groups came from userinfo', async (t) => {
      if (rig.missing) return t.skip(rig.missing);
      await rig.useIdp({ ...PROVIDER_CLIENTS.dashed, tokenEndpointAuthMethod: 'client_secret_post' });
      await rig.withPage(async (page) => {
        assert.equal(await rig.signIn(page, 'mail.internal', 'dwho'), 'Signed in to mail.internal');
        // The provider's defaults keep email and groups out of the ID token (kept as the sign-out hint).
        const hint = (await page.context().cookies(`${rig.edgeOrigin}${PATH.logout}`)).find(
          (cookie) => cookie.name === SSO.idTokenHintCookie,
        );
        const claims = JSON.parse(Buffer.from(hint!.value.split('.')[1]!, 'base64url').toString()) as Record<
          string,
          unknown
        >;
        assert.equal(typeof claims.sub, 'string');
        assert.equal(claims.email, undefined);
        assert.equal(claims.groups, undefined);
      });
      await rig.withPage(async (page) =>
        assert.equal(await rig.signIn(page, 'mail.internal', 'rtyler'), 'Access denied'),
      );
      const decisions = rig.logs.filter((line) => line.event === 'login' && line.app === 'mail.internal');
      assert.deepEqual(
        decisions.slice(-2).map((line) => [line.email, line.allowed]),
        [
          [DEMO_USERS.dwho.email, true],
          [DEMO_USERS.rtyler.email, false],
        ],
      );
    });

    test('group policy: rtyler (earthlings) is admitted, dwho (timelords) refused; "airlock-edge" gets client_secret_post from discovery', async (t) => {
      if (rig.missing) return t.skip(rig.missing);
      const rp = await rig.useIdp(PROVIDER_CLIENTS.dashed);
      await rig.withPage(async (page) =>
        assert.equal(await rig.signIn(page, 'earth.internal', 'rtyler'), 'Signed in to earth.internal'),
      );
      await rig.withPage(async (page) =>
        assert.equal(await rig.signIn(page, 'earth.internal', 'dwho'), 'Access denied'),
      );
      assert.equal(await rp.authMethod(), 'client_secret_post');
    });
  });
}

export function signOutScenarios(kind: ProviderKind, title: string): void {
  const rig = providerRig(kind);

  /** Presses the edge's sign-out button; returns the signed-out page as the edge sent it. */
  async function signOut(page: Page): Promise<{ text: string; refresh: string | undefined }> {
    await page.goto(`${rig.edgeOrigin}${PATH.logout}`);
    const [response] = await Promise.all([
      page.waitForResponse((candidate) => candidate.request().method() === 'POST'),
      page.getByRole('button', { name: 'Sign out' }).click(),
    ]);
    return { text: await response.text(), refresh: (await response.allHeaders()).refresh };
  }

  describe(`${title}: sign-out`, () => {
    test('sign-out ends the provider session too: the next sign-in asks for the password again', async (t) => {
      if (rig.missing) return t.skip(rig.missing);
      await rig.useIdp({ ...PROVIDER_CLIENTS.dashed, tokenEndpointAuthMethod: 'client_secret_post' });
      await rig.withPage(async (page) => {
        assert.equal(await rig.signIn(page, 'mail.internal', 'dwho'), 'Signed in to mail.internal');
        const signedOut = await signOut(page);
        assert.match(signedOut.text, /<h1>Signed out<\/h1>/);
        assert.match(signedOut.text, /signed out of your identity provider at <strong>127\.0\.0\.1:\d+<\/strong>/);
        const endSession = new URL(signedOut.refresh!.replace(/^1; url=/, ''));
        assert.equal(endSession.origin, rig.issuer);
        assert.ok(endSession.searchParams.get('id_token_hint'), 'the ID token rides along as the hint');
        // The browser follows the page's refresh to the provider, which ends its session.
        await rig.confirmProviderSignOut(page);
        await page.goto(`${rig.edgeOrigin}${PATH.login}mail.internal`);
        await rig.providerAsksForPassword(page);
      });
    });

    test('with rpInitiatedLogout: false the provider session survives sign-out: the next sign-in is silent', async (t) => {
      if (rig.missing) return t.skip(rig.missing);
      await rig.useIdp({
        ...PROVIDER_CLIENTS.dashed,
        tokenEndpointAuthMethod: 'client_secret_post',
        rpInitiatedLogout: false,
      });
      await rig.withPage(async (page) => {
        assert.equal(await rig.signIn(page, 'mail.internal', 'dwho'), 'Signed in to mail.internal');
        const signedOut = await signOut(page);
        assert.doesNotMatch(signedOut.text, /identity provider/);
        assert.equal(signedOut.refresh, undefined);
        await page.goto(`${rig.edgeOrigin}${PATH.login}mail.internal`);
        assert.equal(await rig.edgeHeading(page), 'Signed in to mail.internal');
      });
    });
  });
}

export function clientAuthScenarios(kind: ProviderKind, title: string): void {
  const rig = providerRig(kind);

  describe(`${title}: client authentication`, () => {
    test('client_secret_basic signs in with a client id that Basic leaves unchanged', async (t) => {
      if (rig.missing) return t.skip(rig.missing);
      const rp = await rig.useIdp({ ...PROVIDER_CLIENTS.plain, tokenEndpointAuthMethod: 'client_secret_basic' });
      await rig.withPage(async (page) =>
        assert.equal(await rig.signIn(page, 'earth.internal', 'msmith'), 'Signed in to earth.internal'),
      );
      assert.equal(await rp.authMethod(), 'client_secret_basic');
    });

    test('client_secret_basic with "airlock-edge": the provider\'s own answer is shown, never a library sentence', async (t) => {
      if (rig.missing) return t.skip(rig.missing);
      await rig.useIdp({ ...PROVIDER_CLIENTS.dashed, tokenEndpointAuthMethod: 'client_secret_basic' });
      if (kind === 'built-in') {
        // oidc-provider decodes the form-encoded id inside Basic, as RFC 6749 §2.3.1 asks.
        await rig.withPage(async (page) =>
          assert.equal(await rig.signIn(page, 'mail.internal', 'dwho'), 'Signed in to mail.internal'),
        );
        return;
      }
      // LemonLDAP::NG does not decode "airlock%2Dedge": its invalid_client reaches the user and the log.
      await rig.withPage(async (page) => {
        assert.equal(await rig.signIn(page, 'mail.internal', 'dwho'), 'Sign-in failed');
        assert.match((await page.textContent('main')) ?? '', /token endpoint refused the sign-in: invalid_client/);
      });
      const refusal = [...rig.logs].reverse().find((line) => line.event === 'access-error');
      assert.equal(refusal?.code, 'IDP_CLIENT_REFUSED');
      assert.match(String(refusal?.message), /invalid_client/);
    });
  });
}
