// The edge against LemonLDAP::NG 2.16 from Debian, in real Chromium: sign-out ending the
// provider's session too (and not, when turned off), client_secret_basic with a plain client id,
// and the provider's own invalid_client when Basic form-encodes "airlock-edge" (RFC 6749 §2.3.1).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { PATH } from '../../src/shared/constants.js';
import { LEMONLDAP_CLIENTS, lemonldapRig } from '../helpers/lemonldap-rig.js';

const rig = lemonldapRig();

/** Presses the edge's sign-out button; returns the signed-out page as the edge sent it. */
async function signOut(page: Page): Promise<{ text: string; refresh: string | undefined }> {
  await page.goto(`${rig.edgeOrigin}${PATH.logout}`);
  const [response] = await Promise.all([
    page.waitForResponse((candidate) => candidate.request().method() === 'POST'),
    page.getByRole('button', { name: 'Sign out' }).click(),
  ]);
  return { text: await response.text(), refresh: (await response.allHeaders()).refresh };
}

describe('LemonLDAP::NG from Debian: sign-out and client authentication', () => {
  test('sign-out ends the provider session too: the next sign-in asks for the password again', async (t) => {
    if (rig.missing) return t.skip(rig.missing);
    await rig.useIdp({ ...LEMONLDAP_CLIENTS.dashed, tokenEndpointAuthMethod: 'client_secret_post' });
    await rig.withPage(async (page) => {
      assert.equal(await rig.signIn(page, 'mail.internal', 'dwho'), 'Signed in to mail.internal');
      const signedOut = await signOut(page);
      assert.match(signedOut.text, /<h1>Signed out<\/h1>/);
      assert.match(signedOut.text, /signed out of your identity provider at <strong>127\.0\.0\.1:\d+<\/strong>/);
      const endSession = new URL(signedOut.refresh!.replace(/^1; url=/, ''));
      assert.equal(endSession.origin, rig.issuer);
      assert.ok(endSession.searchParams.get('id_token_hint'), 'the ID token rides along as the hint');
      // The browser follows the page's refresh to the provider, which ends its session.
      await page.waitForURL((url) => url.origin === rig.issuer, { timeout: 30_000 });
      await page.waitForLoadState('load');
      await page.goto(`${rig.edgeOrigin}${PATH.login}mail.internal`);
      assert.equal(new URL(page.url()).origin, rig.issuer);
      await page.locator('input[name=password]').waitFor({ timeout: 15_000 });
    });
  });

  test('with rpInitiatedLogout: false the provider session survives sign-out: the next sign-in is silent', async (t) => {
    if (rig.missing) return t.skip(rig.missing);
    await rig.useIdp({
      ...LEMONLDAP_CLIENTS.dashed,
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

  test('client_secret_basic signs in with a client id that Basic leaves unchanged', async (t) => {
    if (rig.missing) return t.skip(rig.missing);
    const rp = await rig.useIdp({ ...LEMONLDAP_CLIENTS.plain, tokenEndpointAuthMethod: 'client_secret_basic' });
    await rig.withPage(async (page) =>
      assert.equal(await rig.signIn(page, 'earth.internal', 'msmith'), 'Signed in to earth.internal'),
    );
    assert.equal(await rp.authMethod(), 'client_secret_basic');
  });

  test('client_secret_basic with "airlock-edge": the provider\'s invalid_client is shown and logged', async (t) => {
    if (rig.missing) return t.skip(rig.missing);
    await rig.useIdp({ ...LEMONLDAP_CLIENTS.dashed, tokenEndpointAuthMethod: 'client_secret_basic' });
    await rig.withPage(async (page) => {
      assert.equal(await rig.signIn(page, 'mail.internal', 'dwho'), 'Sign-in failed');
      assert.match((await page.textContent('main')) ?? '', /token endpoint refused the sign-in: invalid_client/);
    });
    const refusal = [...rig.logs].reverse().find((line) => line.event === 'access-error');
    assert.equal(refusal?.code, 'IDP_CLIENT_REFUSED');
    assert.match(String(refusal?.message), /invalid_client/);
  });
});
