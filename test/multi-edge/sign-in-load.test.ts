// 200 sign-ins at once through HAProxy and three edge processes on one PostgreSQL, the built-in
// IdP in its own process, each the native-app flow driven with plain HTTP and a cookie jar (the
// IdP's form filled in, the code exchanged at the token endpoint): every one ends with a token the
// edges accept. Each user has their own address, named to the edges by HAProxy's PROXY v2 header
// as docs/scale.md deploys it. What used to make most of them fail (docs/scale.md "When a part
// fails"): the sign-in start budget counting the balancer's address instead of the user's, and the
// IdP's password hashes queued ahead of its token endpoint's signatures on libuv's thread pool.
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
const ARRIVAL_GAP_MS = 10;
const SIGN_IN = 'auth.airlock.test';
const APP = 'busy.airlock.test';
const AUD = randomBytes(16).toString('hex');
const USER = { email: 'ada@example.com', password: 'ada-password', groups: ['eng'] };
const LOOPBACK = 'http://127.0.0.1:45679/callback';

let pki: TestPki;
/** One Buffer for every user: the cookie jars share the TLS context built from it. */
let ca: Buffer;
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
    ca = readFileSync(pki.ca);
    db = await startPostgres();
    const ports = [await freePort(), await freePort(), await freePort()];
    // As docs/scale.md deploys it: the balancer names each client (PROXY v2), so each user's sign-in
    // start counts against their own address's budget, not the balancer's.
    lb = await startHaproxy(ports, { sendProxyV2: true });
    const users = join(pki.dir, 'users.yaml');
    writeFileSync(
      users,
      `users:\n  - { email: ${USER.email}, password: ${USER.password}, groups: [eng] }\nclients:\n  - { clientId: edge, clientSecret: load-secret, redirectUris: ["https://${SIGN_IN}:${lb.port}${PATH.callback}"] }\n`,
      { mode: 0o600 }, // the IdP refuses a users file others can read
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
      }).concat('trustedProxies: [127.0.0.1/32]\n');
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

interface Outcome {
  token?: string;
  /** The step that failed, and how. */
  failure?: string;
  /** When it was started and ended (ms since the first one started), and ms spent in each step. */
  startedAt: number;
  endedAt: number;
  steps: Record<string, number>;
}

/** User `index`'s address: 50 users on each of four /24 networks, one address each. */
const userAddress = (index: number) => `127.22.${Math.floor(index / 50)}.${(index % 50) + 1}`;

