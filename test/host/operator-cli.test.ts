// The operator commands that need no browser, against a real edge: logout, and the refusals that
// happen before the edge is asked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN, edgeJson, startHostEdge, type HostEdge } from '../helpers/host-edge.js';
import { airlock } from '../helpers/processes.js';
import { edgeKey } from '../../src/cli/operator/operator-files.js';

let edge: HostEdge;
before(async () => {
  edge = await startHostEdge();
});
after(() => edge?.close());

async function homeWithCredential(token: string): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'airlock-op-'));
  mkdirSync(join(home, 'airlock', 'operator'), { recursive: true });
  const origin = new URL(edge.edgeUrl).origin;
  writeFileSync(
    join(home, 'airlock', 'operator', `${edgeKey(origin)}.json`),
    JSON.stringify({
      edge: origin,
      token,
      email: ADMIN.email,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      caFile: edge.pki.ca,
    }),
    { mode: 0o600 },
  );
  return home;
}

test('`airlock tunnel logout` revokes the credential at the edge and forgets it; a kept copy no longer works', async () => {
  const token = await edge.credential();
  const home = await homeWithCredential(token);
  const logout = airlock(['tunnel', 'logout'], { XDG_CONFIG_HOME: home });
  assert.equal(await logout.exited(), 0, logout.output());
  assert.match(logout.output(), /Logged out of https:\/\/127\.0\.0\.1:\d+: the credential is revoked at the edge/);
  assert.ok(!existsSync(join(home, 'airlock', 'operator', `${edgeKey(edge.edgeUrl)}.json`)));
  const answer = await edgeJson(edge, 'GET', '/cdn-cgi/admin/whoami', { token });
  assert.equal(answer.status, 401);
  assert.equal(answer.body.error, 'credential_revoked');
});

test('commands without any operator credential say to log in first and exit non-zero', async () => {
  const run = airlock(['tunnel', 'list'], { XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'airlock-op-')) });
  assert.equal(await run.exited(), 1);
  assert.match(run.output(), /not logged in to any edge: run `airlock tunnel login --edge https:\/\/EDGE` first/);
});

test('`airlock tunnel login` on an edge without admins: says so at once, before any browser', async () => {
  const { startChain } = await import('../helpers/chain.js');
  const chain = await startChain([]);
  try {
    const run = airlock(['tunnel', 'login', '--edge', chain.edgeUrl, '--ca', chain.pki.ca], {
      XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'airlock-op-')),
    });
    assert.equal(await run.exited(), 1);
    assert.match(run.output(), /this edge has no `admins:` policy in edge\.yaml/);
    assert.doesNotMatch(run.output(), /cdn-cgi\/access\/cli/);
  } finally {
    await chain.close();
  }
});

test('`airlock tunnel login` refuses an --edge that is not https', async () => {
  const run = airlock(['tunnel', 'login', '--edge', 'http://127.0.0.1:1'], {
    XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'airlock-op-')),
  });
  assert.equal(await run.exited(), 2);
  assert.match(run.output(), /--edge must be an https:\/\/ URL/);
});

test('`airlock tunnel` with a mistyped subcommand names it instead of asking for --hostname', async () => {
  const run = airlock(['tunnel', 'lst'], { XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'airlock-op-')) });
  assert.equal(await run.exited(), 2);
  assert.match(run.output(), /unknown command "tunnel lst"/);
});

test('`airlock tunnel --hostname` talks to a person: readable lines on the terminal, JSON only in a --log-file or with --log-format json', async (t) => {
  const home = await homeWithCredential(await edge.credential());
  const logFile = join(home, 'connector.jsonl');
  const publish = (...extra: string[]) =>
    airlock(
      ['tunnel', '--hostname', 'redis.airlock.test', '--url', 'tcp://127.0.0.1:6379', '--connections', '1', ...extra],
      { XDG_CONFIG_HOME: home, AIRLOCK_LOG_LEVEL: 'info' },
    );

  const human = publish('--log-file', logFile);
  t.after(() => human.stop());
  await human.waitFor(/Published redis\.airlock\.test: the connector is connected/);
  await human.stop();
  const lines = human.output().trim().split('\n');
  assert.deepEqual(
    lines.filter((line) => line.trimStart().startsWith('{')),
    [],
    human.output(),
  );
  assert.match(human.output(), /^\d\d:\d\d:\d\d connected to edge \(index=0, edge=https:\/\/127\.0\.0\.1:\d+\)$/m);
  const records = readFileSync(logFile, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { name: string; msg: string; index?: number });
  assert.ok(
    records.some((record) => record.name === 'connector' && record.msg === 'connected to edge' && record.index === 0),
    JSON.stringify(records),
  );
  assert.equal(statSync(logFile).mode & 0o777, 0o600);

  const json = publish('--log-format', 'json');
  t.after(() => json.stop());
  await json.waitFor(/Published redis\.airlock\.test/);
  await json.stop();
  assert.match(json.output(), /^\{"level":30,.*"msg":"connected to edge"\}$/m);
});

test('`airlock tunnel --hostname` refuses a --log-format it does not know', async () => {
  const run = airlock(
    ['tunnel', '--hostname', 'redis.airlock.test', '--url', 'tcp://127.0.0.1:6379', '--log-format', 'xml'],
    { XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'airlock-op-')) },
  );
  assert.equal(await run.exited(), 2);
  assert.match(run.output(), /--log-format must be json or text, got "xml"/);
});
