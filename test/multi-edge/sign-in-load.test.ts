// 200 sign-ins at once through HAProxy and three edge processes on one PostgreSQL, the built-in
// IdP in its own process, each the native-app flow driven with plain HTTP and a cookie jar (the
// IdP's form filled in, the code exchanged at the token endpoint): every one should end with a
// token the edges accept. Marked todo: on a loaded 2-core machine 33-78 of 200 succeed (28
// before the edge queued its IdP requests); the rest fail on the IdP's token endpoint taking more
// than 20 s, TLS handshakes to a starved edge passing limits.handshakeTimeout, and the
// PostgreSQL pool's 5 s wait for a connection (docs/scale.md "When a part fails").
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, testPki, type TestPki } from '../helpers/chain.js';
import { CookieJar, follow, signInAtIdp, step } from '../helpers/cookie-fetch.js';
import { haproxyMissing, startHaproxy, type RunningHaproxy } from '../helpers/haproxy.js';
import { postgresMissing, startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { multiEdgeYaml, writeConfig } from '../helpers/multi-edge.js';
import { airlock, type Running } from '../helpers/processes.js';
import { s256 } from '../../src/edge/sign-in/login-codes.js';
import { HEADER, PATH } from '../../src/shared/constants.js';

const skip = postgresMissing ?? haproxyMissing;
if (skip) console.log(`# sign-in load suite skipped: ${skip}`);

const SIGN_INS = 200;
const SIGN_IN = 'auth.airlock.test';
const APP = 'busy.airlock.test';
const AUD = randomBytes(16).toString('hex');
const USER = { email: 'ada@example.com', password: 'ada-password', groups: ['eng'] };
const LOOPBACK = 'http://127.0.0.1:45679/callback';

let pki: TestPki;
let db: RunningPostgres;
/** The built-in IdP as its own process, as deployed: its event loop is not the 200 clients'. */
let idp: Running;
let issuer: string;
let lb: RunningHaproxy;
const edges: Running[] = [];

before(
  async () => {
    if (skip) return;
    pki = await testPki();
    db = await startPostgres();
    const ports = [await freePort(), await freePort(), await freePort()];
    lb = await startHaproxy(ports);
    const users = join(pki.dir, 'users.yaml');
    writeFileSync(
      users,
      `users:\n  - { email: ${USER.email}, password: ${USER.password}, groups: [eng] }\nclients:\n  - { clientId: edge, clientSecret: load-secret, redirectUris: ["https://${SIGN_IN}:${lb.port}${PATH.callback}"] }\n`,
    );
    idp = airlock(['idp', '--users', users, '--port', String(await freePort())]);
    issuer = (await idp.waitFor(/issuer (\S+)/, 60_000))[1]!;
    const app = { hostname: APP, aud: AUD, service: 'tcp://127.0.0.1:9' };
    for (const port of ports) {
      const yaml = multiEdgeYaml({
        pki,
        port,
        publicPort: lb.port,
        pgUrl: db.url,
        app,
        idp: { issuer, clientId: 'edge', clientSecret: 'load-secret' },
      });
      edges.push(airlock(['edge', '--config', writeConfig(pki, yaml)]));
    }
    await Promise.all(edges.map((edge) => edge.waitFor(/edge listening/, 60_000)));
    await lb.waitAllUp();
  },
  { timeout: 120_000 },
);

after(async () => {
  if (skip) return;
  await Promise.all(edges.map((edge) => edge.stop()));
  await lb?.stop();
  await idp?.stop();
  db?.destroy();
});

/** The words of an HTML page, for a failure message. */
const pageText = (html: string) =>
  html
    .replace(/<(style|script)[^]*?<\/\1>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);

/** One user's native-app sign-in through the balancer; resolves with the app token, or why it failed. */
async function signIn(): Promise<{ token?: string; failure?: string }> {
  const jar = new CookieJar(readFileSync(pki.ca), '127.0.0.1');
  const verifier = randomBytes(32).toString('base64url');
  const params = new URLSearchParams({
    aud: AUD,
    redirect_url: LOOPBACK,
    state: randomBytes(16).toString('base64url'),
    code_challenge: s256(verifier),
    code_challenge_method: 'S256',
  });
  let at = 'start at the edge';
  try {
    const loginPage = await follow(jar, `https://${SIGN_IN}:${lb.port}${PATH.cli}?${params}`);
    if (!loginPage.response?.text.includes('action='))
      return { failure: `no login form: ${loginPage.response?.status} ${pageText(loginPage.response?.text ?? '')}` };
    at = 'the IdP form';
    const posted = await signInAtIdp(jar, loginPage, USER.email, USER.password);
    at = 'back to the edge';
    const { url: callback } = await follow(jar, posted.location!, (next) => next.pathname === PATH.callback);
    at = 'the callback';
    const landed = await step(jar, callback);
    const code = landed.location ? new URL(landed.location).searchParams.get('code') : null;
    if (!code) return { failure: `callback answered ${landed.status}: ${pageText(landed.text)}` };
    at = 'the code exchange';
    const exchanged = await step(jar, `https://${SIGN_IN}:${lb.port}${PATH.token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code, code_verifier: verifier }),
    });
    if (exchanged.status !== 200) return { failure: `token endpoint answered ${exchanged.status}` };
    return { token: (JSON.parse(exchanged.text) as { token: string }).token };
  } catch (error) {
    return { failure: `${at}: ${(error as Error).message}` };
  }
}

const todo = 'not all succeed yet on a loaded 2-core machine (see the top of this file)';

test(`${SIGN_INS} concurrent sign-ins through HAProxy all succeed`, { skip, todo }, async (t) => {
  const started = Date.now();
  // Bounded: the runner gives the whole file 180 s.
  const bounded = () =>
    Promise.race([
      signIn(),
      new Promise<{ token?: string; failure?: string }>((resolve) =>
        setTimeout(() => resolve({ failure: 'no token within 90 s' }), 90_000).unref(),
      ),
    ]);
  const results = await Promise.all(Array.from({ length: SIGN_INS }, bounded));
  const seconds = (Date.now() - started) / 1000;
  const failures = results.filter((result) => !result.token).map((result) => result.failure!);
  t.diagnostic(
    `${SIGN_INS - failures.length} of ${SIGN_INS} sign-ins succeeded in ${seconds.toFixed(1)} s` +
      (failures.length > 0 ? `; failures: ${[...new Set(failures)].slice(0, 5).join(' | ')}` : ''),
  );
  assert.deepEqual(failures, []);
  // The tokens are real: one of them opens the app at the balancer (426: accepted, a GET on a TCP app).
  const probe = await step(new CookieJar(readFileSync(pki.ca), '127.0.0.1'), `https://${APP}:${lb.port}/`, {
    headers: { [HEADER.accessToken]: results[0]!.token! },
  });
  assert.equal(probe.status, 426);
});
