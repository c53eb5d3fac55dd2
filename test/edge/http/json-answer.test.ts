// The edge's one JSON writer (responses and refused upgrades) and its one body reader, on a real
// HTTP server on 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { sendJson, writeRawResponse, type JsonAnswer } from '../../../src/edge/http/json-answer.js';
import { readObjectBody } from '../../../src/edge/http/request-body.js';

let handle: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void = () => undefined;
let onUpgrade: (req: IncomingMessage, socket: Duplex) => void = () => undefined;
const server = http.createServer((req, res) => void Promise.resolve(handle(req, res)));
server.on('upgrade', (req, socket) => onUpgrade(req, socket));
let port = 0;

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function request(
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: '/', method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** What a body reader made of the body, or the message it refused it with. */
async function read(body: string, headers: Record<string, string>, forms?: boolean): Promise<unknown> {
  handle = async (req, res) => {
    try {
      sendJson(res, 200, { read: await readObjectBody(req, forms === undefined ? undefined : { forms }) });
    } catch (error) {
      sendJson(res, 400, { error: 'bad_request', message: (error as Error).message });
    }
  };
  return JSON.parse((await request({ method: 'POST', headers, body })).text);
}

test('sendJson: the status, a JSON type, never cached, the body serialized', async () => {
  handle = (_req, res) => sendJson(res, 403, { error: 'access_denied', message: 'no' });
  const answer = await request();
  assert.equal(answer.status, 403);
  assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(answer.headers['cache-control'], 'no-store');
  assert.deepEqual(JSON.parse(answer.text), { error: 'access_denied', message: 'no' });
});

test('sendJson: given headers replace the no-store default and may name another JSON type', async () => {
  handle = (_req, res) =>
    sendJson(res, 200, { keys: [] }, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' });
  const answer = await request();
  assert.equal(answer.headers['content-type'], 'application/json');
  assert.equal(answer.headers['cache-control'], 'public, max-age=300');
});

test('sendJson: a HEAD request gets the head only', async () => {
  handle = (_req, res) => sendJson(res, 404, { error: 'app_not_found', message: 'none' }, {});
  const answer = await request({ method: 'HEAD' });
  assert.equal(answer.status, 404);
  assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(answer.headers['cache-control'], undefined);
  assert.equal(answer.text, '');
});

test('writeRawResponse: a refused upgrade gets a whole HTTP/1.1 answer, then the connection closes', async () => {
  onUpgrade = (_req, socket) =>
    writeRawResponse(socket, 503, { 'retry-after': '5' }, { error: 'no_connector', message: 'offline' });
  const raw = await new Promise<string>((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () =>
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'),
    );
    let text = '';
    socket.on('data', (chunk) => (text += chunk));
    socket.on('close', () => resolve(text));
  });
  const body = '{"error":"no_connector","message":"offline"}';
  assert.equal(
    raw,
    `HTTP/1.1 503 Service Unavailable\r\ncontent-length: ${body.length}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\nretry-after: 5\r\n\r\n${body}`,
  );
});

test('writeRawResponse: without a body, no content type', async () => {
  onUpgrade = (_req, socket) => writeRawResponse(socket, 302, { location: 'https://signin.example/' });
  const raw = await new Promise<string>((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () =>
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'),
    );
    let text = '';
    socket.on('data', (chunk) => (text += chunk));
    socket.on('close', () => resolve(text));
  });
  assert.equal(
    raw,
    'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nconnection: close\r\nlocation: https://signin.example/\r\n\r\n',
  );
});

test('an undeclared refusal code does not compile', () => {
  // @ts-expect-error 'not_declared' is not in src/shared/contract/error-catalogue.ts
  const undeclared: JsonAnswer = { error: 'not_declared', message: 'x' };
  // @ts-expect-error nor is an error given as any string
  const anyString: JsonAnswer = { error: String('access_denied'), message: 'x' };
  const declared: JsonAnswer = { error: 'access_denied', message: 'x' };
  assert.ok(undeclared && anyString && declared);
});

test('readObjectBody: a JSON object', async () => {
  assert.deepEqual(await read('{"name":"db"}', { 'content-type': 'application/json' }), { read: { name: 'db' } });
});

test('readObjectBody: a JSON-only call without a body has no fields', async () => {
  assert.deepEqual(await read('', {}), { read: {} });
});

test('readObjectBody: refuses JSON that is not an object, or not JSON', async () => {
  for (const body of ['[1,2]', '"text"', 'null', '{"name":']) {
    assert.deepEqual(
      await read(body, { 'content-type': 'application/json' }),
      { error: 'bad_request', message: 'body must be a JSON object' },
      body,
    );
  }
});

test('readObjectBody with forms: an urlencoded form, or JSON when the type says so', async () => {
  assert.deepEqual(
    await read('code=abc&code_verifier=xyz', { 'content-type': 'application/x-www-form-urlencoded' }, true),
    { read: { code: 'abc', code_verifier: 'xyz' } },
  );
  assert.deepEqual(await read('{"code":"abc"}', { 'content-type': 'application/json' }, true), {
    read: { code: 'abc' },
  });
  assert.deepEqual(await read('', { 'content-type': 'application/json' }, true), {
    error: 'bad_request',
    message: 'body must be a JSON object',
  });
});

test('readObjectBody: refuses a body over 16 KB before parsing it', async () => {
  assert.deepEqual(await read(JSON.stringify({ pad: 'x'.repeat(17 * 1024) }), { 'content-type': 'application/json' }), {
    error: 'bad_request',
    message: 'request body too large',
  });
});
