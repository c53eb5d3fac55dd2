// The shape users deploy, end to end: one edge on port 443, a sign-in host and three app hosts by
// name (Chromium maps them to 127.0.0.1 with --host-resolver-rules), our client addressing the
// edge by a URL without a port, and a third-party client of the same protocol. One browser
// sign-in serves all three apps; 100 MB cross each way however each side leaves, sha256 checked;
// sign-out ends every token.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startChain, SERVICE_TOKEN, type Chain } from '../helpers/chain.js';
import { chromiumMissing, launchChromium, signInInBrowser } from '../helpers/browser.js';
import { CookieJar, step } from '../helpers/cookie-fetch.js';
import { airlock, type Running } from '../helpers/processes.js';
import { download, echoRoundTrip, startOrigin, type Origin } from '../helpers/transfer.js';
import { freePort } from '../helpers/chain.js';
import { waitUntil } from '../helpers/airlock-processes.js';
import { startIdp, type RunningIdp } from '../../src/idp/provider.js';
import { createTokenStore } from '../../src/core/token-store.js';
import { AUTH_COOKIE, HEADER, PATH, SSO } from '../../src/shared/constants.js';
import {
  downloadThenUpload,
  openThirdPartyTunnel,
  patternSha,
  thirdPartyDownload,
  thirdPartyUpload,
  upgradeStatus,
  uploadThenHalfClose,
  type Leave,
} from './helpers.js';

const SIGN_IN = 'auth.airlock.test';
const APPS = ['alpha.airlock.test', 'beta.airlock.test', 'gamma.airlock.test'] as const;
const USER = { email: 'ada@example.com', password: 'ada-password', groups: ['eng'] };
const SIZE = 100_000_000;
/** Where our client dials: the edge by URL, no port (443), as a user's --edge or DNS would have it. */
const EDGE_URL = 'https://127.0.0.1';
const TOKEN_EDGE = 'https://127.0.0.1:443';

/** Port 443 needs root (CI is) or CAP_NET_BIND_SERVICE; say so rather than test another port. */
async function port443Refusal(): Promise<string | undefined> {
  const server = net.createServer();
  const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    server.once('error', resolve);
    server.listen(443, '127.0.0.1', () => resolve(undefined));
  });
  if (!error) await new Promise((resolve) => server.close(resolve));
  return error
    ? `cannot listen on 127.0.0.1:443 here (${error.code}); run as root or with CAP_NET_BIND_SERVICE`
    : undefined;
}

const skip = chromiumMissing ?? (await port443Refusal());
if (skip) console.log(`# production-shaped suite skipped: ${skip}`);

let origin: Origin;
let idp: RunningIdp;
let chain: Chain;
let browser: Browser;
let ca: Buffer;
let home: string;
let auditFile: string;
const clients = new Map<string, { process: Running; port: number }>();
const aud = (hostname: string) => chain.config.apps.get(hostname)!.aud;
const tokenStore = () => createTokenStore({ file: join(home, 'airlock', 'tokens.json') });

before(async () => {
  if (skip) return;
  origin = await startOrigin({ halfOpen: true });
  idp = await startIdp({
    users: [USER],
    clients: [
      { clientId: 'edge', clientSecret: 'deployment-idp-secret', redirectUris: [`https://${SIGN_IN}${PATH.callback}`] },
    ],
  });
  home = mkdtempSync(join(tmpdir(), 'airlock-deployment-'));
  auditFile = join(home, 'audit.log');
  chain = await startChain(
    APPS.map((hostname) => ({
      hostname,
      service: `tcp://127.0.0.1:${origin.port}`,
      policy: `      include: [{ emailDomain: example.com }, { serviceToken: ${SERVICE_TOKEN.id} }]`,
    })),
    {
      listenPort: 443,
      extraYaml: `publicUrl: https://${SIGN_IN}\nidp: { issuer: "${idp.issuer}", clientId: edge, clientSecret: deployment-idp-secret }\naudit: { file: ${auditFile} }\n`,
      // The connector, too, dials the edge by a URL without a port.
      connector: { edgeUrl: EDGE_URL },
    },
  );
  ca = readFileSync(chain.pki.ca);
  browser = await launchChromium({ mapToLoopback: ['*.airlock.test'] });
});

