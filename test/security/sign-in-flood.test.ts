// Anyone can start sign-ins; none of that may break a sign-in in progress or grow the edge without
// bound. Each start keeps a login state for 10 minutes, so starts have a budget per address and per
// network (429 + Retry-After past it), the stores refuse when full instead of evicting, and a HEAD
// (cloudflared's probe on every connection) keeps nothing.
import assert from 'node:assert/strict';
import https from 'node:https';
import { test } from 'node:test';
import { MemoryLoginStateStore } from '../../src/edge/sign-in/login-state-store.js';
import type { PendingLogin } from '../../src/edge/sign-in/access-routes.js';
import { PostgresOneTimeStore } from '../../src/edge/state/postgres-stores.js';
import { openPostgresState } from '../../src/edge/state/postgres.js';
import { createLogger } from '../../src/shared/logger.js';
import { PATH, SSO } from '../../src/shared/constants.js';
import { CookieJar, follow, signInAtIdp } from '../helpers/cookie-fetch.js';
import { postgresMissing, startPostgres } from '../helpers/postgres.js';
import { startRig, type Rig } from '../helpers/sso-rig.js';

const PARALLEL = 16;

/** `count` anonymous GETs (or HEADs) of the login path, from `sources` in turn; counts by status. */
async function flood(rig: Rig, count: number, sources: string[], method = 'GET') {
  const agents = new Map(
    sources.map((address) => [address, new https.Agent({ keepAlive: true, ca: rig.ca, localAddress: address })]),
  );
  const statuses: Record<number, number> = {};
  const retryAfter = new Set<string>();
  const started = Date.now();
  let sent = 0;
  const worker = async () => {
    while (sent < count && Date.now() - started < Math.max(240_000, count * 12)) {
      const source = sources[sent++ % sources.length]!;
      const status = await new Promise<number>((resolve) => {
        const request = https.request(
          `${rig.edgeOrigin}${PATH.login}open.internal?${SSO.handoffBindingParam}=${'b'.repeat(43)}`,
          { method, agent: agents.get(source)! },
          (response) => {
            if (response.statusCode === 429) retryAfter.add(String(response.headers['retry-after']));
            response.resume();
            response.on('end', () => resolve(response.statusCode ?? 0));
          },
        );
        request.on('error', () => resolve(0));
        request.end();
      });
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  for (const agent of agents.values()) agent.destroy();
  return { statuses, retryAfter, sent, ms: Date.now() - started };
}

/** Starts a real browser sign-in and stops at the IdP's form: the login state is now in flight. */
async function beginSignIn(rig: Rig) {
  const jar = new CookieJar(rig.ca, '127.0.0.1');
  const loginPage = await follow(jar, `${rig.edgeOrigin}${PATH.login}open.internal`);
  assert.equal(loginPage.response!.status, 200, 'the IdP form');
  return async () => {
    const posted = await signInAtIdp(jar, loginPage, 'ada@example.com', 'ada-password');
    return (await follow(jar, posted.location!)).response!;
  };
}

/** 3,000 keeps the suite quick; AIRLOCK_SIGN_IN_FLOOD=52000 repeats the red team's run (issue 24). */
const STARTS = Number(process.env.AIRLOCK_SIGN_IN_FLOOD ?? 3_000);

test(
  'a flood of sign-in starts from one address is refused (429) and cannot break a sign-in in flight',
  { timeout: Math.max(300_000, STARTS * 15) },
  async (t) => {
    const rig = await startRig();
    try {
      const complete = await beginSignIn(rig);
      const rssBefore = process.memoryUsage().rss;
      const run = await flood(rig, STARTS, ['127.0.0.1']);
      global.gc?.();
      const rssAfter = process.memoryUsage().rss;
      t.diagnostic(
        `${run.sent} starts in ${run.ms} ms: ${JSON.stringify(run.statuses)}, Retry-After ${[...run.retryAfter].join(',')}; ` +
          `rig process RSS ${Math.round(rssBefore / 1e6)} → ${Math.round(rssAfter / 1e6)} MB`,
      );
      assert.equal(run.sent, STARTS);
      const windows = Math.ceil(run.ms / SSO.loginStartWindowMs) + 1;
      assert.ok(
        (run.statuses[302] ?? 0) <= SSO.loginStartsPerAddress * windows,
        'at most the per-address budget started',
      );
      assert.equal((run.statuses[302] ?? 0) + (run.statuses[429] ?? 0), STARTS, 'the rest refused with 429');
      assert.ok(
        [...run.retryAfter].every((value) => Number(value) >= 1 && Number(value) <= 60),
        'with Retry-After',
      );
      const landed = await complete();
      assert.equal(landed.status, 200, `the sign-in in flight completes: ${landed.text.slice(0, 200)}`);
      assert.match(landed.text, /Signed in to open\.internal/);
    } finally {
      await rig.close();
    }
  },
);

test('a store filled from many networks refuses new starts (429) and keeps every sign-in in flight', async (t) => {
  const store = new MemoryLoginStateStore<PendingLogin>({ maxEntries: 200 });
  const rig = await startRig({ stateStore: store });
  try {
    const complete = await beginSignIn(rig);
    // 40 networks of 127/8, 5 addresses each: every address and network within its own budget.
    const sources = Array.from({ length: 200 }, (_, index) => `127.7.${Math.floor(index / 5)}.${(index % 5) + 1}`);
    const run = await flood(rig, 400, sources);
    t.diagnostic(`${run.sent} starts: ${JSON.stringify(run.statuses)}; store holds ${store.size}`);
    assert.equal(run.statuses[302], 199, 'starts fill the store to its cap');
    assert.equal(run.statuses[429], 201, 'then are refused with 429, not evicting');
    assert.ok(
      [...run.retryAfter].every((value) => Number(value) >= 1),
      'with Retry-After',
    );
    assert.equal(store.size, 200);
    assert.equal((await complete()).status, 200, 'the sign-in in flight completes');
  } finally {
    await rig.close();
  }
});

test('one /24 network shares one budget of sign-in starts, however many addresses it uses', async () => {
  const rig = await startRig();
  try {
    const sources = Array.from({ length: 250 }, (_, index) => `127.8.0.${index + 1}`);
    const run = await flood(rig, 500, sources);
    assert.equal(run.statuses[302], SSO.loginStartsPerNetwork, 'the network budget, not 250 address budgets');
    assert.equal(run.statuses[429], 500 - SSO.loginStartsPerNetwork);
  } finally {
    await rig.close();
  }
});

test("a HEAD on the login path (cloudflared's probe) keeps no login state", async () => {
  const store = new MemoryLoginStateStore<PendingLogin>();
  const rig = await startRig({ stateStore: store });
  try {
    const run = await flood(rig, 500, ['127.0.0.1'], 'HEAD');
    assert.equal(run.statuses[200], 500, 'each probe answered, none refused');
    assert.equal(store.size, 0, 'no pending login kept');
  } finally {
    await rig.close();
  }
});

test('with PostgreSQL, 3,000 starts from one address keep only its budget of rows, and the table is capped', async (t) => {
  if (postgresMissing) return t.skip(postgresMissing);
  const postgres = await startPostgres();
  const state = await openPostgresState(postgres.url, {
    source: 'test',
    log: createLogger('test', { level: 'silent' }),
  });
  try {
    const rig = await startRig({ stateStore: new PostgresOneTimeStore<PendingLogin>(state, 'login-state') });
    try {
      const run = await flood(rig, 3_000, ['127.0.0.1']);
      const { rows } = await state.pool.query<{ n: string }>(
        "SELECT count(*) AS n FROM airlock_one_time WHERE kind = 'login-state'",
      );
      t.diagnostic(`${run.sent} starts in ${run.ms} ms: ${JSON.stringify(run.statuses)}; rows kept ${rows[0]!.n}`);
      assert.equal(Number(rows[0]!.n), SSO.loginStartsPerAddress);
    } finally {
      await rig.close();
    }
    const capped = new PostgresOneTimeStore<{ n: number }>(state, 'capped', 50);
    for (let n = 0; n < 50; n++) await capped.put(`key-${n}`, { n }, 60_000);
    await assert.rejects(capped.put('one-more', { n: 50 }, 60_000), { code: 'SIGN_IN_BUSY' });
    assert.deepEqual(await capped.take('key-0'), { n: 0 }, 'the first entry was not evicted');
    await capped.put('one-more', { n: 50 }, 60_000);
  } finally {
    await state.close();
    postgres.destroy();
  }
});
