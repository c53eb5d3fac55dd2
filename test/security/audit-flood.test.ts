// Anyone can send requests the edge refuses; none of them may fill the audit log. 10,000 anonymous
// requests with a 15 KB Host header: each is refused 400 before any lookup, no record holds more
// than a bounded field, and past 60 a minute per address they are counted in one `suppressed` record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startChain, startEchoServer } from '../helpers/chain.js';
import { REFUSALS_PER_ADDRESS_PER_MINUTE as ANONYMOUS_REFUSALS_PER_MINUTE } from '../../src/edge/observability/refusal-budget.js';

const REQUESTS = 10_000;
const PARALLEL = 8;

test(`${REQUESTS} anonymous requests with a 15 KB Host header write a bounded audit log`, async (t) => {
  const echo = await startEchoServer();
  const auditFile = join(mkdtempSync('/tmp/airlock-audit-flood-'), 'audit.jsonl');
  const chain = await startChain([{ hostname: 'flood.airlock.test', service: `tcp://127.0.0.1:${echo.port}` }], {
    extraYaml: `audit: { file: ${auditFile} }\n`,
  });
  const agent = new https.Agent({ keepAlive: true, maxSockets: PARALLEL, ca: readFileSync(chain.pki.ca) });
  const host = `${'a'.repeat(15 * 1024)}.airlock.test`;
  const statuses = new Map<number, number>();
  const started = Date.now();
  let sent = 0;
  const worker = async () => {
    while (sent < REQUESTS && Date.now() - started < 120_000) {
      sent++;
      const status = await new Promise<number>((resolve) => {
        const request = https.request(`${chain.edgeUrl}/`, { agent, headers: { host } }, (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        });
        request.on('error', () => resolve(0));
        request.end();
      });
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  agent.destroy();
  await chain.close(); // writes the pending `suppressed` count
  await echo.close();
  const bytes = statSync(auditFile).size;
  const records = readFileSync(auditFile, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  t.diagnostic(
    `${sent} requests in ${Date.now() - started} ms: ${JSON.stringify(Object.fromEntries(statuses))}; audit log ${bytes} bytes in ${records.length} records`,
  );
  assert.equal(statuses.get(400), REQUESTS, 'each refused 400 before any lookup');
  assert.ok(bytes < 100_000, `audit log stays small (${bytes} bytes)`);
  assert.ok(
    records.every((record) => JSON.stringify(record).length < 1_024),
    'no record holds the oversized header',
  );
  const refusals = records.filter((record) => record.event === 'access');
  assert.equal(refusals.length, ANONYMOUS_REFUSALS_PER_MINUTE);
  const suppressed = records
    .filter((record) => record.event === 'suppressed')
    .reduce((sum, record) => sum + Number(record.count), 0);
  assert.equal(suppressed, REQUESTS - ANONYMOUS_REFUSALS_PER_MINUTE, 'every request is accounted for');
});