after(async () => {
  if (skip) return;
  await Promise.all([...clients.values()].map((client) => client.process.stop()));
  await browser?.close();
  await chain?.close();
  await idp?.close();
  await origin?.close();
});

async function startClient(hostname: string): Promise<Running> {
  const port = await freePort();
  const process = airlock(
    ['access', 'tcp', '--hostname', hostname, '--url', `127.0.0.1:${port}`, '--edge', EDGE_URL, '--ca', chain.pki.ca],
    { XDG_CONFIG_HOME: home },
  );
  clients.set(hostname, { process, port });
  return process;
}
const portOf = (hostname: string) => clients.get(hostname)!.port;

function streamEnds(): Array<Record<string, unknown>> {
  let text = '';
  try {
    text = readFileSync(auditFile, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record.event === 'stream-end');
}

/** Runs `work`, then waits for the stream-end record it causes. */
/**
 * The stream-end record of `work`'s stream: the first new one that `ours` accepts (a stream of an
 * earlier test may be recorded late, after its origin's grace, so the first new one is not always it).
 */
async function audited<T>(
  work: () => Promise<T>,
  ours: (record: Record<string, unknown>) => boolean = () => true,
): Promise<{ result: T; record: Record<string, unknown> }> {
  const before = streamEnds().length;
  const result = await work();
  const mine = () => streamEnds().slice(before).find(ours);
  await waitUntil('the stream-end audit record', () => mine() !== undefined, 60_000);
  return { result, record: mine()! };
}

async function nextUploadRecord(previous: number) {
  await waitUntil(
    'the origin to record the upload',
    () => origin.records.filter((record) => record.kind === 'upload').length > previous,
    60_000,
  );
  return origin.records.filter((record) => record.kind === 'upload')[previous]!;
}
const uploadsSoFar = () => origin.records.filter((record) => record.kind === 'upload').length;

describe('production shape: edge on 443, one sign-in domain, three app hosts by name', { skip }, () => {
  test('one browser sign-in, then the second and third app connect without a browser', async () => {
    const first = await startClient(APPS[0]);
    const [, url] = await first.waitFor(/\n {2}(https:\/\/\S+\/cdn-cgi\/access\/cli\?\S+)/, 30_000);
    assert.equal(new URL(url!).host, SIGN_IN, 'the browser goes to the sign-in domain, not the app host');
    const page = await signInInBrowser(browser, url!, USER.email, USER.password);
    assert.match(page, /Signed in to alpha\.airlock\.test/);
    await first.waitFor(/Listening on 127\.0\.0\.1:\d+/, 30_000);
    for (const hostname of APPS.slice(1)) {
      const client = await startClient(hostname);
      await client.waitFor(/Listening on 127\.0\.0\.1:\d+/, 30_000);
      assert.match(
        client.output(),
        new RegExp(
          `Signed in to ${hostname.replace(/\./g, '\\.')} as ada@example\\.com.*with your session at auth\\.airlock\\.test \\(no browser needed\\)`,
        ),
      );
    }
    const browserWindows = [...clients.values()].reduce(
      (count, client) => count + (client.process.output().match(/\/cdn-cgi\/access\/cli\?/g) ?? []).length,
      0,
    );
    assert.equal(browserWindows, 1, 'one sign-in URL for all three apps');
    for (const hostname of APPS) {
      const echoed = await echoRoundTrip(portOf(hostname), 64 * 1024);
      assert.equal(echoed.received, echoed.sent, hostname);
    }
  });

  test('in the browser, the sign-in host hands every app host its own cookie, on 443 by name', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await context.newPage();
      await page.goto(`https://${APPS[1]}/`);
      assert.equal(new URL(page.url()).origin, idp.issuer, 'the app host sent the browser to sign in');
      await page.fill('input[name=email]', USER.email);
      await page.fill('input[name=password]', USER.password);
      await Promise.all([page.waitForURL(`https://${APPS[1]}/`), page.click('button[type=submit]')]);
      assert.match((await page.textContent('body')) ?? '', /carries TCP/, 'back on the app host, signed in');
      const visited: string[] = [];
      page.on('framenavigated', (frame) => visited.push(frame.url()));
      await page.goto(`https://${APPS[2]}/`);
      await page.waitForURL(`https://${APPS[2]}/`);
      assert.ok(
        !visited.some((url) => url.startsWith(idp.issuer)),
        `no IdP page for the second app: ${visited.join(' → ')}`,
      );
      for (const hostname of APPS.slice(1)) {
        const cookie = (await context.cookies(`https://${hostname}/`)).find(
          (candidate) => candidate.name === AUTH_COOKIE,
        );
        assert.equal(cookie?.domain, hostname, `${hostname} has a host-only cookie`);
      }
      assert.ok(
        (await context.cookies(`https://${SIGN_IN}/`)).some((candidate) => candidate.name === AUTH_COOKIE),
        'the organisation session lives on the sign-in host',
      );
    } finally {
      await context.close();
    }
  });

  test('a third-party client finds the sign-in domain with a HEAD probe and trades its org token (cloudflared)', async () => {
    const jar = new CookieJar(ca, '127.0.0.1');
    // cloudflared's GetAppInfo: HEAD the app, follow to the login path, read CF-Access-Domain there.
    const app = await step(jar, `https://${APPS[0]}/`, { method: 'HEAD' });
    assert.equal(app.status, 302);
    assert.equal(app.headers[HEADER.accessAud], aud(APPS[0]));
    const login = new URL(app.location!);
    assert.equal(login.host, SIGN_IN);
    assert.equal(login.pathname, `${PATH.login}${APPS[0]}`);
    assert.equal(login.searchParams.get('kid'), aud(APPS[0]));
    const probed = await step(jar, login, { method: 'HEAD' });
    assert.equal(probed.headers[HEADER.accessDomain], APPS[0], 'CF-Access-Domain on the login path');
    // cloudflared's exchangeOrgToken: the org token as the login path's cookie, stop after /authorized.
    const session = await tokenStore().get(`https://${SIGN_IN}`, SSO.organisationAud);
    assert.ok(session, 'the CLI keeps the organisation session for the edge');
    const handoff = await step(new CookieJar(ca, '127.0.0.1'), login, {
      method: 'HEAD',
      headers: { cookie: `${AUTH_COOKIE}=${session}` },
    });
    assert.equal(new URL(handoff.location!).pathname, PATH.authorized);
    const authorized = await step(new CookieJar(ca, '127.0.0.1'), handoff.location!, { method: 'HEAD' });
    assert.equal(authorized.status, 302);
    const line = (authorized.headers['set-cookie'] ?? []).find((candidate) => candidate.startsWith(`${AUTH_COOKIE}=`))!;
    const expires = /Expires=([^;]+)/.exec(line)?.[1];
    assert.ok(expires && new Date(expires).getTime() > Date.now(), 'an Expires in the future: cloudflared reads that');
    const token = /^CF_Authorization=([^;]+)/.exec(line)![1]!;
    assert.equal(await upgradeStatus(APPS[0], ca, token), 101, 'the traded token opens a tunnel');
  });
});

