// Edges on one database publish a fingerprint of the configuration they must share; one started
// with a different edge.yaml (here an app's policy) is named in the others' /healthz and logs,
// and edges that agree say so.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { freePort, testPki, type TestPki } from '../helpers/chain.js';
import { postgresMissing, startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { multiEdgeYaml, writeConfig } from '../helpers/multi-edge.js';
import { waitUntil } from '../helpers/airlock-processes.js';
import { CookieJar, step } from '../helpers/cookie-fetch.js';
import { loadEdgeConfig } from '../../src/edge/config/config.js';
import { startEdge, type RunningEdge } from '../../src/edge/edge-server.js';
import { PATH } from '../../src/shared/constants.js';

const skip = postgresMissing;
if (skip) console.log(`# config-agreement suite skipped: ${skip}`);

let pki: TestPki;
let db: RunningPostgres;
const edges: { edge: RunningEdge; logs: Array<Record<string, unknown>> }[] = [];

const logger = (logs: Array<Record<string, unknown>>) => {
  const write = (fields: Record<string, unknown> | string) =>
    void logs.push(typeof fields === 'string' ? { message: fields } : fields);
  return { info: write, warn: write, error: write, debug: () => undefined, child: () => logger(logs) } as never;
};

before(async () => {
  if (skip) return;
  pki = await testPki();
  db = await startPostgres();
  const publicPort = await freePort();
  const app = { hostname: 'agree.airlock.test', aud: randomBytes(16).toString('hex'), service: 'tcp://127.0.0.1:9' };
  for (const differs of [false, false, true]) {
    let yaml = multiEdgeYaml({ pki, port: await freePort(), publicPort, pgUrl: db.url, app });
    if (differs) yaml = yaml.replace('{ emailDomain: example.com }, ', '');
    const logs: Array<Record<string, unknown>> = [];
    edges.push({ edge: await startEdge({ config: loadEdgeConfig(writeConfig(pki, yaml)), log: logger(logs) }), logs });
  }
});

after(async () => {
  if (skip) return;
  for (const { edge } of edges) await edge.close(200);
  db?.destroy();
});

async function health(edge: RunningEdge) {
  const text = (await step(new CookieJar(readFileSync(pki.ca)), `https://127.0.0.1:${edge.port}${PATH.health}`)).text;
  return JSON.parse(text) as {
    status: string;
    config: { fingerprint: string; agrees: boolean; differingPeers: { edgeId: string }[] };
  };
}

test(
  'an edge with a different edge.yaml is named in the others’ /healthz and logs; the ones that agree match',
  { skip },
  async () => {
    const [first, second, odd] = edges.map(({ edge }) => edge);
    await waitUntil(
      'every edge to have compared with the others',
      async () =>
        (await health(first!)).config.differingPeers.length === 1 &&
        (await health(odd!)).config.differingPeers.length === 2,
      15_000,
      250,
    );
    const [one, two, three] = await Promise.all([health(first!), health(second!), health(odd!)]);
    assert.equal(one.config.fingerprint, two.config.fingerprint, 'the same edge.yaml, the same fingerprint');
    assert.notEqual(one.config.fingerprint, three.config.fingerprint);
    assert.deepEqual(
      one.config.differingPeers.map((peer) => peer.edgeId),
      [odd!.edgeId],
    );
    assert.deepEqual(
      three.config.differingPeers.map((peer) => peer.edgeId).sort(),
      [first!.edgeId, second!.edgeId].sort(),
    );
    assert.equal(one.config.agrees, false);
    assert.equal(one.status, 'degraded');
    assert.ok(
      edges[0]!.logs.some((line) => line.event === 'config-mismatch' && line.peer === odd!.edgeId),
      'the mismatch is logged',
    );
  },
);
