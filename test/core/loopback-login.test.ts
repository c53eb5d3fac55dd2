// The client side of sign-in against the real access routes and the built-in IdP; a scripted
// cookie-keeping client plays the browser (test/edge/browser-login.test.ts uses real Chromium).
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { loginWithBrowser, type LoopbackLoginOptions } from '../../src/core/loopback-login.js';
import { verifyAppToken } from '../../src/edge/tokens/app-token.js';
import { AirlockError } from '../../src/shared/errors.js';
import { CookieJar, follow, signInAtIdp } from '../helpers/cookie-fetch.js';
import { startRig, type Rig } from '../helpers/sso-rig.js';

let rig: Rig;
before(async () => {
  rig = await startRig();
});
after(() => rig.close());

/** The browser: follows the login URL, signs in at the IdP, and stops at the loopback redirect. */
async function browseToLoopback(url: string, email = 'ada@example.com', password = 'ada-password'): Promise<URL> {
  const jar = new CookieJar(rig.ca);
  const redirectUrl = new URL(url).searchParams.get('redirect_url')!;
  const posted = await signInAtIdp(jar, await follow(jar, url), email, password);
  const { url: loopback } = await follow(jar, posted.location!, (next) => next.href.startsWith(redirectUrl));
  return loopback;
}

/** GET on the loopback listener the way a browser tab would (no Origin), returning status and page. */
function visit(url: URL | string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode!, text: Buffer.concat(chunks).toString() }));
      })
      .on('error', reject);
  });
}

function options(overrides: Partial<LoopbackLoginOptions> = {}): LoopbackLoginOptions & { printed: string[] } {
  const printed: string[] = [];
  return {
    edgeOrigin: rig.edgeOrigin,
    aud: 'aud-redis',
    hostname: 'redis.internal',
    ca: rig.ca,
    openBrowser: async () => false,
    print: (message) => printed.push(message),
    timeoutMs: 20_000,
    printed,
    ...overrides,
  };
}

describe('loginWithBrowser', () => {
  test('opens the browser, receives the code, exchanges it, and shows the signed-in page', async () => {
    let page: Promise<{ status: number; text: string }> | undefined;
    let opened = '';
    const opts = options({
      openBrowser: async (url) => {
        opened = url;
        page = browseToLoopback(url).then((loopback) => visit(loopback));
        return true;
      },
    });
    const { token, expiresAt } = await loginWithBrowser(opts);
    const principal = await verifyAppToken(token, { issuer: rig.edgeOrigin, aud: 'aud-redis', keys: rig.keys });
    assert.equal(principal.email, 'ada@example.com');
    assert.equal(expiresAt.getTime(), principal.expiresAt.getTime());
    const url = new URL(opened);
    assert.equal(url.pathname, '/cdn-cgi/access/cli');
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.match(url.searchParams.get('redirect_url')!, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    const shown = await page!;
    assert.equal(shown.status, 200);
    assert.match(shown.text, /Signed in to redis\.internal — you may close this tab/);
    assert.equal(opts.printed.length, 1);
    assert.match(
      opts.printed[0]!,
      /^Sign in to redis\.internal in the browser window that just opened \(or open this URL\):\n  https:\/\/127\.0\.0\.1:\d+\/cdn-cgi\/access\/cli\?/,
    );
  });

  test('headless: prints the URL when the browser cannot be opened', async () => {
    const opts = options({ openBrowser: async () => false });
    const login = loginWithBrowser(opts);
    await waitFor(() => opts.printed.length > 0);
    const url = /https:\/\/\S+/.exec(opts.printed[0]!)![0];
    assert.match(opts.printed[0]!, /^Open this URL in a browser to sign in to redis\.internal:/);
    await visit(await browseToLoopback(url));
    assert.ok((await login).token);
  });

  test('prints the URL when the opener throws', async () => {
    const opts = options({
      openBrowser: async () => {
        throw new Error('xdg-open not found');
      },
    });
    const login = loginWithBrowser(opts);
    await waitFor(() => opts.printed.length > 0);
    await visit(await browseToLoopback(/https:\/\/\S+/.exec(opts.printed[0]!)![0]));
    assert.ok((await login).token);
  });

  test('a wrong state gets a 400 page and the listener keeps waiting', async () => {
    const opts = options();
    const login = loginWithBrowser(opts);
    await waitFor(() => opts.printed.length > 0);
    const loopback = await browseToLoopback(/https:\/\/\S+/.exec(opts.printed[0]!)![0]);
    const forged = new URL(loopback);
    forged.searchParams.set('state', 'attacker-state');
    const refused = await visit(forged);
    assert.equal(refused.status, 400);
    assert.match(refused.text, /does not belong to the sign-in in progress/);
    assert.equal((await visit(loopback)).status, 200);
    assert.ok((await login).token);
  });

  test('a request from another Origin is refused and the listener keeps waiting', async () => {
    const opts = options();
    const login = loginWithBrowser(opts);
    await waitFor(() => opts.printed.length > 0);
    const loopback = await browseToLoopback(/https:\/\/\S+/.exec(opts.printed[0]!)![0]);
    const fromPage = await visit(loopback, { origin: 'https://evil.example' });
    assert.equal(fromPage.status, 403);
    const subresource = await visit(loopback, { 'sec-fetch-mode': 'no-cors' });
    assert.equal(subresource.status, 403);
    assert.equal((await visit(loopback)).status, 200, 'the code was not consumed by the refused requests');
    assert.ok((await login).token);
  });

  test('times out with a clear message, and closes the listener', async () => {
    const opts = options({ timeoutMs: 300 });
    const login = loginWithBrowser(opts);
    await waitFor(() => opts.printed.length > 0);
    const redirect = new URL(new URL(/https:\/\/\S+/.exec(opts.printed[0]!)![0]).searchParams.get('redirect_url')!);
    await assert.rejects(login, (error: unknown) => {
      assert.ok(error instanceof AirlockError);
      assert.equal(error.code, 'LOGIN_TIMEOUT');
      assert.equal(
        error.message,
        'sign-in timed out after 0.3 seconds; run `airlock access login redis.internal` to try again',
      );
      return true;
    });
    await assert.rejects(visit(redirect), /ECONNREFUSED/);
  });

  test('the default timeout message says 5 minutes', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const opts = options({ timeoutMs: undefined });
    const login = loginWithBrowser(opts);
    await waitFor(
      () => opts.printed.length > 0,
      () => t.mock.timers.tick(0),
    );
    t.mock.timers.tick(5 * 60_000);
    await assert.rejects(
      login,
      /^AirlockError: sign-in timed out after 5 minutes; run `airlock access login redis\.internal` to try again$/,
    );
  });

  test('fails with TLS_FAILED when the edge certificate is not trusted', async () => {
    const opts = options({
      ca: undefined,
      openBrowser: async (url) => {
        void browseToLoopback(url).then((loopback) => visit(loopback));
        return true;
      },
    });
    await assert.rejects(
      loginWithBrowser(opts),
      (error: AirlockError) => error.code === 'TLS_FAILED' && /--ca/.test(error.message),
    );
  });
});

async function waitFor(condition: () => boolean, each: () => void = () => {}): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) {
    each();
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.ok(condition(), 'condition not met');
}
