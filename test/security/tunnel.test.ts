// Hostile tunnel (edge ↔ connector) input: each refused with a clear error, and the real
// connector keeps serving a legitimate client afterwards.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import { startChain, SERVICE_TOKEN, TUNNEL, type Chain } from '../helpers/chain.js';
import { assertStillServes } from '../helpers/hostile.js';
import { logFile, recordSecrets, waitUntil } from '../helpers/airlock-processes.js';
import { startOrigin, type Origin } from '../helpers/transfer.js';
import { Connector } from '../../src/connector/connector.js';
import { encodeTunnelToken, hashSecret, newSecret } from '../../src/shared/secrets.js';
import { HEADER, PATH, TUNNEL_UPGRADE } from '../../src/shared/constants.js';
import type { AirlockError } from '../../src/shared/errors.js';
import { dialTunnel } from '../../src/core/tunnel-dial.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';
import { credentialHeaders } from '../../src/core/credentials.js';

const APP = 'tun.airlock.test';
const OTHER = { id: 'other-tunnel', secret: newSecret() };
let chain: Chain;
let origin: Origin;
let ca: Buffer;
let auditFile: string;

before(async () => {
  origin = await startOrigin();
  auditFile = logFile('audit-tunnel').replace(/\.log$/, '.jsonl');
  recordSecrets(OTHER.secret, encodeTunnelToken(OTHER.id, OTHER.secret));
  chain = await startChain(
    [
      { hostname: APP, service: `tcp://127.0.0.1:${origin.port}` },
      // Served by the same tunnel, but the connector's ingress below does not list this service.
      { hostname: 'outside.airlock.test', service: 'tcp://127.0.0.1:1' },
    ],
    {
      extraYaml: `audit: { file: ${auditFile} }\n`,
      connector: {
        rules: [{ hostname: APP, service: `tcp://127.0.0.1:${origin.port}` }, { service: 'http_status:404' }],
      },
    },
  );
  // A second tunnel in the config, so "claiming another tunnel" has something to claim.
  chain.config.tunnels.set(OTHER.id, { id: OTHER.id, secretHash: hashSecret(OTHER.secret) });
  ca = readFileSync(chain.pki.ca);
});
after(async () => {
  await chain.close();
  await origin.close();
});

const stillServes = () => assertStillServes(chain.edgeUrl, chain.pki.ca, APP);
const audited = () => readFileSync(auditFile, 'utf8');

async function connectorFails(token: string): Promise<AirlockError> {
  const rogue = new Connector({
    edgeUrl: chain.edgeUrl,
    token,
    ca,
    rules: [{ service: 'http_status:404' }],
    connections: 1,
    backoff: { baseMs: 50, maxMs: 100 },
  });
  const fatal = new Promise<AirlockError>((resolve) => rogue.on('fatal', resolve));
  rogue.start();
  const error = await fatal;
  await rogue.stop(100);
  return error;
}

test('refuses a bad tunnel token with 401, audited; the connector stops with a clear message', async () => {
  const error = await connectorFails(encodeTunnelToken(TUNNEL.id, newSecret()));
  assert.equal(error.code, 'TUNNEL_AUTH_FAILED');
  assert.match(error.message, /the edge refused the tunnel token \(tunnel token not accepted\)/);
  assert.equal(chain.edge.registry.count(TUNNEL.id), 2, 'only the real connector is registered');
  await waitUntil('audit record', () => /"tunnel":"test-tunnel".*"decision":"deny"/.test(audited()), 2000);
  await stillServes();
});

test('refuses a malformed tunnel token (not base64url JSON) with 401', async () => {
  const error = await connectorFails('not-a-token');
  assert.equal(error.code, 'TUNNEL_AUTH_FAILED');
  assert.match(error.message, /missing or malformed tunnel token/);
  await stillServes();
});

test("refuses a connector that claims another tunnel with its own tunnel's secret", async () => {
  const error = await connectorFails(encodeTunnelToken(OTHER.id, TUNNEL.secret));
  assert.equal(error.code, 'TUNNEL_AUTH_FAILED');
  assert.equal(chain.edge.registry.count(OTHER.id), 0, 'nothing registered for the claimed tunnel');
  await waitUntil('audit record', () => /"tunnel":"other-tunnel".*"decision":"deny"/.test(audited()), 2000);
  await stillServes();
});

test('a CONNECT to a service outside the ingress rules is refused by the connector; the client gets 502 with the reason', async () => {
  const target = resolveEdgeTarget({ hostname: 'outside.airlock.test', edge: chain.edgeUrl, caFile: chain.pki.ca });
  await assert.rejects(
    dialTunnel({ target, headers: credentialHeaders({ kind: 'service-token', ...SERVICE_TOKEN }) }),
    (error: AirlockError) =>
      error.code === 'ORIGIN_FAILED' &&
      /not in this connector's ingress rules|no ingress rule|ingress refuses/.test(error.message),
  );
  await stillServes();
});

