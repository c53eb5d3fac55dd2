// `airlock ui`: cookies are not isolated by port, so a listener on another 127.0.0.1 port can be
// sent the UI's session cookie and replay it with the right Origin. The cookie alone must open
// nothing: the API socket also wants the page's own secret (delivered once, in a URL fragment) and
// the exact origin of the page.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { MemoryStorage } from '../../src/app/service/resource-store.js';
import { ResourceManager } from '../../src/app/service/resource-manager.js';
import { startUiServer, type UiServer } from '../../src/app/browser/ui-server.js';

let server: UiServer;
let manager: ResourceManager;
let cookie = '';
let secret = '';

before(async () => {
  const staticDir = mkdtempSync(join(tmpdir(), 'airlock-ui-secret-'));
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Airlock</title>');
  manager = new ResourceManager({ storage: new MemoryStorage() });
  server = await startUiServer({ service: manager, staticDir });
  // The browser redeems the link: the cookie (which any local port may later be sent) and the fragment.
  const redeemed = await new Promise<http.IncomingMessage>((resolve, reject) =>
    http.get(server.url, resolve).on('error', reject),
  );
  redeemed.resume();
  cookie = String(redeemed.headers['set-cookie']![0]!.split(';')[0]);
  secret =
    new URLSearchParams(new URL(redeemed.headers.location!, server.origin).hash.slice(1)).get('airlock-ui-secret') ??
    '';
});
after(async () => {
  await server.close();
  await manager.close();
});

/** Opens the API socket as a plain client; resolves the getStatus answer or the HTTP refusal. */
function tryApi(headers: Record<string, string>, protocols: string[] = []): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api`, protocols, { headers });
    ws.once('unexpected-response', (_request, response) => resolve(`HTTP ${response.statusCode}`));
    ws.once('error', (error) => resolve(`error ${error.message}`));
    ws.once('open', () => ws.send(JSON.stringify({ id: 1, method: 'getStatus' })));
    ws.once('message', (data) => {
      ws.close();
      resolve(`answered ${String(data).slice(0, 40)}`);
    });
  });
}

test('a replayed session cookie with the right Origin does not open the API socket', async () => {
  const origin = server.origin;
  assert.equal(await tryApi({ cookie, origin }), 'HTTP 401', 'no page secret');
  assert.equal(await tryApi({ cookie, origin }, ['airlock-ui.' + 'x'.repeat(43)]), 'HTTP 401', 'a guessed secret');
  assert.equal(await tryApi({ cookie, origin }, ['airlock-ui']), 'HTTP 401', 'the bare protocol name');
});

test('the page secret without the exact origin of the page is refused', async () => {
  const protocols = [`airlock-ui.${secret}`];
  assert.equal(
    await tryApi({ cookie, origin: `http://localhost:${server.port}`, host: `127.0.0.1:${server.port}` }, protocols),
    'HTTP 403',
    'an Origin naming another host than the request',
  );
  assert.equal(await tryApi({ cookie, origin: `http://127.0.0.1:${server.port + 1}` }, protocols), 'HTTP 403');
});

test('the page (cookie, its secret and its origin) is served', async () => {
  const answer = await tryApi({ cookie, origin: server.origin }, [`airlock-ui.${secret}`]);
  assert.match(answer, /^answered \{"id":1,"ok":true/);
});