describe('production shape: no byte lost, however each side leaves (100 MB each way, sha256)', { skip }, () => {
  test('our client half-closes after uploading: the origin answers after the FIN, in full', async (t) => {
    const { result, record } = await audited(() => uploadThenHalfClose(portOf(APPS[0]), SIZE));
    assert.equal(result.bytes, SIZE);
    assert.equal(result.received, result.sent);
    assert.equal(record.endedFirst, 'client');
    t.diagnostic(
      `answer ${result.replyAfterFinMs.toFixed(0)} ms after the local FIN (no 1.5 s linger: half-close is carried)`,
    );
  });

  test('the origin half-closes after downloading to us; our upload on the same connection still arrives', async (t) => {
    const uploads = uploadsSoFar();
    const { result, record } = await audited(() => downloadThenUpload(portOf(APPS[1]), SIZE));
    assert.equal(result.downloaded, SIZE);
    assert.equal(result.intact, true);
    const received = await nextUploadRecord(uploads);
    assert.equal(received.bytes, SIZE);
    assert.equal(received.sha256, result.uploadedSha);
    assert.equal(record.endedFirst, 'origin');
    t.diagnostic(`origin half-closed after ${result.downloaded} B down; ${received.bytes} B up arrived after that`);
  });

  test('the origin closes first after 100 MB: our client gets every byte', async () => {
    const result = await download(portOf(APPS[2]), SIZE, { timeoutMs: 120_000 });
    assert.equal(result.complete, true);
    assert.equal(result.intact, true);
  });

  for (const leave of ['close-frame', 'fin', 'rst'] satisfies Leave[]) {
    test(`a third-party client uploads 100 MB and leaves with ${leave === 'close-frame' ? 'a close frame' : `a TCP ${leave.toUpperCase()} and no close frame`}`, async (t) => {
      const token = await tokenStore().get(TOKEN_EDGE, aud(APPS[0]));
      assert.ok(token);
      const ws = await openThirdPartyTunnel(APPS[0], ca, token);
      const uploads = uploadsSoFar();
      const { result, record } = await audited(() => thirdPartyUpload(ws, SIZE, leave));
      const received = await nextUploadRecord(uploads);
      if (leave === 'rst') {
        // A RST discards what the kernels still held; every byte the edge read must arrive.
        assert.ok(received.bytes > 0);
        assert.equal(
          received.bytes + 1,
          record.bytesUp,
          'the origin got exactly what the edge read (plus the mode byte)',
        );
        assert.equal(received.sha256, patternSha(received.bytes));
      } else {
        assert.equal(received.bytes, SIZE);
        assert.equal(received.sha256, result.sent);
      }
      assert.match(
        String(record.outcome),
        leave === 'close-frame' ? /^closed$/ : /client left without a close frame \(1006\)/,
      );
      t.diagnostic(
        `${leave}: sent ${SIZE} B, the edge read ${Number(record.bytesUp) - 1} B, the origin got ${received.bytes} B; audit outcome "${String(record.outcome)}"`,
      );
    });
  }

  test('a third-party client downloads 100 MB; the origin closes first and the tunnel closes 1000', async () => {
    const token = await tokenStore().get(TOKEN_EDGE, aud(APPS[1]));
    const ws = await openThirdPartyTunnel(APPS[1], ca, token!);
    const { result, record } = await audited(
      () => thirdPartyDownload(ws, SIZE),
      (record) => record.app === APPS[1] && Number(record.bytesDown) >= SIZE,
    );
    assert.deepEqual(result, { bytes: SIZE, intact: true, code: 1000 });
    assert.equal(record.endedFirst, 'origin');
  });
});

