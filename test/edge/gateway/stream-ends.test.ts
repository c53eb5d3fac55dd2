// Access that ends ends the streams already open (docs/security.md "What ends when"): a sign-out,
// a session's expiry (unless a newer session carried the stream over), an app's idle timeout.
// One real edge and connector on loopback, an echo origin, tokens minted with the edge's own keys.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import type { WebSocket } from 'ws';
import { startChain, startEchoServer, SERVICE_TOKEN, type Chain } from '../../helpers/chain.js';
import { startClient } from '../../helpers/client.js';
import { waitUntil } from '../../helpers/airlock-processes.js';
import { issueAppToken } from '../../../src/edge/tokens/app-token.js';
import { resolveEdgeTarget } from '../../../src/core/edge-target.js';
import { checkAccess, dialTunnel } from '../../../src/core/tunnel-dial.js';
import { credentialHeaders, type Credential } from '../../../src/core/credentials.js';
import { webSocketStream } from '../../../src/shared/websocket-stream.js';
import { CLOSE, STREAM_END_REASON } from '../../../src/shared/constants.js';
import type { ListenerEvent } from '../../../src/shared/contract/status.js';

const ECHO = 'echo.airlock.test';
const IDLE = 'idle.airlock.test';
const KEEP = 'keep.airlock.test';
const USER_POLICY = `      include: [{ emailDomain: example.com }, { serviceToken: ${SERVICE_TOKEN.id} }]`;

let chain: Chain;
let echo: Awaited<ReturnType<typeof startEchoServer>>;
let auditFile: string;

before(async () => {
  echo = await startEchoServer();
  auditFile = join(mkdtempSync(join(tmpdir(), 'airlock-stream-ends-')), 'audit.log');
  const service = `tcp://127.0.0.1:${echo.port}`;
  chain = await startChain(
    [
      { hostname: ECHO, service, policy: USER_POLICY },
      { hostname: IDLE, service, policy: USER_POLICY, extra: '    idleTimeout: 1s' },
      { hostname: KEEP, service, policy: USER_POLICY, extra: '    disconnectOnExpiry: false' },
    ],
    { extraYaml: `audit: { file: ${auditFile} }\n` },
  );
});
after(async () => {
  await chain?.close();
  await echo?.close();
});

/** An app token for `user` at `hostname`, minted as the edge's sign-in would. */
async function signIn(hostname: string, sessionMs = 3_600_000, user = 'ada') {
  return issueAppToken({
    keys: chain.edge.keys,
    issuer: new URL(chain.edgeUrl).origin,
    aud: chain.config.apps.get(hostname)!.aud,
    sub: user,
    email: `${user}@example.com`,
    groups: ['eng'],
    sessionMs,
  });
}

const target = (hostname: string) => resolveEdgeTarget({ hostname, edge: chain.edgeUrl, caFile: chain.pki.ca });

/** A raw tunnel: echoes what is written; `closed` says how and when the edge ended it. */
async function openStream(hostname: string, credential: Credential) {
  const { ws, socket } = await dialTunnel({ target: target(hostname), headers: credentialHeaders(credential) });
  const tunnel = webSocketStream(ws, socket);
  tunnel.on('error', () => undefined);
  let echoed = '';
  tunnel.on('data', (chunk: Buffer) => (echoed += chunk.toString('latin1')));
  const closed = once(ws as WebSocket, 'close').then(([code, reason]) => ({
    code: code as number,
    reason: String(reason),
    at: Date.now(),
  }));
  return {
    ws,
    closed,
    /** Writes `text` and waits (bounded) for it to come back. */
    async roundTrip(text: string) {
      const before = echoed.length;
      tunnel.write(text);
      await waitUntil('the echo', async () => echoed.length >= before + text.length, 5_000);
    },
  };
}

