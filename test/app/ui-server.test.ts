import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { MemoryStorage } from '../../src/app/service/resource-store.js';
import { ResourceManager } from '../../src/app/service/resource-manager.js';
import {
  UI_SECRET_FRAGMENT,
  UI_SECRET_PROTOCOL,
  sessionCookieName,
  startUiServer,
  type UiServer,
} from '../../src/app/browser/ui-server.js';

const staticDir = mkdtempSync(join(tmpdir(), 'airlock-ui-'));
writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Airlock</title>');
writeFileSync(join(staticDir, 'app.js'), 'console.log(1)');
writeFileSync(join(tmpdir(), 'airlock-secret.txt'), 'secret');
const token = 'test-token-0123456789';
let manager: ResourceManager;
let server: UiServer;
let cookie: string;
/** The page's secret, from the fragment of the redemption redirect. */
let secret = '';

function get(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: '127.0.0.1', port: server.port, path, headers: { host: `127.0.0.1:${server.port}`, ...headers } },
      (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
      },
    );
    request.on('error', reject);
  });
}

function openSocket(
  headers: Record<string, string>,
  protocols = [`${UI_SECRET_PROTOCOL}.${secret}`],
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api`, protocols, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
    ws.once('error', reject);
  });
}

function call(ws: WebSocket, id: number, method: string, params?: unknown): Promise<any> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse(String(data));
      if (message.id === id) {
        ws.off('message', onMessage);
        resolve(message);
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ id, method, params }));
  });
}

before(async () => {
  manager = new ResourceManager({ storage: new MemoryStorage() });
  server = await startUiServer({ service: manager, staticDir, token });
});
after(async () => {
  await server.close();
  await manager.close();
});

test('the URL carries the one-time token on 127.0.0.1', () => {
  assert.equal(server.url, `http://127.0.0.1:${server.port}/?token=${token}`);
});

test('refuses the page without a session cookie', async () => {
  const response = await get('/');
  assert.equal(response.status, 401);
  assert.match(response.body, /one-time token/);
});

test('refuses a wrong token', async () => {
  assert.equal((await get('/?token=wrong')).status, 403);
});

test('refuses a forged session cookie', async () => {
  assert.equal((await get('/', { cookie: `${sessionCookieName(server.port)}=forged` })).status, 401);
});

test('exchanges the token once for an HttpOnly SameSite cookie', async () => {
  const response = await get(`/?token=${token}`);
  assert.equal(response.status, 303);
  const location = new URL(response.headers.location!, 'http://x');
  assert.equal(location.pathname, '/');
  secret = new URLSearchParams(location.hash.slice(1)).get(UI_SECRET_FRAGMENT) ?? '';
  assert.match(secret, /^[\w-]{43}$/, 'the page secret, in the fragment only');
  const setCookie = response.headers['set-cookie']![0]!;
  assert.ok(setCookie.startsWith(`${sessionCookieName(server.port)}=`));
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Strict/);
  cookie = setCookie.split(';')[0]!;
  assert.equal((await get(`/?token=${token}`)).status, 403, 'a used token does not work twice');
});

test('serves the app with a strict CSP and no referrer', async () => {
  const response = await get('/', { cookie });
  assert.equal(response.status, 200);
  assert.match(response.body, /<title>Airlock/);
  const csp = String(response.headers['content-security-policy']);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(response.headers['referrer-policy'], 'no-referrer');
  assert.equal(response.headers['x-content-type-options'], 'nosniff');
  assert.equal((await get('/app.js', { cookie })).headers['content-type'], 'text/javascript; charset=utf-8');
});

test('does not serve files outside the UI folder', async () => {
  const response = await get('/..%2F..%2Fairlock-secret.txt', { cookie });
  assert.doesNotMatch(response.body, /secret/);
});

test('refuses a DNS-rebinding Host header even with a valid cookie', async () => {
  const response = await get('/', { cookie, host: `attacker.example:${server.port}` });
  assert.equal(response.status, 421);
  await assert.rejects(
    openSocket({ cookie, host: `attacker.example:${server.port}`, origin: `http://attacker.example:${server.port}` }),
    /HTTP 421/,
  );
});

test('refuses a WebSocket from another Origin', async () => {
  await assert.rejects(openSocket({ cookie, origin: 'http://evil.example' }), /HTTP 403/);
  await assert.rejects(openSocket({ cookie, origin: `http://127.0.0.1:${server.port + 1}` }), /HTTP 403/);
  await assert.rejects(openSocket({ cookie }), /HTTP 403/, 'no Origin at all');
});

test('refuses a WebSocket without or with a wrong session cookie', async () => {
  const origin = `http://127.0.0.1:${server.port}`;
  await assert.rejects(openSocket({ origin }), /HTTP 401/);
  await assert.rejects(openSocket({ origin, cookie: `${sessionCookieName(server.port)}=nope` }), /HTTP 401/);
});

test("refuses non-GET requests, but for the launch page's POST of the token to /", async () => {
  const send = (method: string, path: string) =>
    new Promise<number>((resolve) => {
      const request = http.request(
        { host: '127.0.0.1', port: server.port, method, path, headers: { cookie, host: `127.0.0.1:${server.port}` } },
        (response) => resolve(response.statusCode!),
      );
      request.end('token=not-the-token');
    });
  assert.equal(await send('POST', '/app.js'), 405);
  assert.equal(await send('PUT', '/'), 405);
  assert.equal(await send('POST', '/'), 403, 'a wrong token is refused');
});

test('carries the contract over the socket: calls, typed errors, and events', async () => {
  const ws = await openSocket({ cookie, origin: `http://localhost:${server.port}`, host: `localhost:${server.port}` });
  const events: any[] = [];
  ws.on('message', (data) => {
    const message = JSON.parse(String(data));
    if (message.event) events.push(message.event);
  });
  const added = await call(ws, 1, 'addResource', { name: 'db', hostname: 'db.example.com', localPort: 5433 });
  assert.equal(added.ok, true);
  assert.equal(added.value.name, 'db');
  const bad = await call(ws, 2, 'addResource', { name: 'db2', hostname: 'bad host', localPort: 99999 });
  assert.equal(bad.ok, false);
  assert.equal(bad.error.code, 'INVALID_INPUT');
  assert.ok(bad.error.fields.hostname && bad.error.fields.localPort);
  const unknown = await call(ws, 3, 'close', {});
  assert.equal(unknown.error.code, 'UNKNOWN_METHOD');
  const list = await call(ws, 4, 'listResources');
  assert.equal(list.value.length, 1);
  assert.ok(events.some((event) => event.type === 'resources'));
  ws.close();
});

test('closes a socket that sends something other than a JSON request', async () => {
  const ws = await openSocket({ cookie, origin: `http://127.0.0.1:${server.port}` });
  const code = await new Promise<number>((resolve) => {
    ws.once('close', (closeCode) => resolve(closeCode));
    ws.send('not json');
  });
  assert.equal(code, 1003);
});