/** One user's native-app sign-in through the balancer; resolves with the app token, or why it failed. */
async function signIn(index: number, origin: number): Promise<Outcome> {
  const outcome: Outcome = { startedAt: Date.now() - origin, endedAt: 0, steps: {} };
  let mark = Date.now();
  let at = 'the start at the edge';
  const next = (step: string) => {
    outcome.steps[at] = Date.now() - mark;
    mark = Date.now();
    at = step;
  };
  const end = (result: { token?: string; failure?: string }) => {
    outcome.steps[at] = Date.now() - mark;
    return Object.assign(outcome, result, { endedAt: Date.now() - origin });
  };
  const jar = new CookieJar(ca, '127.0.0.1', userAddress(index));
  const verifier = randomBytes(32).toString('base64url');
  const params = new URLSearchParams({
    aud: AUD,
    redirect_url: LOOPBACK,
    state: randomBytes(16).toString('base64url'),
    code_challenge: s256(verifier),
    code_challenge_method: 'S256',
  });
  try {
    const loginPage = await follow(jar, `https://${SIGN_IN}:${lb.port}${PATH.cli}?${params}`);
    if (!loginPage.response?.text.includes('action='))
      return end({
        failure: `no login form: ${loginPage.response?.status} ${pageText(loginPage.response?.text ?? '')}`,
      });
    next('the IdP form');
    const posted = await signInAtIdp(jar, loginPage, USER.email, USER.password);
    next('back to the edge');
    const { url: callback } = await follow(jar, posted.location!, (url) => url.pathname === PATH.callback);
    next('the callback');
    const landed = await step(jar, callback);
    const code = landed.location ? new URL(landed.location).searchParams.get('code') : null;
    if (!code) return end({ failure: `callback answered ${landed.status}: ${pageText(landed.text)}` });
    next('the code exchange');
    const exchanged = await step(jar, `https://${SIGN_IN}:${lb.port}${PATH.token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code, code_verifier: verifier }),
    });
    if (exchanged.status !== 200) return end({ failure: `token endpoint answered ${exchanged.status}` });
    return end({ token: (JSON.parse(exchanged.text) as { token: string }).token });
  } catch (error) {
    return end({ failure: `${at}: ${(error as Error).message}` });
  }
}

/** The `fraction` quantile of `values`, in seconds. */
function quantile(values: number[], fraction: number): string {
  const sorted = [...values].sort((a, b) => a - b);
  return (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]! / 1000).toFixed(1);
}

/** The most sign-ins that were under way at the same moment. */
function mostAtOnce(outcomes: Outcome[]): number {
  const events = outcomes.flatMap((o) => [
    [o.startedAt, 1],
    [o.endedAt, -1],
  ]);
  events.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let now = 0;
  let most = 0;
  for (const [, change] of events) most = Math.max(most, (now += change!));
  return most;
}

test(`${SIGN_INS} concurrent sign-ins through HAProxy all succeed`, { skip }, async (t) => {
  const origin = Date.now();
  // Bounded: the runner gives the whole file 180 s.
  const bounded = (index: number) =>
    Promise.race([
      signIn(index, origin),
      new Promise<Outcome>((resolve) =>
        setTimeout(
          () => resolve({ failure: 'no token within 90 s', startedAt: 0, endedAt: 90_000, steps: {} }),
          90_000,
        ).unref(),
      ),
    ]);
  // Users arrive 10 ms apart, all within 2 s: opened in one synchronous burst, 200 TLS connections
  // stalled this process (not the edges) for seconds on the loaded machine.
  const runs = Array.from(
    { length: SIGN_INS },
    (_, index) => new Promise<Outcome>((resolve) => setTimeout(() => resolve(bounded(index)), index * ARRIVAL_GAP_MS)),
  );
  const outcomes = await Promise.all(runs);
  const launched = Math.max(...outcomes.map((outcome) => outcome.startedAt));
  const seconds = (Date.now() - origin) / 1000;
  const failures = outcomes.filter((outcome) => !outcome.token).map((outcome) => outcome.failure!);
  const succeeded = outcomes.filter((outcome) => outcome.token);
  const took = succeeded.map((outcome) => outcome.endedAt - outcome.startedAt);
  t.diagnostic(
    `${succeeded.length} of ${SIGN_INS} sign-ins succeeded; all done in ${seconds.toFixed(1)} s ` +
      `(started within ${(launched / 1000).toFixed(1)} s, ${mostAtOnce(outcomes)} under way at once); ` +
      (took.length > 0 ? `per sign-in p50 ${quantile(took, 0.5)} s, p95 ${quantile(took, 0.95)} s` : '') +
      (failures.length > 0 ? `; failures: ${[...new Set(failures)].slice(0, 5).join(' | ')}` : ''),
  );
  const steps = Object.keys(succeeded[0]?.steps ?? {});
  t.diagnostic(
    `per step p50/p95 s: ${steps
      .map(
        (name) =>
          `${name} ${quantile(
            succeeded.map((o) => o.steps[name]!),
            0.5,
          )}/${quantile(
            succeeded.map((o) => o.steps[name]!),
            0.95,
          )}`,
      )
      .join(', ')}`,
  );
  assert.deepEqual(failures, []);
  // The tokens are real: each opens the app at the balancer (426: accepted, a GET on a TCP app),
  // twenty users at a time, so the round robin takes them to every edge.
  const statuses: number[] = [];
  for (let first = 0; first < SIGN_INS; first += 20) {
    const batch = outcomes.slice(first, first + 20).map(async (outcome, offset) => {
      const jar = new CookieJar(ca, '127.0.0.1', userAddress(first + offset));
      return (await step(jar, `https://${APP}:${lb.port}/`, { headers: { [HEADER.accessToken]: outcome.token! } }))
        .status;
    });
    statuses.push(...(await Promise.all(batch)));
  }
  assert.deepEqual(
    statuses.filter((status) => status !== 426),
    [],
  );
});
