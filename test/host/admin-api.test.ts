// The operators' API on a real edge: credentials, tunnels, routes and every refusal.
import { CLOCK } from '../../src/shared/constants.js';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN, OTHER_ADMIN, USER, edgeJson, startHostEdge, type HostEdge } from '../helpers/host-edge.js';
import { issueAppToken } from '../../src/edge/tokens/app-token.js';

/** Issued long enough ago that it expired beyond the clock tolerance the edge allows. */
const EXPIRED_LONG_AGO_MS = (CLOCK.toleranceSeconds + 5) * 1000;

let edge: HostEdge;
let token: string;

before(async () => {
  edge = await startHostEdge();
  token = await edge.credential();
});
after(() => edge?.close());

const api = (method: string, path: string, body?: unknown, as = token) =>
  edgeJson(edge, method, `/cdn-cgi/admin/${path}`, { token: as, ...(body ? { body } : {}) });

async function tunnel(name: string, as = token): Promise<string> {
  const answer = await api('POST', 'tunnels', { name }, as);
  assert.ok(answer.status === 201 || answer.status === 200, JSON.stringify(answer.body));
  return name;
}

test('no credential: 401 saying how to log in', async () => {
  const answer = await edgeJson(edge, 'GET', '/cdn-cgi/admin/tunnels');
  assert.equal(answer.status, 401);
  assert.match(String(answer.body.message), /airlock tunnel login --edge https:\/\/127\.0\.0\.1:\d+/);
});

test('an app token does not open the admin API', async () => {
  const app = await issueAppToken({
    keys: edge.edge.keys,
    issuer: new URL(edge.edgeUrl).origin,
    aud: new URL(edge.edgeUrl).origin,
    sub: ADMIN.email,
    email: ADMIN.email,
    groups: ADMIN.groups,
    sessionMs: 60_000,
  });
  const answer = await api('GET', 'tunnels', undefined, app.token);
  assert.equal(answer.status, 401);
  assert.equal(answer.body.error, 'login_required');
});

test('an expired credential: 401 credential_expired, saying how to log in again', async () => {
  const short = await edge.credential(ADMIN, 1000, EXPIRED_LONG_AGO_MS);
  await new Promise((resolve) => setTimeout(resolve, 2100));
  const answer = await api('GET', 'whoami', undefined, short);
  assert.equal(answer.status, 401);
  assert.equal(answer.body.error, 'credential_expired');
  assert.match(String(answer.body.message), /airlock tunnel login/);
});

test('a credential held by someone the admins policy no longer admits: 403', async () => {
  const answer = await api('GET', 'whoami', undefined, await edge.credential(USER));
  assert.equal(answer.status, 403);
  assert.equal(answer.body.error, 'not_admin');
});

test('creating a tunnel returns its token once; creating it again reuses it without one', async () => {
  const first = await api('POST', 'tunnels', { name: 'reuse-me' });
  assert.equal(first.status, 201);
  assert.match(String(first.body.token), /^[\w-]+$/);
  const again = await api('POST', 'tunnels', { name: 'reuse-me' });
  assert.equal(again.status, 200);
  assert.equal(again.body.token, undefined);
  const rotated = await api('POST', 'tunnels/reuse-me/token');
  assert.equal(rotated.status, 200);
  assert.notEqual(rotated.body.token, first.body.token);
});

test('routes a hostname under a served domain to a tunnel and lists it', async () => {
  await tunnel('pg');
  const answer = await api('POST', 'routes', {
    hostname: 'pg.airlock.test',
    tunnel: 'pg',
    service: 'tcp://127.0.0.1:5432',
  });
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  const list = await api('GET', 'routes');
  const routes = list.body.routes as Array<Record<string, unknown>>;
  assert.ok(
    routes.some(
      (route) =>
        route.hostname === 'pg.airlock.test' &&
        route.tunnel === 'pg' &&
        route.owner === ADMIN.email &&
        route.live === true,
    ),
  );
  assert.ok(routes.some((route) => route.hostname === 'fixed.airlock.test' && route.source === 'edge.yaml'));
  // The same request again is not an error.
  assert.equal(
    (await api('POST', 'routes', { hostname: 'pg.airlock.test', tunnel: 'pg', service: 'tcp://127.0.0.1:5432' }))
      .status,
    200,
  );
});

test('refuses a hostname outside the domains the edge serves', async () => {
  await tunnel('outside');
  const answer = await api('POST', 'routes', {
    hostname: 'redis.example.org',
    tunnel: 'outside',
    service: 'tcp://127.0.0.1:6379',
  });
  assert.equal(answer.status, 403);
  assert.equal(answer.body.error, 'outside_domains');
  assert.match(
    String(answer.body.message),
    /redis\.example\.org is not under a domain this edge serves: it serves airlock\.test/,
  );
});

test('refuses a hostname with no app or policy in edge.yaml, with the YAML to add', async () => {
  await tunnel('nopolicy');
  const answer = await api('POST', 'routes', {
    hostname: 'cache.airlock.test',
    tunnel: 'nopolicy',
    service: 'tcp://127.0.0.1:6379',
  });
  assert.equal(answer.status, 404);
  assert.equal(answer.body.error, 'no_policy');
  const message = String(answer.body.message);
  assert.match(message, /nothing is published unprotected/);
  assert.match(
    message,
    /  - hostname: cache\.airlock\.test\n    aud: [0-9a-f]{64}\n    policy:\n      include: \[\{ email: ops@example\.com \}\]/,
  );
});

