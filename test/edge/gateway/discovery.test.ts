// Discovery: GET /cdn-cgi/access/apps lists what the caller's policy admits from its address,
// with edge.yaml's display hints, and nothing about the rest (not in the body, headers or audit).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';
import { SERVICE_TOKEN, testPki, type TestPki } from '../../helpers/chain.js';
import { parseEdgeConfig } from '../../../src/edge/config/config.js';
import { startEdge, type RunningEdge } from '../../../src/edge/edge-server.js';
import { issueOrganisationToken } from '../../../src/edge/sign-in/organisation-session.js';
import { SigningKeys } from '../../../src/edge/tokens/signing-keys.js';
import { HEADER, PATH, SSO } from '../../../src/shared/constants.js';
import { createTokenStore } from '../../../src/core/token-store.js';
import { airlock } from '../../helpers/processes.js';
import { hashSecret } from '../../../src/shared/secrets.js';

let pki: TestPki;
let edge: RunningEdge;
let issuer: string;
let auditFile: string;

/** Outside the range the test helpers hand out (20,000–32,000) and below the ephemeral ports. */
const CI_PORT = 18_555;
const ADA = { sub: 'ada', email: 'ada@example.com', groups: ['eng'] };
const EVE = { sub: 'eve', email: 'eve@example.com', groups: ['sales'] };
const app = (hostname: string, policy: string, extra = '', routed = true) => `  - hostname: ${hostname}
    aud: ${randomBytes(16).toString('hex')}
${routed ? '    tunnel: t1\n    service: tcp://127.0.0.1:5432\n' : ''}${extra}    policy:
${policy}`;

function discoveryYaml(pki: TestPki, dir: string, displayOverride?: string): string {
  return `listen: 127.0.0.1:0
tls: { cert: ${pki.cert}, key: ${pki.key} }
stateDir: ${join(dir, 'state')}
audit: { file: ${join(dir, 'audit.jsonl')} }
apps:
${app('db.airlock.test', '      include: [{ group: eng }]', displayOverride ?? '    display: { name: Engineering database, description: Postgres for the eng team, kind: postgres, localPort: 15432 }\n')}
${app('crm.airlock.test', '      include: [{ group: sales }]', '    display: { name: CRM, kind: other }\n')}
${app('lab.airlock.test', '      include: [{ emailDomain: example.com }]\n      require: [{ ip: 127.0.0.2/32 }]')}
${app('ci.airlock.test', `      include: [{ serviceToken: ${SERVICE_TOKEN.id} }]`, `    display: { kind: other, localPort: ${CI_PORT} }\n`)}
${app('next.airlock.test', '      include: [{ group: eng }]', '', false)}
tunnels:
  - { id: t1, secretHash: "${hashSecret('t'.repeat(43))}" }
serviceTokens:
  - { id: ${SERVICE_TOKEN.id}, secretHash: "${hashSecret(SERVICE_TOKEN.secret)}" }
`;
}

before(async () => {
  pki = await testPki();
  const dir = mkdtempSync(join(pki.dir, 'discovery-'));
  auditFile = join(dir, 'audit.jsonl');
  const file = join(dir, 'edge.yaml');
  writeFileSync(file, discoveryYaml(pki, dir));
  const config = parseEdgeConfig(readFileSync(file, 'utf8'), file);
  edge = await startEdge({ config });
  issuer = new URL(config.publicUrl).origin;
});
after(() => edge?.close(200));

const session = async (who: typeof ADA, keys = edge.keys) =>
  (await issueOrganisationToken({ keys, issuer, identity: who, sessionMs: 600_000 })).token;

function list(
  headers: Record<string, string>,
  localAddress = '127.0.0.1',
): Promise<{
  status: number;
  headers: Record<string, unknown>;
  body: { apps?: Array<Record<string, unknown>>; message?: string };
}> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        port: edge.port,
        path: PATH.apps,
        localAddress,
        ca: readFileSync(pki.ca),
        headers,
        agent: false,
      },
      (response) => {
        let text = '';
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: JSON.parse(text) }),
        );
      },
    );
    request.on('error', reject);
    request.end();
  });
}
const hostnames = (answer: Awaited<ReturnType<typeof list>>) => (answer.body.apps ?? []).map((entry) => entry.hostname);

test('two users with different groups see different lists, with the display hints', async () => {
  const ada = await list({ [HEADER.accessToken]: await session(ADA) });
  assert.equal(ada.status, 200);
  assert.deepEqual(ada.body.apps, [
    {
      hostname: 'db.airlock.test',
      name: 'Engineering database',
      description: 'Postgres for the eng team',
      kind: 'postgres',
      localPort: 15432,
    },
  ]);
  const eve = await list({ [HEADER.accessToken]: await session(EVE) });
  assert.deepEqual(hostnames(eve), ['crm.airlock.test']);
  for (const [answer, hidden] of [
    [ada, 'crm'],
    [eve, 'db'],
  ] as const) {
    assert.doesNotMatch(
      JSON.stringify(answer.body) + JSON.stringify(answer.headers),
      new RegExp(hidden),
      "nothing names the other user's apps",
    );
  }
});

