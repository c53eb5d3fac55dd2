// Behind HAProxy in TCP mode every connection comes from the balancer; with `send-proxy-v2` and
// edge.yaml `trustedProxies` the edges see the real client. Two clients on different loopback
// addresses (127.0.0.2, 127.0.0.3): an `ip:` rule admits one and refuses the other, one's bad
// service-token secrets do not get the other refused (429), and the audit names each. A trusted
// address without a header is refused; a header from an untrusted address is not honoured.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { join } from 'node:path';
import { freePort, SERVICE_TOKEN, testPki, type TestPki } from '../helpers/chain.js';
import { postgresMissing, startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { haproxyMissing, startHaproxy, type RunningHaproxy } from '../helpers/haproxy.js';
import { multiEdgeYaml, writeConfig } from '../helpers/multi-edge.js';
import { waitUntil } from '../helpers/airlock-processes.js';
import { upgradeStatus } from '../helpers/hostile.js';
import { loadEdgeConfig } from '../../src/edge/config/config.js';
import { startEdge, type RunningEdge } from '../../src/edge/edge-server.js';
import { DEFAULTS, HEADER } from '../../src/shared/constants.js';

const skip = postgresMissing ?? haproxyMissing;
if (skip) console.log(`# client-address suite skipped: ${skip}`);

const APP = 'addressed.airlock.test';
const ADMITTED = '127.0.0.2';
const OTHER = '127.0.0.3';

let pki: TestPki;
let db: RunningPostgres;
let lb: RunningHaproxy;
let auditFile: string;
const edges: RunningEdge[] = [];

before(async () => {
  if (skip) return;
  pki = await testPki();
  db = await startPostgres();
  const ports = [await freePort(), await freePort()];
  lb = await startHaproxy(ports, { sendProxyV2: true });
  auditFile = join(mkdtempSync(join(pki.dir, 'audit-')), 'audit.jsonl');
  const app = { hostname: APP, aud: randomBytes(16).toString('hex'), service: 'tcp://127.0.0.1:9' };
  for (const port of ports) {
    const yaml = multiEdgeYaml({ pki, port, publicPort: lb.port, pgUrl: db.url, app })
      .replace(
        /include: \[\{ emailDomain: example\.com \}, \{ serviceToken: ([^ ]+) \}\]/,
        `include: [{ serviceToken: $1 }]\n      require: [{ ip: ${ADMITTED}/32 }]`,
      )
      .concat(`trustedProxies: [127.0.0.1/32]\naudit: { file: ${auditFile} }\n`);
    edges.push(await startEdge({ config: loadEdgeConfig(writeConfig(pki, yaml)) }));
  }
  await lb.waitAllUp();
});

after(async () => {
  if (skip) return;
  for (const edge of edges) await edge.close(200);
  await lb?.stop();
  db?.destroy();
});

/** GET on the app through the balancer from `from`: 426 = let in (a TCP app), 403 refused, 429 throttled. */
function get(from: string, secret = SERVICE_TOKEN.secret, port = lb.port): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        port,
        servername: APP,
        localAddress: from,
        path: '/',
        headers: { host: APP, [HEADER.clientId]: SERVICE_TOKEN.id, [HEADER.clientSecret]: secret },
        ca: readFileSync(pki.ca),
        agent: false,
      },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on('error', reject);
    request.end();
  });
}

function auditedAddresses(): Set<string> {
  return new Set(
    readFileSync(auditFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { event: string; ip?: string }).ip ?? ''),
  );
}

/** A PROXY v2 header (HAProxy's proxy-protocol.txt §2.2) claiming `source` for a TCP/IPv4 connection. */
function proxyHeader(source: string): Buffer {
  const header = Buffer.alloc(28);
  Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]).copy(header);
  header[12] = 0x21;
  header[13] = 0x11;
  header.writeUInt16BE(12, 14);
  source.split('.').forEach((part, index) => (header[16 + index] = Number(part)));
  [127, 0, 0, 1].forEach((part, index) => (header[20 + index] = part));
  header.writeUInt16BE(40_000, 24);
  header.writeUInt16BE(443, 26);
  return header;
}

/** A TLS handshake straight to an edge from `from`, optionally after `prefix`: does it complete? */
function handshake(port: number, from: string, prefix?: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: from }, () => {
      if (prefix) socket.write(prefix);
      const secure = tls.connect({ socket, servername: APP, ca: readFileSync(pki.ca) }, () => {
        secure.destroy();
        resolve(true);
      });
      secure.on('error', () => resolve(false));
      secure.on('close', () => resolve(false));
    });
    socket.on('error', () => resolve(false));
    socket.setTimeout(5_000, () => (socket.destroy(), resolve(false)));
  });
}

describe('real client addresses behind HAProxy (PROXY protocol v2)', { skip }, () => {
  test('an ip: rule admits the client at its address and refuses the other, and the audit names each', async () => {
    assert.equal(await get(ADMITTED), 426, `${ADMITTED} is let in`);
    assert.equal(await get(OTHER), 403, `${OTHER} is refused by the ip rule`);
    await waitUntil('the audit to be written', () => auditedAddresses().has(OTHER), 5_000);
    const seen = auditedAddresses();
    assert.ok(seen.has(ADMITTED) && seen.has(OTHER), `audit ips: ${[...seen].join(', ')}`);
    assert.ok(!seen.has('127.0.0.1'), 'the balancer is never taken for the client');
  });

  test("a resume the policy refuses is audited (stream-resume) with the client's address, not the balancer's", async () => {
    const token = `connector-1.${randomUUID()}.${'a'.repeat(43)}`;
    const status = await upgradeStatus(
      lb.port,
      readFileSync(pki.ca),
      APP,
      {
        [HEADER.resumeToken]: token,
        [HEADER.resumeOffsets]: '0,0',
      },
      OTHER,
    );
    assert.equal(status, 403, 'the ip rule refuses the resume');
    const resumeRecord = () =>
      readFileSync(auditFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { event: string; streamId?: string; ip?: string; outcome?: string })
        .find((line) => line.event === 'stream-resume' && token.includes(line.streamId ?? '-'));
    await waitUntil('the stream-resume record', () => resumeRecord() !== undefined, 5_000);
    const record = resumeRecord();
    assert.equal(record?.outcome, 'refused');
    assert.equal(record?.ip, OTHER, 'the audit names the client');
  });

  test("one client's bad service-token secrets get it refused (429), not the other", async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < DEFAULTS.serviceTokenFailuresPerMinute + 2; attempt++)
      statuses.push(await get(OTHER, 'y'.repeat(43)));
    assert.equal(statuses.at(-1), 429, `the guesser is throttled: ${statuses.join(' ')}`);
    assert.equal(await get(ADMITTED), 426, 'the other client is still let in');
  });

  test('a connection from the trusted proxy address without a PROXY header is refused', async () => {
    assert.equal(await handshake(edges[0]!.port, '127.0.0.1'), false);
    assert.equal(await handshake(edges[0]!.port, '127.0.0.1', proxyHeader(ADMITTED)), true, 'with one it is served');
  });

  test('a PROXY header from an address that is not a trusted proxy is not honoured', async () => {
    assert.equal(await handshake(edges[0]!.port, '127.0.0.4', proxyHeader(ADMITTED)), false);
    assert.equal(await handshake(edges[0]!.port, '127.0.0.4'), true, 'without one it is served as itself');
    assert.equal(await get('127.0.0.4', SERVICE_TOKEN.secret, edges[0]!.port), 403, 'and the ip rule sees 127.0.0.4');
  });
});
