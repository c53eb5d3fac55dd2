// An audit log that cannot be written (a full disk: /dev/full answers every write with ENOSPC)
// never takes the edge down: it keeps serving and says degraded, holds records in a bounded
// buffer, and writes them and a record of the gap once the file works again. With
// `audit.onFailure: refuse` it refuses new streams instead while the log cannot be written.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startChain, startEchoServer, SERVICE_TOKEN, type Chain } from '../../helpers/chain.js';
import { startClient, echoRoundTrip } from '../../helpers/client.js';
import { CookieJar, step } from '../../helpers/cookie-fetch.js';
import { waitUntil } from '../../helpers/airlock-processes.js';
import { openAuditFile } from '../../../src/edge/observability/audit-file.js';
import { HEADER } from '../../../src/shared/constants.js';

const APP = 'audited.airlock.test';
const dir = mkdtempSync(join(tmpdir(), 'airlock-audit-failure-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** An audit path that is a symlink: to /dev/full (every write fails) or to a real file. */
function pointAt(link: string, target: string): void {
  rmSync(link, { force: true });
  symlinkSync(target, link);
}

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

test('records written while the disk is full are buffered (bounded), then written with a gap record', async () => {
  const link = join(dir, 'unit.jsonl');
  const real = join(dir, 'unit-real.jsonl');
  writeFileSync(real, '');
  pointAt(link, '/dev/full');
  const changes: boolean[] = [];
  let drops = 0;
  const file = openAuditFile(link, {
    bufferRecords: 3,
    retryMs: 50,
    onChange: (health) => changes.push(health.writable),
    onDrop: () => drops++,
  });
  try {
    file.writeLine('{"n":0}\n');
    await waitUntil('the write to fail', () => !file.health().writable, 5_000, 10);
    assert.match(file.health().error ?? '', /ENOSPC/);
    for (let n = 1; n < 10; n++) file.writeLine(`{"n":${n}}\n`);
    assert.deepEqual(
      { ...file.health(), failingSince: undefined, error: undefined },
      {
        writable: false,
        failingSince: undefined,
        error: undefined,
        buffered: 3,
        dropped: 7,
      },
    );
    assert.equal(drops, 7);
    pointAt(link, real);
    await waitUntil('writing to work again', () => file.health().writable, 5_000, 10);
    file.writeLine('{"n":10}\n');
    await waitUntil('the last record', () => lines(real).length === 5, 5_000, 10);
    const written = lines(real);
    assert.deepEqual(
      written.map((line) => line.n ?? line.event),
      [0, 1, 2, 'audit-gap', 10],
    );
    const gap = written[3]!;
    assert.equal(gap.dropped, 7);
    assert.ok(Date.parse(String(gap.from)) <= Date.parse(String(gap.to)), 'from .. to');
    assert.ok(Date.parse(String(gap.failingSince)) <= Date.parse(String(gap.from)));
    assert.deepEqual(changes, [false, true]);
    assert.deepEqual(file.health(), { writable: true, buffered: 0, dropped: 0 });
  } finally {
    await file.close();
  }
});

async function get(chain: Chain, path: string): Promise<{ status: number; text: string }> {
  return step(new CookieJar(readFileSync(chain.pki.ca)), `${chain.edgeUrl}${path}`);
}

async function health(chain: Chain): Promise<Record<string, unknown>> {
  const answer = await get(chain, '/healthz');
  assert.equal(answer.status, 200, 'degraded is still 200: the balancer keeps the edge');
  return JSON.parse(answer.text) as Record<string, unknown>;
}

/** The edge's answer to a WebSocket upgrade for the app with the service token. */
function upgrade(chain: Chain): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${chain.edgeUrl.replace('https:', 'wss:')}/`, {
      headers: { host: APP, [HEADER.clientId]: SERVICE_TOKEN.id, [HEADER.clientSecret]: SERVICE_TOKEN.secret },
      ca: readFileSync(chain.pki.ca),
    });
    ws.once('open', () => (ws.terminate(), resolve({ status: 101, body: '' })));
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk));
      response.on('end', () => (ws.terminate(), resolve({ status: response.statusCode ?? 0, body })));
    });
    ws.once('error', () => resolve({ status: 0, body: '' }));
  });
}

describe('an edge whose audit file is /dev/full', () => {
  test('keeps serving streams and says degraded in /healthz and /metrics', async () => {
    const echo = await startEchoServer();
    const chain = await startChain([{ hostname: APP, service: `tcp://127.0.0.1:${echo.port}` }], {
      extraYaml: 'audit: { file: /dev/full }\n',
    });
    const client = await startClient(chain, APP);
    try {
      for (let round = 0; round < 3; round++) assert.equal(await echoRoundTrip(client.port, 64 * 1024), true);
      await waitUntil('the edge to notice', async () => (await health(chain)).status === 'degraded', 5_000);
      const said = await health(chain);
      const audit = said.audit as Record<string, unknown>;
      assert.equal(audit.writable, false);
      assert.match(String(audit.error), /ENOSPC/);
      assert.ok(Number(audit.buffered) > 0, 'the records are held');
      assert.match((await get(chain, '/metrics')).text, /^airlock_edge_audit_writable 0$/m);
      assert.equal(await echoRoundTrip(client.port, 64 * 1024), true, 'still serving');
    } finally {
      await client.listener.stop();
      await chain.close();
      await echo.close();
    }
  });

  test('with audit.onFailure: refuse, new streams are refused (503 audit_unavailable) until it can be written', async () => {
    const echo = await startEchoServer();
    const link = join(dir, 'refuse.jsonl');
    const real = join(dir, 'refuse-real.jsonl');
    writeFileSync(real, '');
    pointAt(link, '/dev/full');
    const chain = await startChain([{ hostname: APP, service: `tcp://127.0.0.1:${echo.port}` }], {
      extraYaml: `audit: { file: ${link}, onFailure: refuse }\n`,
    });
    try {
      // The first stream's records are what fail to be written.
      await upgrade(chain);
      await waitUntil('the edge to notice', async () => (await health(chain)).status === 'degraded', 5_000);
      const refused = await upgrade(chain);
      assert.equal(refused.status, 503);
      assert.equal((JSON.parse(refused.body) as { error: string }).error, 'audit_unavailable');
      pointAt(link, real);
      await waitUntil('the audit to be written again', async () => (await health(chain)).status === 'ok', 10_000);
      assert.equal((await upgrade(chain)).status, 101, 'served again');
      assert.ok(
        lines(real).some((line) => line.event === 'access' && line.decision === 'allow'),
        'the buffered records of the first stream reached the file',
      );
    } finally {
      await chain.close();
      await echo.close();
    }
  });
});
