// The audit log records every decision with who, app, reason and bytes; /healthz and /metrics answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startChain, startEchoServer, SERVICE_TOKEN, type Chain } from '../../helpers/chain.js';
import { startClient } from '../../helpers/client.js';

let chain: Chain;
let echo: Awaited<ReturnType<typeof startEchoServer>>;
let auditFile: string;

before(async () => {
  echo = await startEchoServer();
  const dir = (await import('node:fs')).mkdtempSync(join((await import('node:os')).tmpdir(), 'airlock-audit-'));
  auditFile = join(dir, 'audit.log');
  chain = await startChain([{ hostname: 'echo.airlock.test', service: `tcp://127.0.0.1:${echo.port}` }], {
    extraYaml: `audit: { file: ${auditFile} }\n`,
  });
});
after(async () => {
  await chain.close();
  await echo.close();
});

function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(`${chain.edgeUrl}${path}`, { ca: readFileSync(chain.pki.ca) }, (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** The audit stream is written asynchronously: wait (bounded) for a record to arrive. */
async function auditRecord(
  match: (line: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown> | undefined> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const found = auditLines().find(match);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return undefined;
}

function auditLines(): Array<Record<string, unknown>> {
  return readFileSync(auditFile, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

test('an allowed stream is audited at start and at end with bytes each way and duration', async () => {
  const client = await startClient(chain, 'echo.airlock.test');
  const socket = net.connect(client.port, '127.0.0.1');
  socket.write('x'.repeat(1000));
  let received = 0;
  for await (const chunk of socket) {
    received += (chunk as Buffer).length;
    if (received >= 1000) break;
  }
  socket.destroy();
  await client.listener.stop();
  const allow = await auditRecord((line) => line.event === 'access' && line.decision === 'allow');
  assert.ok(allow, 'an allow record');
  assert.equal(allow.who, `service-token:${SERVICE_TOKEN.id}`);
  assert.equal(allow.app, 'echo.airlock.test');
  assert.match(String(allow.reason), /included by/);
  const end = await auditRecord((line) => line.event === 'stream-end' && line.streamId === allow.streamId);
  assert.ok(end, 'a stream-end record with the same stream id');
  assert.equal(end.bytesUp, 1000);
  assert.equal(end.bytesDown, 1000);
  assert.equal(typeof end.durationMs, 'number');
});

test('a refused credential is audited with its reason and never its secret', async () => {
  const client = await startClient(chain, 'echo.airlock.test', {
    kind: 'service-token',
    id: SERVICE_TOKEN.id,
    secret: 'wrong-secret-value',
  });
  const socket = net.connect(client.port, '127.0.0.1');
  // The listener resets a connection the edge refused (a reset, not a clean end): wait for the close either way.
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.on('error', () => {});
  await closed;
  await client.listener.stop();
  const denied = await auditRecord(
    (line) => line.decision === 'login' && line.reason === 'service token secret does not match',
  );
  assert.ok(denied);
  assert.doesNotMatch(readFileSync(auditFile, 'utf8'), /wrong-secret-value|x{43}/);
});

test('/healthz reports connector connections and that the audit log is written', async () => {
  const { status, body } = await get('/healthz');
  assert.equal(status, 200);
  assert.deepEqual(JSON.parse(body), {
    status: 'ok',
    connectorConnections: 2,
    store: { kind: 'local' },
    audit: { writable: true, buffered: 0, dropped: 0 },
  });
});

test('/metrics serves Prometheus text to loopback', async () => {
  const { status, body } = await get('/metrics');
  assert.equal(status, 200);
  assert.match(body, /airlock_edge_decisions_total\{decision="allow"\} \d+/);
  assert.match(body, /airlock_edge_connector_connections\{tunnel="test-tunnel"\} 2/);
});
