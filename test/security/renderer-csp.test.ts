// The renderer's own CSP allows connections to its own origin only: the browser harness's
// WebSocket is same-origin (CSP 3 lets 'self' cover ws:), and the Electron renderer talks over
// IPC (its app:// header policy says connect-src 'none': test/main/shell.test.ts). No port range on
// the loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const meta =
  /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(
    readFileSync(new URL('../../src/renderer/index.html', import.meta.url), 'utf8'),
  )?.[1] ?? '';
const directive = (policy: string, name: string) =>
  policy
    .split(';')
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${name} `));

test("the renderer page's CSP allows connect-src 'self' only", () => {
  assert.equal(directive(meta, 'connect-src'), "connect-src 'self'");
  assert.doesNotMatch(meta, /\*/, 'no wildcard anywhere');
});
