// Every refusal made before an identity is established shares one audit budget per address and per
// network (IPv4 /24): junk app tokens, unknown service-token ids (and their 429s), anonymous
// discovery and admin calls with long paths, connector upgrades with bad tunnel tokens, and the
// same spread over many addresses of one network. Past it they are counted into `suppressed`
// records that keep counts by reason and by requested host. Each kind comes from its own network,
// so its bytes of audit log can be told apart.
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startChain, startEchoServer } from '../helpers/chain.js';
import { HEADER, PATH, TUNNEL_UPGRADE } from '../../src/shared/constants.js';
import {
  REFUSALS_PER_ADDRESS_PER_MINUTE,
  REFUSALS_PER_NETWORK_PER_MINUTE,
} from '../../src/edge/observability/refusal-budget.js';

/** 500 per kind keeps the suite quick; AIRLOCK_REFUSAL_FLOOD=3000 repeats the red team's run (issue 24). */
const PER_KIND = Number(process.env.AIRLOCK_REFUSAL_FLOOD ?? 500);
const PARALLEL = 8;
const APP = 'budget.airlock.test';

interface Kind {
  name: string;
  network: string;
  addresses: number;
  path: string;
  headers: Record<string, string>;
  /** No keep-alive: the edge answers a refused upgrade and closes. */
  upgrade?: boolean;
}

test(`${PER_KIND} refusals before identity of each kind write a bounded audit log that still names what was probed`, async (t) => {
  const echo = await startEchoServer();
  const auditFile = join(mkdtempSync('/tmp/airlock-refusal-budget-'), 'audit.jsonl');
  const chain = await startChain([{ hostname: APP, service: `tcp://127.0.0.1:${echo.port}` }], {
    extraYaml: `audit: { file: ${auditFile} }\n`,
  });
  const ca = readFileSync(chain.pki.ca);
  const edge = new URL(chain.edgeUrl);
  const kinds: Kind[] = [
    {
      name: 'junk cf-access-token on an app host',
      network: '127.31.0',
      addresses: 1,
      path: '/',
      headers: { host: APP, [HEADER.accessToken]: 'junk'.repeat(40) },
    },
    {
      name: '128-character unknown service-token ids',
      network: '127.32.0',
      addresses: 1,
      path: '/',
      headers: { host: APP, [HEADER.clientId]: 'i'.repeat(128), [HEADER.clientSecret]: 's'.repeat(43) },
    },
    { name: 'anonymous /cdn-cgi/access/apps', network: '127.33.0', addresses: 1, path: PATH.apps, headers: {} },
    {
      name: 'anonymous admin API, 2 KB paths',
      network: '127.34.0',
      addresses: 1,
      path: `${PATH.adminPrefix}${'p'.repeat(2048)}`,
      headers: {},
    },
    {
      name: 'connector upgrades with bad tunnel tokens',
      network: '127.35.0',
      addresses: 1,
      path: PATH.tunnel,
      headers: { connection: 'Upgrade', upgrade: TUNNEL_UPGRADE, authorization: 'Bearer bad-token' },
      upgrade: true,
    },
    {
      name: 'junk tokens from 250 addresses of one /24',
      network: '127.36.0',
      addresses: 250,
      path: '/',
      headers: { host: APP, [HEADER.accessToken]: 'junk' },
    },
  ];
  for (const kind of kinds) {
    const agents = Array.from(
      { length: kind.addresses },
      (_, index) => new https.Agent({ keepAlive: !kind.upgrade, ca, localAddress: `${kind.network}.${index + 1}` }),
    );
    let sent = 0;
    const statuses: Record<number, number> = {};
    const started = Date.now();
    const worker = async () => {
      while (sent < PER_KIND && Date.now() - started < 120_000) {
        const agent = agents[sent++ % agents.length]!;
        const status = await new Promise<number>((resolve) => {
          const request = https.request({
            host: edge.hostname,
            port: edge.port,
            path: kind.path,
            agent,
            headers: kind.headers,
          });
          request.on('response', (response) => {
            response.resume();
            response.on('end', () => resolve(response.statusCode ?? 0));
            response.on('error', () => resolve(response.statusCode ?? 0));
          });
          request.on('upgrade', (_response, socket) => (socket.destroy(), resolve(101)));
          request.on('error', () => resolve(0));
          request.end();
        });
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    for (const agent of agents) agent.destroy();
    assert.equal(sent, PER_KIND, kind.name);
    assert.equal(statuses[101] ?? 0, 0, `${kind.name}: nothing accepted`);
    t.diagnostic(`${kind.name}: ${JSON.stringify(statuses)}`);
  }
  await chain.close(); // writes the pending `suppressed` records
  await echo.close();
  const lines = readFileSync(auditFile, 'utf8').trim().split('\n');
  for (const kind of kinds) {
    const mine = lines.filter((line) => line.includes(`"${kind.network}.`) || line.includes(`"${kind.network}.0/24"`));
    const records = mine.map((line) => JSON.parse(line) as Record<string, unknown>);
    const written = records.filter((record) => record.event !== 'suppressed');
    const suppressed = records.filter((record) => record.event === 'suppressed');
    const bytes = mine.reduce((sum, line) => sum + line.length + 1, 0);
    t.diagnostic(
      `${kind.name}: ${bytes} bytes of audit log, ${written.length} records + ${suppressed.length} suppressed`,
    );
    const allowance = kind.addresses === 1 ? REFUSALS_PER_ADDRESS_PER_MINUTE : REFUSALS_PER_NETWORK_PER_MINUTE;
    assert.ok(written.length <= allowance, `${kind.name}: at most ${allowance} records written (${written.length})`);
    const counted = suppressed.reduce((sum, record) => sum + Number(record.count), 0);
    assert.equal(written.length + counted, PER_KIND, `${kind.name}: every refusal is written or counted`);
    assert.ok(bytes < 60_000, `${kind.name}: ${bytes} bytes`);
    for (const record of suppressed) {
      assert.equal(record.network, `${kind.network}.0/24`);
      assert.ok(Object.keys(record.reasons as object).length > 0, 'counts by reason');
      assert.ok(Object.keys(record.hosts as object).length > 0, 'counts by requested host');
    }
    if (kind.headers.host)
      assert.ok(
        suppressed.some((record) => (record.hosts as Record<string, number>)[APP]),
        'names the host probed',
      );
    if (kind.addresses > 1) assert.equal(suppressed[0]?.addresses, kind.addresses, 'how many addresses took part');
  }
});
