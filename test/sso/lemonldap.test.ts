// The edge against an OpenID provider written by someone else: LemonLDAP::NG 2.16 from Debian
// with its default claim settings (email and groups from userinfo, not in the ID token), signed
// in through in real Chromium. An email policy and a group policy, each admitting one demo user
// and refusing another; the client id "airlock-edge" with the method chosen from discovery.
// Sign-out and client authentication: lemonldap-sign-out.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PATH, SSO } from '../../src/shared/constants.js';
import { DEMO_USERS } from '../helpers/lemonldap.js';
import { LEMONLDAP_CLIENTS, lemonldapRig } from '../helpers/lemonldap-rig.js';

const rig = lemonldapRig();

describe('LemonLDAP::NG from Debian, default claim settings: policies', () => {
  test('email policy: dwho is admitted, rtyler refused; email and groups came from userinfo', async (t) => {
    if (rig.missing) return t.skip(rig.missing);
    await rig.useIdp({ ...LEMONLDAP_CLIENTS.dashed, tokenEndpointAuthMethod: 'client_secret_post' });
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
      assert.equal(claims.sub, 'dwho');
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
    const rp = await rig.useIdp(LEMONLDAP_CLIENTS.dashed);
    await rig.withPage(async (page) =>
      assert.equal(await rig.signIn(page, 'earth.internal', 'rtyler'), 'Signed in to earth.internal'),
    );
    await rig.withPage(async (page) => assert.equal(await rig.signIn(page, 'earth.internal', 'dwho'), 'Access denied'));
    assert.equal(await rp.authMethod(), 'client_secret_post');
  });
});
