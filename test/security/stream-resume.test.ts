// Resumable streams at the wire, one edge in process: clients that do not ask get today's
// protocol; a resume token opens nothing for another identity, with a wrong secret, after the
// window or with a revoked credential; past the window the local program and the origin both
// see a reset and the audit says why.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import net from 'node:net';
import WebSocket from 'ws';
import { SERVICE_TOKEN, startChain, type Chain } from '../helpers/chain.js';
import { issueAppToken } from '../../src/edge/tokens/app-token.js';
import { HEADER } from '../../src/shared/constants.js';
import { controlFrame, dataHeader, FRAME, FrameParser, type Frame } from '../../src/shared/resumable-frames.js';
import { LocalListener } from '../../src/core/local-listener.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';

const APP = 'resume.airlock.test';
const WINDOW_MS = 2_000;
const auditFile = join(mkdtempSync(join(tmpdir(), 'airlock-resume-audit-')), 'audit.jsonl');

/** An echo origin that remembers how each connection ended: 'end' (FIN) or an error code (ECONNRESET). */
const endings: string[] = [];
const origin = net.createServer({ allowHalfOpen: true }, (socket) => {
  socket.on('data', (chunk) => socket.write(chunk));
  socket.on('end', () => (endings.push('end'), socket.end()));
  socket.on('error', (error: NodeJS.ErrnoException) => endings.push(error.code ?? error.message));
});
let chain: Chain;
let aud: string;

before(async () => {
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  const { port } = origin.address() as net.AddressInfo;
  chain = await startChain(
    [
      {
        hostname: APP,
        service: `tcp://127.0.0.1:${port}`,
        policy: `      include: [{ serviceToken: ${SERVICE_TOKEN.id} }, { emailDomain: example.com }]
    limits: { resumeWindow: ${WINDOW_MS / 1000}s }`,
      },
    ],
    { extraYaml: `audit: { file: ${auditFile} }\n` },
  );
  aud = chain.config.apps.get(APP)!.aud;
});

after(async () => {
  await chain?.close();
  origin.close();
});

const userToken = (sub: string) =>
  issueAppToken({
    keys: chain.edge.keys,
    issuer: chain.config.publicUrl,
    aud,
    sub,
    email: `${sub}@example.com`,
    groups: [],
    sessionMs: 3_600_000,
  });

interface Opened {
  ws: WebSocket;
  headers: Record<string, string | string[] | undefined>;
}