test('an app published to no tunnel yet is left out, even for users its policy admits', async () => {
  assert.ok(!hostnames(await list({ [HEADER.accessToken]: await session(ADA) })).includes('next.airlock.test'));
});

test('an IP-restricted app is listed only from the allowed address', async () => {
  const token = await session(ADA);
  assert.ok(!hostnames(await list({ [HEADER.accessToken]: token })).includes('lab.airlock.test'));
  assert.deepEqual(hostnames(await list({ [HEADER.accessToken]: token }, '127.0.0.2')), [
    'db.airlock.test',
    'lab.airlock.test',
  ]);
});

test('a service token sees only its own apps', async () => {
  const answer = await list({ [HEADER.clientId]: SERVICE_TOKEN.id, [HEADER.clientSecret]: SERVICE_TOKEN.secret });
  assert.deepEqual(hostnames(answer), ['ci.airlock.test']);
  assert.equal(answer.body.apps![0]!.localPort, CI_PORT);
});

test("no session, a forged token, another edge's token, or an app token: 401 with the sign-in hint", async () => {
  const foreign = await SigningKeys.open(join(mkdtempSync(join(pki.dir, 'foreign-')), 'keys'));
  const forged = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ aud: ['airlock-organisation'], type: 'org', sub: 'x', email: 'x@example.com', groups: ['eng'], sid: 's' })).toString('base64url')}.`;
  const attempts: Record<string, string>[] = [
    {},
    { [HEADER.accessToken]: forged },
    { [HEADER.accessToken]: await session(ADA, foreign) },
    { [HEADER.clientId]: SERVICE_TOKEN.id, [HEADER.clientSecret]: 'wrong' },
  ];
  for (const headers of attempts) {
    const answer = await list(headers);
    assert.equal(answer.status, 401, JSON.stringify(headers).slice(0, 60));
    assert.match(String(answer.body.message), /sign in to this edge first \(airlock access login HOST\)/);
    assert.equal(answer.body.apps, undefined);
  }
});

test('the audit records who asked and how many were listed, never which others exist', async () => {
  await list({ [HEADER.accessToken]: await session(EVE) });
  const records = readFileSync(auditFile, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record.event === 'apps');
  const eve = records.filter((record) => record.who === 'eve@example.com').at(-1)!;
  assert.deepEqual({ status: eve.status, listed: eve.listed }, { status: 200, listed: 1 });
  assert.ok(records.every((record) => !JSON.stringify(record).includes('db.airlock.test')));
});

test('a huge or malformed display block is refused with its path', () => {
  const dir = mkdtempSync(join(pki.dir, 'discovery-bad-'));
  const bad = (display: string) => () =>
    parseEdgeConfig(discoveryYaml(pki, dir, `    display: ${display}\n`), 'edge.yaml');
  assert.throws(bad(`{ description: ${'x'.repeat(300)} }`), /apps\[0\]\.display\.description/);
  assert.throws(bad('{ kind: ftp }'), /apps\[0\]\.display\.kind/);
  assert.throws(bad('{ localPort: 70000 }'), /apps\[0\]\.display\.localPort/);
  assert.throws(bad('{ icon: x.png }'), /apps\[0\]\.display: unknown key "icon"/);
});

test('`airlock access list` prints the table with the session of the last sign-in; without one it says how to sign in', async () => {
  const home = mkdtempSync(join(pki.dir, 'discovery-home-'));
  const edgeUrl = `https://127.0.0.1:${edge.port}`;
  const none = airlock(['access', 'list', '--edge', edgeUrl, '--ca', pki.ca], { XDG_CONFIG_HOME: home });
  assert.equal(await none.exited(), 1);
  assert.match(
    none.output(),
    /not signed in to https:\/\/127\.0\.0\.1:\d+: run `airlock access login HOST` for any app of that edge first/,
  );
  // As the first sign-in leaves it: the organisation session in the same store the CLI reads.
  await createTokenStore({ file: join(home, 'airlock', 'tokens.json') }).set(
    edgeUrl,
    SSO.organisationAud,
    await session(ADA),
  );
  const listed = airlock(['access', 'list', '--edge', edgeUrl, '--ca', pki.ca], { XDG_CONFIG_HOME: home });
  assert.equal(await listed.exited(), 0, listed.output());
  assert.match(listed.output(), /^HOSTNAME\s+NAME\s+KIND\s+PORT$/m);
  assert.match(listed.output(), /^db\.airlock\.test\s+Engineering database\s+postgres\s+15432$/m);
  assert.doesNotMatch(listed.output(), /crm/);
  const json = airlock(['access', 'list', '--edge', edgeUrl, '--ca', pki.ca, '--json'], { XDG_CONFIG_HOME: home });
  assert.equal(await json.exited(), 0);
  assert.deepEqual(
    JSON.parse(json.output().slice(json.output().indexOf('['))).map((entry: { hostname: string }) => entry.hostname),
    ['db.airlock.test'],
  );
});

