// Sign-in in real Chromium (Debian's /usr/bin/chromium via playwright-core) through the real
// login page of the built-in IdP and the edge's access routes: the browser flow (cookie) and the
// native-app flow (loginWithBrowser with Chromium as the "system browser").
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { loginWithBrowser } from '../../../src/core/loopback-login.js';
import { verifyAppToken } from '../../../src/edge/tokens/app-token.js';
import { verifyOrganisationToken } from '../../../src/edge/sign-in/organisation-session.js';
import { AUTH_COOKIE, PATH } from '../../../src/shared/constants.js';
import { chromiumMissing as missing, launchChromium } from '../../helpers/browser.js';
import { startRig, type Rig } from '../../helpers/sso-rig.js';

let rig: Rig;
let browser: Browser | undefined;

before(async () => {
  if (missing) return;
  rig = await startRig();
  // The rig's app hosts are names, as users have them; Chromium resolves them to the rig.
  browser = await launchChromium({ mapToLoopback: ['*.internal'] });
});
after(async () => {
  await browser?.close();
  await rig?.close();
});

const appOrigin = (hostname: string) => `https://${hostname}:${new URL(rig.edgeOrigin).port}`;

/** A fresh profile per test; the edge's test certificate is self-signed. */
async function freshPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser!.newContext({ ignoreHTTPSErrors: true });
  return { context, page: await context.newPage() };
}

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('sign-in in Chromium', () => {
  test("browser flow: sign-in host → IdP form → the app host's own CF_Authorization cookie", async (t) => {
    if (missing) return t.skip(missing);
    const { context, page } = await freshPage();
    try {
      await page.goto(`${rig.edgeOrigin}${PATH.login}open.internal`);
      assert.equal(new URL(page.url()).origin, rig.idp.issuer, 'redirected to the IdP');
      assert.equal(await page.getByRole('heading', { name: 'Sign in' }).isVisible(), true);
      await signIn(page, 'eve@example.com', 'eve-password');
      await page.getByRole('heading', { name: 'Signed in to open.internal' }).waitFor();
      assert.equal(new URL(page.url()).origin, appOrigin('open.internal'), 'ends on the app host');
      const cookie = (await context.cookies(appOrigin('open.internal'))).find(
        (candidate) => candidate.name === AUTH_COOKIE,
      );
      assert.ok(cookie, 'CF_Authorization cookie set on the app host');
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.secure, true);
      assert.equal(cookie.domain, 'open.internal', 'host-only');
      const principal = await verifyAppToken(cookie.value, { issuer: rig.edgeOrigin, aud: 'aud-open', keys: rig.keys });
      assert.equal(principal.email, 'eve@example.com');
      const session = (await context.cookies(rig.edgeOrigin)).find((candidate) => candidate.name === AUTH_COOKIE);
      assert.equal(
        (await verifyOrganisationToken(session!.value, { issuer: rig.edgeOrigin, keys: rig.keys })).sessionId,
        principal.sessionId,
      );
    } finally {
      await context.close();
    }
  });

  test('a second app in the same browser opens without the IdP form', async (t) => {
    if (missing) return t.skip(missing);
    const { context, page } = await freshPage();
    try {
      await page.goto(`${rig.edgeOrigin}${PATH.login}open.internal`);
      await signIn(page, 'ada@example.com', 'ada-password');
      await page.getByRole('heading', { name: 'Signed in to open.internal' }).waitFor();
      const visited: string[] = [];
      page.on('framenavigated', (frame) => visited.push(new URL(frame.url()).origin));
      await page.goto(`${rig.edgeOrigin}${PATH.login}redis.internal`);
      await page.getByRole('heading', { name: 'Signed in to redis.internal' }).waitFor();
      assert.ok(!visited.includes(rig.idp.issuer), `never at the IdP: ${visited.join(' → ')}`);
      const cookie = (await context.cookies(appOrigin('redis.internal'))).find(
        (candidate) => candidate.name === AUTH_COOKIE,
      );
      assert.equal(
        (await verifyAppToken(cookie!.value, { issuer: rig.edgeOrigin, aud: 'aud-redis', keys: rig.keys })).email,
        'ada@example.com',
      );
    } finally {
      await context.close();
    }
  });

  test('a wrong password shows a clear error on the login page', async (t) => {
    if (missing) return t.skip(missing);
    const { context, page } = await freshPage();
    try {
      await page.goto(`${rig.edgeOrigin}${PATH.login}open.internal`);
      await signIn(page, 'eve@example.com', 'not-her-password');
      const alert = page.getByRole('alert');
      await alert.waitFor();
      assert.equal(await alert.textContent(), 'Wrong email or password. Try again.');
      assert.equal(await page.getByLabel('Email').inputValue(), 'eve@example.com');
    } finally {
      await context.close();
    }
  });

  test('a user denied by policy sees a 403 page naming the app only', async (t) => {
    if (missing) return t.skip(missing);
    const { context, page } = await freshPage();
    try {
      await page.goto(`${rig.edgeOrigin}${PATH.login}redis.internal`);
      const [response] = await Promise.all([
        page.waitForResponse((candidate) => candidate.url().startsWith(`${rig.edgeOrigin}${PATH.callback}`)),
        signIn(page, 'eve@example.com', 'eve-password'),
      ]);
      assert.equal(response.status(), 403);
      await page.getByRole('heading', { name: 'Access denied' }).waitFor();
      const text = await page.locator('main').textContent();
      assert.match(text!, /not allowed to use redis\.internal/);
      assert.doesNotMatch(text!, /group|eng/);
    } finally {
      await context.close();
    }
  });

  test('native-app flow: loginWithBrowser with Chromium as the system browser', async (t) => {
    if (missing) return t.skip(missing);
    const { context, page } = await freshPage();
    try {
      let signedIn: Promise<void> | undefined;
      const printed: string[] = [];
      const result = await loginWithBrowser({
        edgeOrigin: rig.edgeOrigin,
        aud: 'aud-redis',
        hostname: 'redis.internal',
        ca: rig.ca,
        print: (message) => printed.push(message),
        timeoutMs: 60_000,
        openBrowser: async (url) => {
          signedIn = page.goto(url).then(() => signIn(page, 'ada@example.com', 'ada-password'));
          return true;
        },
      });
      await signedIn;
      const principal = await verifyAppToken(result.token, {
        issuer: rig.edgeOrigin,
        aud: 'aud-redis',
        keys: rig.keys,
      });
      assert.equal(principal.email, 'ada@example.com');
      await page.getByText('Signed in to redis.internal — you may close this tab.').waitFor();
      assert.match(page.url(), /^http:\/\/127\.0\.0\.1:\d+\/callback\?code=/);
      assert.equal(printed.length, 1);
      assert.match(
        printed[0]!,
        /^Sign in to redis\.internal in the browser window that just opened \(or open this URL\):/,
      );
    } finally {
      await context.close();
    }
  });
});