describe('production shape: sign-out', { skip }, () => {
  test('signing out ends the session: every app refuses the old tokens, and the org token mints nothing', async () => {
    const store = tokenStore();
    const tokens = await Promise.all(APPS.map((hostname) => store.get(TOKEN_EDGE, aud(hostname))));
    const session = await store.get(`https://${SIGN_IN}`, SSO.organisationAud);
    for (const [index, hostname] of APPS.entries())
      assert.equal(await upgradeStatus(hostname, ca, tokens[index]!), 101, `${hostname} before sign-out`);
    const logout = airlock(['access', 'logout', APPS[0], '--edge', EDGE_URL, '--ca', chain.pki.ca], {
      XDG_CONFIG_HOME: home,
    });
    assert.equal(await logout.exited(), 0, logout.output());
    assert.match(logout.output(), /Signed out of auth\.airlock\.test: the session is revoked at the edge/);
    for (const [index, hostname] of APPS.entries())
      assert.equal(await upgradeStatus(hostname, ca, tokens[index]!), 302, `${hostname} refuses its old token`);
    const login = `https://${SIGN_IN}${PATH.login}${APPS[2]}?kid=${aud(APPS[2])}`;
    const exchange = await step(new CookieJar(ca, '127.0.0.1'), login, {
      method: 'HEAD',
      headers: { cookie: `${AUTH_COOKIE}=${session}` },
    });
    // A HEAD keeps no state (no login is started for it): the ended session gets no hand-off, only the probe's answer.
    assert.equal(exchange.status, 200, 'the ended session mints nothing');
    assert.equal(exchange.location, undefined, 'no hand-off to /authorized for an ended session');
    const after = tokenStore();
    assert.equal(await after.get(`https://${SIGN_IN}`, SSO.organisationAud), undefined);
    for (const hostname of APPS)
      assert.equal(await after.get(TOKEN_EDGE, aud(hostname)), undefined, `${hostname}'s token forgotten`);
  });
});