test('refuses a hostname already routed to another tunnel, and does not take it over', async () => {
  await tunnel('first');
  await tunnel('second');
  assert.equal(
    (await api('POST', 'routes', { hostname: 'redis.airlock.test', tunnel: 'first', service: 'tcp://127.0.0.1:6379' }))
      .status,
    201,
  );
  const answer = await api('POST', 'routes', {
    hostname: 'redis.airlock.test',
    tunnel: 'second',
    service: 'tcp://127.0.0.1:6380',
  });
  assert.equal(answer.status, 409);
  assert.equal(answer.body.error, 'route_taken');
  assert.match(String(answer.body.message), /already routed to tunnel first/);
  const stored = JSON.parse(readFileSync(join(edge.stateDir, 'routes.json'), 'utf8')) as {
    routes: Array<{ hostname: string; service: string }>;
  };
  assert.equal(stored.routes.find((route) => route.hostname === 'redis.airlock.test')?.service, 'tcp://127.0.0.1:6379');
  await api('DELETE', 'tunnels/first');
});

test('refuses a hostname that edge.yaml already routes', async () => {
  await tunnel('takeover');
  const answer = await api('POST', 'routes', {
    hostname: 'fixed.airlock.test',
    tunnel: 'takeover',
    service: 'tcp://127.0.0.1:1',
  });
  assert.equal(answer.status, 409);
  assert.match(String(answer.body.message), /already served by tunnel file-tunnel \(set in edge\.yaml\)/);
});

test('refuses a hostname that is not a DNS name', async () => {
  await tunnel('badhost');
  for (const hostname of ['Redis_Airlock.test', 'a..airlock.test', '', 'x'.repeat(300)]) {
    const answer = await api('POST', 'routes', { hostname, tunnel: 'badhost', service: 'tcp://127.0.0.1:6379' });
    assert.equal(answer.status, 400, hostname);
    assert.equal(answer.body.error, 'bad_hostname');
  }
});

test('refuses a service that is not tcp://host:port', async () => {
  await tunnel('badservice');
  for (const service of ['http://127.0.0.1:6379', '127.0.0.1:6379', 'tcp://127.0.0.1', 'tcp://user@127.0.0.1:1', 42]) {
    const answer = await api('POST', 'routes', { hostname: 'redis.airlock.test', tunnel: 'badservice', service });
    assert.equal(answer.status, 400, String(service));
    assert.equal(answer.body.error, 'bad_service');
    assert.match(String(answer.body.message), /service must be tcp:\/\/HOST:PORT/);
  }
});

test('refuses port 0', async () => {
  await tunnel('port0');
  const answer = await api('POST', 'routes', {
    hostname: 'redis.airlock.test',
    tunnel: 'port0',
    service: 'tcp://127.0.0.1:0',
  });
  assert.equal(answer.status, 400);
  assert.equal(answer.body.error, 'bad_port');
  assert.match(String(answer.body.message), /port must be from 1 to 65535, got 0/);
});

test('refuses a port above 65535', async () => {
  await tunnel('port-big');
  const answer = await api('POST', 'routes', {
    hostname: 'redis.airlock.test',
    tunnel: 'port-big',
    service: 'tcp://127.0.0.1:65536',
  });
  assert.equal(answer.status, 400);
  assert.equal(answer.body.error, 'bad_port');
  assert.match(String(answer.body.message), /got 65536/);
});

test("another admin may neither route through nor delete someone else's tunnel", async () => {
  await tunnel('mine');
  const other = await edge.credential(OTHER_ADMIN);
  assert.equal(
    (
      await api(
        'POST',
        'routes',
        { hostname: 'redis.airlock.test', tunnel: 'mine', service: 'tcp://127.0.0.1:1' },
        other,
      )
    ).status,
    403,
  );
  assert.equal((await api('DELETE', 'tunnels/mine', undefined, other)).status, 403);
  assert.equal((await api('POST', 'tunnels', { name: 'mine' }, other)).status, 409);
});

test('an app declared in edge.yaml but not routed answers 503 saying it is not published', async () => {
  const answer = await edgeJson(edge, 'GET', '/', { host: 'redis.airlock.test' });
  assert.equal(answer.status, 503);
  assert.match(String(answer.body.message), /redis\.airlock\.test is not published yet/);
});

test('every admin call is audited: who, what, allowed or not', async () => {
  await api('GET', 'tunnels');
  await edgeJson(edge, 'GET', '/cdn-cgi/admin/tunnels');
  await new Promise((resolve) => setTimeout(resolve, 200));
  const records = readFileSync(edge.auditFile, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record.event === 'admin');
  assert.ok(
    records.some(
      (record) =>
        record.who === ADMIN.email &&
        record.action === 'GET tunnels' &&
        record.decision === 'allow' &&
        record.status === 200,
    ),
  );
  assert.ok(
    records.some((record) => record.who === 'anonymous' && record.decision === 'deny' && record.status === 401),
  );
  assert.ok(
    records.some(
      (record) =>
        record.action === 'POST routes' && record.target === 'redis.example.org' && record.decision === 'deny',
    ),
  );
  assert.ok(!readFileSync(edge.auditFile, 'utf8').includes(token), 'no credential in the audit log');
});