test('`airlock access list` remembers its edge and CA: the next list and `access tcp --hostname APP` need neither flag', async () => {
  const home = mkdtempSync(join(pki.dir, 'discovery-profiles-'));
  const edgeUrl = `https://127.0.0.1:${edge.port}`;
  const bare = airlock(['access', 'list'], { XDG_CONFIG_HOME: home });
  assert.equal(await bare.exited(), 2, bare.output());
  assert.match(bare.output(), /^airlock: \[BAD_ARGUMENT\] no edge is remembered yet: pass --edge URL/m);

  await createTokenStore({ file: join(home, 'airlock', 'tokens.json') }).set(
    edgeUrl,
    SSO.organisationAud,
    await session(ADA),
  );
  const first = airlock(['access', 'list', '--edge', edgeUrl, '--ca', pki.ca], { XDG_CONFIG_HOME: home });
  assert.equal(await first.exited(), 0, first.output());
  const remembered = JSON.parse(readFileSync(join(home, 'airlock', 'profiles.json'), 'utf8')) as {
    apps: Record<string, { edge?: string; ca?: string }>;
  };
  assert.deepEqual(remembered.apps['db.airlock.test'], { edge: edgeUrl, ca: pki.ca });
  assert.equal(remembered.apps['crm.airlock.test'], undefined, 'only the apps it listed');

  // No --edge, no --ca: the edge and its CA (a private one: without it TLS would fail) come from the profile.
  const again = airlock(['access', 'list'], { XDG_CONFIG_HOME: home });
  assert.equal(await again.exited(), 0, again.output());
  assert.match(again.output(), /^db\.airlock\.test\s+Engineering database\s+postgres\s+15432$/m);
  const byHost = airlock(['access', 'list', '--hostname', 'db.airlock.test', '--json'], { XDG_CONFIG_HOME: home });
  assert.equal(await byHost.exited(), 0, byHost.output());
  const unknown = airlock(['access', 'list', '--hostname', 'db.elsewhere.test'], { XDG_CONFIG_HOME: home });
  assert.equal(await unknown.exited(), 2);
  assert.match(unknown.output(), /\[BAD_ARGUMENT\] no edge is remembered for db\.elsewhere\.test: pass --edge URL/);

  // --edge alone: the CA remembered with that edge is used.
  const edgeOnly = airlock(['access', 'list', '--edge', edgeUrl], { XDG_CONFIG_HOME: home });
  assert.equal(await edgeOnly.exited(), 0, edgeOnly.output());

  // The service token lists ci.airlock.test, which is then remembered too; `access tcp --hostname`
  // alone reaches the edge through the remembered CA: the edge answers that no connector serves
  // it (no connector runs in this file), not ENOTFOUND for ci.airlock.test:443 or a TLS failure.
  const token = { AIRLOCK_SERVICE_TOKEN_ID: SERVICE_TOKEN.id, AIRLOCK_SERVICE_TOKEN_SECRET: SERVICE_TOKEN.secret };
  const service = airlock(['access', 'list'], { XDG_CONFIG_HOME: home, ...token });
  assert.equal(await service.exited(), 0, service.output());
  assert.match(service.output(), /^ci\.airlock\.test\s/m);
  const port = CI_PORT + 7;
  const tcp = airlock(['access', 'tcp', '--hostname', 'ci.airlock.test', '--url', `127.0.0.1:${port}`], {
    XDG_CONFIG_HOME: home,
    ...token,
  });
  try {
    await tcp.waitFor(new RegExp(`Listening on 127\\.0\\.0\\.1:${port} `));
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    await tcp.waitFor(/connection 1 failed: .*offline/);
    socket.destroy();
  } finally {
    await tcp.stop();
  }
  assert.doesNotMatch(tcp.output(), /ENOTFOUND|EDGE_UNREACHABLE|TLS_FAILED/);
});

test('`airlock access tcp` without --url listens on the port the edge suggests, or the next free one', async () => {
  const env = { AIRLOCK_SERVICE_TOKEN_ID: SERVICE_TOKEN.id, AIRLOCK_SERVICE_TOKEN_SECRET: SERVICE_TOKEN.secret };
  const args = [
    'access',
    'tcp',
    '--hostname',
    'ci.airlock.test',
    '--edge',
    `https://127.0.0.1:${edge.port}`,
    '--ca',
    pki.ca,
  ];
  const first = airlock(args, env);
  try {
    await first.waitFor(new RegExp(`Listening on 127\\.0\\.0\\.1:${CI_PORT} `));
    // The suggested port is now taken (by the first client): the second one moves on.
    const second = airlock(args, env);
    try {
      await second.waitFor(new RegExp(`Listening on 127\\.0\\.0\\.1:${CI_PORT + 1} `));
      assert.match(
        second.output(),
        new RegExp(`port ${CI_PORT}, which the edge suggests for ci\\.airlock\\.test, is in use; using ${CI_PORT + 1}`),
      );
    } finally {
      await second.stop();
    }
  } finally {
    await first.stop();
  }
});