async function auditRecord(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  let found: Record<string, unknown> | undefined;
  await waitUntil(
    'the stream-end audit record',
    async () => {
      found = readFileSync(auditFile, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find(match);
      return found !== undefined;
    },
    5_000,
  );
  return found!;
}

const isOpen = (ws: WebSocket) => ws.readyState === ws.OPEN;

test('a sign-out ends every open stream of that session within 1 s, with close 1008 "signed out", each audited', async (t) => {
  const session = await signIn(ECHO);
  const other = await signIn(ECHO);
  const first = await openStream(ECHO, { kind: 'app-token', token: session.token });
  const second = await openStream(ECHO, { kind: 'app-token', token: session.token });
  const bystander = await openStream(ECHO, { kind: 'app-token', token: other.token });
  await first.roundTrip('before');
  const signedOutAt = Date.now();
  await chain.edge.revoked.revoke(session.sessionId, session.expiresAt);
  const [a, b] = await Promise.all([first.closed, second.closed]);
  for (const closed of [a, b]) {
    assert.equal(closed.code, CLOSE.accessEnded);
    assert.equal(closed.reason, STREAM_END_REASON.signedOut);
    assert.ok(closed.at - signedOutAt < 1_000, `ended ${closed.at - signedOutAt} ms after the sign-out`);
  }
  t.diagnostic(`streams ended ${a.at - signedOutAt} and ${b.at - signedOutAt} ms after the sign-out`);
  assert.ok(isOpen(bystander.ws), "another session's stream stays open");
  await bystander.roundTrip('still here');
  const record = await auditRecord((line) => line.event === 'stream-end' && line.outcome === 'ended: signed out');
  assert.equal(record.who, 'ada@example.com');
  bystander.ws.close();
});

test('the client engine reports the end as ACCESS_ENDED with the reason', async () => {
  const session = await signIn(ECHO);
  const client = await startClient(chain, ECHO, { kind: 'app-token', token: session.token });
  const events: ListenerEvent[] = [];
  client.listener.on('event', (event) => events.push(event));
  try {
    const socket = net.connect(client.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.on('end', () => socket.end()); // as redis-cli or ssh leave when the server hangs up
    socket.write('hello');
    await once(socket, 'data');
    // A resumable stream (the default) that cannot go on is reset, not ended: 'close' either way.
    const socketClosed = new Promise((resolve) => socket.once('close', resolve));
    await chain.edge.revoked.revoke(session.sessionId, session.expiresAt);
    await socketClosed;
    await waitUntil(
      'the connection-closed event',
      async () => events.some((e) => e.type === 'connection-closed'),
      5_000,
    );
    const closed = events.find((e) => e.type === 'connection-closed') as Extract<
      ListenerEvent,
      { type: 'connection-closed' }
    >;
    assert.equal(closed.error?.code, 'ACCESS_ENDED');
    assert.match(closed.error?.message ?? '', /signed out/);
  } finally {
    await client.listener.stop();
  }
});

test('an idle stream ends after its idleTimeout; a busy one does not', async (t) => {
  const credential: Credential = { kind: 'service-token', ...SERVICE_TOKEN };
  const idle = await openStream(IDLE, credential);
  const opened = Date.now();
  const busy = await openStream(IDLE, credential);
  // The busy one sends a byte every 200 ms, well inside the 1 s timeout, for 3 s.
  while (Date.now() - opened < 3_000) {
    await busy.roundTrip('.');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const ended = await idle.closed;
  assert.equal(ended.code, CLOSE.accessEnded);
  assert.equal(ended.reason, STREAM_END_REASON.idle);
  assert.ok(ended.at - opened >= 800, `the idle stream lasted ${ended.at - opened} ms, at least its timeout`);
  t.diagnostic(`the idle stream ended ${ended.at - opened} ms after it opened (idleTimeout 1 s)`);
  assert.ok(isOpen(busy.ws), 'the busy stream is still open after 3 s');
  await busy.roundTrip('still here');
  await auditRecord((line) => line.event === 'stream-end' && line.outcome === 'ended: idle timeout');
  busy.ws.close();
});

test('a stream ends when its session expires; a new sign-in before expiry carries it over', async (t) => {
  const short = await signIn(ECHO, 3_000, 'bob');
  const ending = await openStream(ECHO, { kind: 'app-token', token: short.token });
  const shortAda = await signIn(ECHO, 3_000);
  const carried = await openStream(ECHO, { kind: 'app-token', token: shortAda.token });
  await ending.roundTrip('x');
  // Ada signs in again before expiry: a longer session, shown to the edge by an access check.
  const renewed = await signIn(ECHO, 60_000);
  await checkAccess({ target: target(ECHO), headers: credentialHeaders({ kind: 'app-token', token: renewed.token }) });
  const ended = await ending.closed;
  assert.equal(ended.code, CLOSE.accessEnded);
  assert.equal(ended.reason, STREAM_END_REASON.expired);
  assert.ok(ended.at >= short.expiresAt.getTime() - 50, 'not before the session expired');
  t.diagnostic(`ended ${ended.at - short.expiresAt.getTime()} ms after the session expired`);
  // Ada's stream was opened under a session as short as bob's but outlives it: the newer one holds it.
  await waitUntil(
    "ada's first session to expire",
    async () => Date.now() > shortAda.expiresAt.getTime() + 1_000,
    5_000,
  );
  assert.ok(isOpen(carried.ws), 'the carried stream is open after its first session expired');
  await carried.roundTrip('carried over');
  // And it now ends with the newer session: signing that out ends it.
  await chain.edge.revoked.revoke(renewed.sessionId, renewed.expiresAt);
  assert.equal((await carried.closed).reason, STREAM_END_REASON.signedOut);
});

test('with disconnectOnExpiry: false a stream outlives its session', async () => {
  const short = await signIn(KEEP, 1_000);
  const stream = await openStream(KEEP, { kind: 'app-token', token: short.token });
  await waitUntil('the session to expire', async () => Date.now() > short.expiresAt.getTime() + 1_000, 5_000);
  assert.ok(isOpen(stream.ws));
  await stream.roundTrip('still here');
  stream.ws.close();
});
