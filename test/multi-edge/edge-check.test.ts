// `airlock edge --check` against PostgreSQL: a fresh database (no tables yet) is fine and said to
// be so; an unreachable one is named by host and port.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, testPki, type TestPki } from '../helpers/chain.js';
import { postgresMissing, startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { writeConfig } from '../helpers/multi-edge.js';
import { airlock } from '../helpers/processes.js';
import { MIGRATIONS } from '../../src/edge/state/postgres.js';

const skip = postgresMissing;
if (skip) console.log(`# edge-check suite skipped: ${skip}`);

let pki: TestPki;
let db: RunningPostgres;

before(async () => {
  if (skip) return;
  pki = await testPki();
  db = await startPostgres();
});

after(() => db?.destroy());

const yaml = (url: string) =>
  `listen: 127.0.0.1:0\ntls: { cert: ${pki.cert}, key: ${pki.key} }\nstate: { postgres: { url: "${url}" } }\n`;

test(
  '--check on a fresh database (no edge has started yet) passes and says the first edge creates the tables',
  { skip },
  async () => {
    const check = airlock(['edge', '--check', '--config', writeConfig(pki, yaml(db.url))]);
    assert.equal(await check.exited(30_000), 0, check.output());
    assert.match(
      check.output(),
      new RegExp(
        `schema version 0 \\(a fresh database: the first edge to start creates the tables, version ${MIGRATIONS.length}\\)`,
      ),
    );
  },
);

test('--check names the database host and port it cannot reach', { skip }, async () => {
  const closed = await freePort();
  const check = airlock([
    'edge',
    '--check',
    '--config',
    writeConfig(pki, yaml(`postgres://airlock@127.0.0.1:${closed}/airlock`)),
  ]);
  assert.equal(await check.exited(30_000), 2, check.output());
  assert.match(
    check.output(),
    new RegExp(`cannot reach the database at 127\\.0\\.0\\.1:${closed}/airlock \\(ECONNREFUSED`),
  );
});