test('a compromised edge cannot make the connector dial anything outside its ingress rules', async (t) => {
  // A private service the connector can reach but must never expose.
  let dialled = 0;
  const secretService = net.createServer((socket) => (dialled++, socket.destroy()));
  await new Promise<void>((resolve) => secretService.listen(0, '127.0.0.1', resolve));
  const secretPort = (secretService.address() as net.AddressInfo).port;
  // A fake edge that accepts any tunnel and then asks for whatever it likes.
  const sessions: http2.ClientHttp2Session[] = [];
  const fake = https.createServer({ cert: readFileSync(chain.pki.cert), key: readFileSync(chain.pki.key) });
  fake.on('upgrade', (_req, socket) => {
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${TUNNEL_UPGRADE}\r\n\r\n`,
      () => {
        sessions.push(http2.connect('http://fake.tunnel', { createConnection: () => socket as tls.TLSSocket }));
      },
    );
  });
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  const connector = new Connector({
    edgeUrl: `https://127.0.0.1:${(fake.address() as net.AddressInfo).port}`,
    token: chain.tunnelToken,
    ca,
    rules: [{ hostname: APP, service: `tcp://127.0.0.1:${origin.port}` }, { service: 'http_status:404' }],
    connections: 1,
  });
  connector.start();
  t.after(async () => {
    await connector.stop(100);
    for (const session of sessions) session.destroy();
    fake.close();
    secretService.close();
  });
  await connector.waitConnected(1);
  const ask = (headers: http2.OutgoingHttpHeaders) =>
    new Promise<{ status: number; reason: string }>((resolve) => {
      const stream = sessions[0]!.request(headers, { endStream: false });
      stream.on('error', () => {});
      stream.once('response', (response) => {
        resolve({ status: Number(response[':status']), reason: String(response[HEADER.refusal] ?? '') });
        stream.close();
      });
    });
  const asks = [
    { ':method': 'CONNECT', ':authority': `127.0.0.1:${secretPort}`, [HEADER.appHostname]: APP },
    { ':method': 'CONNECT', ':authority': `127.0.0.1:${secretPort}`, [HEADER.appHostname]: 'unknown.airlock.test' },
    { ':method': 'CONNECT', ':authority': `localhost:${origin.port}`, [HEADER.appHostname]: 'unknown.airlock.test' },
  ];
  for (const headers of asks) {
    const answer = await ask(headers);
    assert.equal(answer.status, 403, `refused: ${JSON.stringify(headers)}`);
    assert.match(answer.reason, /ingress/);
  }
  const get = await ask({ ':method': 'GET', ':path': '/', ':authority': `127.0.0.1:${secretPort}` });
  assert.equal(get.status, 400);
  assert.equal(dialled, 0, 'the private service was never dialled');
  await stillServes();
});

/** The error code of the first GOAWAY frame the edge sent after the 101 and the HTTP/2 preface. */
function goaway(received: Buffer): number | undefined {
  const start = received.indexOf('\r\n\r\n');
  if (start < 0) return undefined;
  const frames = received.subarray(start + 4 + 24);
  for (let offset = 0; offset + 9 <= frames.length;) {
    const length = frames.readUIntBE(offset, 3);
    if (frames[offset + 3] === 7 && offset + 9 + length <= frames.length) return frames.readUInt32BE(offset + 13);
    offset += 9 + length;
  }
  return undefined;
}

let rogueSocket: tls.TLSSocket | undefined;

test('a connector that sends DATA on a stream the edge never opened is refused with GOAWAY(PROTOCOL_ERROR)', async () => {
  const socket = tls.connect({ host: '127.0.0.1', port: chain.edge.port, ca, servername: 'localhost' });
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('secureConnect', resolve));
  socket.write(
    `GET ${PATH.tunnel} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: ${TUNNEL_UPGRADE}\r\n` +
      `Authorization: Bearer ${chain.tunnelToken}\r\n${HEADER.connectorId}: rogue\r\n\r\n`,
  );
  let received = Buffer.alloc(0);
  socket.on('data', (data: Buffer) => (received = Buffer.concat([received, data])));
  await waitUntil('101', () => received.includes('\r\n\r\n'), 3000);
  assert.match(received.toString('latin1'), /^HTTP\/1\.1 101/);
  await waitUntil('the rogue connection is registered', () => chain.edge.registry.count(TUNNEL.id) === 3, 3000);
  const h2frame = (type: number, flags: number, stream: number, payload: Buffer) => {
    const header = Buffer.alloc(9);
    header.writeUIntBE(payload.length, 0, 3);
    header[3] = type;
    header[4] = flags;
    header.writeUInt32BE(stream, 5);
    return Buffer.concat([header, payload]);
  };
  // As the HTTP/2 server: SETTINGS, then DATA on stream 1, which the edge never opened.
  socket.write(h2frame(4, 0, 0, Buffer.alloc(0)));
  socket.write(h2frame(0, 0, 1, Buffer.from(`INJECTED-${randomBytes(4).toString('hex')}`)));
  // The edge answers GOAWAY(PROTOCOL_ERROR) and accepts nothing from that stream.
  await waitUntil('GOAWAY from the edge', () => goaway(received) !== undefined, 3000);
  assert.equal(goaway(received), 1, 'GOAWAY with PROTOCOL_ERROR (1)');
  await stillServes();
  rogueSocket = socket;
});

// Node 20's nghttp2 shut that session down without Node reporting it: the edge finds out when a
// stream routed there goes unanswered (a ping gets no pong) and sends the stream elsewhere. Node 24
// reports the closed session, so the edge may have dropped it already: 3 or 2 here, 2 after.
test('a connector connection that broke the protocol is dropped, and a stream routed to it goes elsewhere', async () => {
  assert.ok([2, 3].includes(chain.edge.registry.count(TUNNEL.id)), 'the rogue connection is registered or dropped');
  // Streams go to the least loaded connection: with three at once, the rogue one (none) gets one.
  await Promise.all([stillServes(), stillServes(), stillServes()]);
  await waitUntil('the edge dropped the rogue connection', () => chain.edge.registry.count(TUNNEL.id) === 2, 8000, 100);
  await stillServes();
  rogueSocket?.destroy();
});