/** A raw WebSocket to the app: resolves with the 101's headers, rejects with the refusal's status. */
function openRaw(headers: Record<string, string>): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(chain.edgeUrl, {
      headers: { host: APP, ...headers },
      ca: readFileSync(chain.pki.ca),
      perMessageDeflate: false,
    });
    let upgradeHeaders: Opened['headers'] = {};
    ws.once('upgrade', (response) => (upgradeHeaders = response.headers));
    ws.once('open', () => resolve({ ws, headers: upgradeHeaders }));
    ws.once('unexpected-response', (_request, response) => {
      reject(Object.assign(new Error(`HTTP ${response.statusCode}`), { status: response.statusCode }));
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

const serviceHeaders = { [HEADER.clientId]: SERVICE_TOKEN.id, [HEADER.clientSecret]: SERVICE_TOKEN.secret };

function audit(): Record<string, unknown>[] {
  if (!existsSync(auditFile)) return [];
  return readFileSync(auditFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function auditRecord(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const found = audit().find(match);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('no such audit record');
}

/** Opens a resumable stream with `credential`, sends "hi" framed, and breaks the WebSocket abruptly. */
async function brokenStream(credential: Record<string, string>): Promise<{ token: string; streamId: string }> {
  const { ws, headers } = await openRaw({ ...credential, [HEADER.resume]: '1' });
  const token = String(headers[HEADER.resumeToken]);
  ws.send(Buffer.concat([controlFrame(FRAME.ack, 0), dataHeader(0, 2), Buffer.from('hi')]));
  await new Promise((resolve) => setTimeout(resolve, 200));
  ws.terminate();
  await new Promise((resolve) => setTimeout(resolve, 200));
  return { token, streamId: token.split('.')[1]! };
}

async function refusedStatus(headers: Record<string, string>): Promise<number> {
  const opened = await openRaw(headers).catch((error: { status?: number }) => error);
  if ('ws' in opened) {
    opened.ws.terminate();
    return 101;
  }
  return opened.status ?? 0;
}

test('a client that does not ask gets the plain protocol: no resume headers, raw bytes', async () => {
  const { ws, headers } = await openRaw(serviceHeaders);
  assert.equal(headers[HEADER.resumeToken], undefined);
  assert.equal(headers[HEADER.resume], undefined);
  ws.send(Buffer.from('plain bytes'));
  const [reply] = (await once(ws, 'message')) as [Buffer];
  assert.equal(reply.toString(), 'plain bytes');
  ws.close();
});

test('a client that asks gets a token and the app window, and the stream speaks frames', async () => {
  const { ws, headers } = await openRaw({ ...serviceHeaders, [HEADER.resume]: '1' });
  assert.match(String(headers[HEADER.resumeToken]), /^[\w:-]+\.[0-9a-f-]{36}\.[\w-]{43}$/);
  assert.equal(headers[HEADER.resume], `${WINDOW_MS},${4 * 1024 * 1024}`);
  ws.send(Buffer.concat([controlFrame(FRAME.ack, 0), dataHeader(0, 4), Buffer.from('ping')]));
  const parser = new FrameParser(1024 * 1024);
  const frames: Frame[] = [];
  while (!frames.some((frame) => frame.type === FRAME.data)) {
    const [message] = (await once(ws, 'message')) as [Buffer];
    frames.push(...parser.push(message));
  }
  const data = frames.find((frame) => frame.type === FRAME.data)!;
  assert.equal('payload' in data && data.payload.toString(), 'ping');
  ws.close();
});

test('a resume token presented with another identity opens nothing; its owner resumes', async () => {
  const alice = await userToken('alice');
  const mallory = await userToken('mallory');
  const { token, streamId } = await brokenStream({ [HEADER.accessToken]: alice.token });
  const offsets = { [HEADER.resumeToken]: token, [HEADER.resumeOffsets]: '0,2' };
  assert.equal(await refusedStatus({ [HEADER.accessToken]: mallory.token, ...offsets }), 410);
  const refused = await auditRecord((line) => line.event === 'stream-resume' && line.streamId === streamId);
  assert.equal(refused.outcome, 'refused');
  assert.match(String(refused.reason), /another identity/);
  assert.equal(await refusedStatus({ [HEADER.accessToken]: alice.token, ...offsets }), 101);
});

test('a resume token with a wrong secret opens nothing', async () => {
  const { token } = await brokenStream(serviceHeaders);
  const forged = token.replace(/\.[\w-]{43}$/, `.${'A'.repeat(43)}`);
  assert.equal(await refusedStatus({ ...serviceHeaders, [HEADER.resumeToken]: forged }), 410);
});

test('a resume token past its window opens nothing', async () => {
  const { token, streamId } = await brokenStream(serviceHeaders);
  await new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 500));
  assert.equal(await refusedStatus({ ...serviceHeaders, [HEADER.resumeToken]: token }), 410);
  const refused = await auditRecord((line) => line.event === 'stream-resume' && line.streamId === streamId);
  assert.match(String(refused.reason), /past its window/);
});

test('a resume token with a revoked credential opens nothing', async () => {
  const alice = await userToken('alice-revoked');
  const { token, streamId } = await brokenStream({ [HEADER.accessToken]: alice.token });
  await chain.edge.revoked.revoke(alice.sessionId, alice.expiresAt);
  assert.equal(await refusedStatus({ [HEADER.accessToken]: alice.token, [HEADER.resumeToken]: token }), 302);
  const refused = await auditRecord((line) => line.event === 'stream-resume' && line.streamId === streamId);
  assert.equal(refused.outcome, 'refused');
});

test('a malformed resume token is refused before any lookup', async () => {
  assert.equal(await refusedStatus({ ...serviceHeaders, [HEADER.resumeToken]: 'x.y.z' }), 410);
});

/** A TCP proxy to the edge whose connections can be cut and new ones refused for a while. */
async function cuttableProxy(target: number) {
  const sockets = new Set<net.Socket>();
  let blocked = false;
  const server = net.createServer((client) => {
    if (blocked) return client.resetAndDestroy();
    const upstream = net.connect(target, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    cut(forMs: number) {
      blocked = true;
      for (const socket of sockets) socket.resetAndDestroy();
      setTimeout(() => (blocked = false), forMs);
    },
    close: () => server.close(),
  };
}

test('cut off past the window: the local program and the origin both see a reset, and the audit says why', async () => {
  const edgePort = Number(new URL(chain.edgeUrl).port);
  const proxy = await cuttableProxy(edgePort);
  const listener = new LocalListener({
    target: resolveEdgeTarget({ hostname: APP, edge: `https://127.0.0.1:${proxy.port}`, caFile: chain.pki.ca }),
    local: { host: '127.0.0.1', port: 0 },
    credential: async () => ({ kind: 'service-token', ...SERVICE_TOKEN }),
    resume: true,
  });
  const port = Number((await listener.start()).split(':').pop());
  const endingsBefore = endings.length;
  const local = net.connect(port, '127.0.0.1');
  local.write('hello');
  await once(local, 'data');
  const localEnd = new Promise<string>((resolve) => {
    local.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    local.once('end', () => resolve('end'));
  });
  const cutAt = Date.now();
  proxy.cut(WINDOW_MS + 1_500);
  assert.equal(await localEnd, 'ECONNRESET', 'the local program sees a reset, not a FIN');
  const waited = Date.now() - cutAt;
  while (endings.length === endingsBefore) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(endings.at(-1), 'ECONNRESET', 'the origin sees a reset, not a FIN');
  const refused = await auditRecord(
    (line) =>
      line.event === 'stream-resume' && line.outcome === 'refused' && /past its window/.test(String(line.reason)),
  );
  console.log(`# local reset ${waited} ms after the cut (window ${WINDOW_MS} ms); audit: ${String(refused.reason)}`);
  await listener.stop();
  proxy.close();
});
