// The warning before a session's access ends (docs/desktop-app.md "Sessions that end"), through the
// service every UI shows: a real edge, connector and echo origin; tokens the edge's keys sign, as its
// sign-in would, for a session that ends 5 minutes and 2 seconds after it starts, so the warning,
// due 5 minutes before the end, comes 2 seconds in. "Sign in again" gets a new token and clears it.
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import type { ApiEvent, EdgeSession } from '../../src/shared/contract/api.js';
import { EXPIRY_WARNING_MS, expiryWarningText } from '../../src/shared/contract/api.js';
import { ResourceManager } from '../../src/app/service/resource-manager.js';
import { MemoryStorage } from '../../src/app/service/resource-store.js';
import { SsoAuth } from '../../src/app/service/sso-auth.js';
import { issueAppToken } from '../../src/edge/tokens/app-token.js';
import { freePort, startChain, startEchoServer, type Chain } from '../helpers/chain.js';
import { waitUntil } from '../helpers/airlock-processes.js';
import { MemoryTokens } from '../helpers/memory-tokens.js';

const APP = 'db.airlock.test';

let origin: Awaited<ReturnType<typeof startEchoServer>>;
let chain: Chain;

before(async () => {
  origin = await startEchoServer();
  chain = await startChain([
    {
      hostname: APP,
      service: `tcp://127.0.0.1:${origin.port}`,
      policy: '      include: [{ emailDomain: example.com }]',
    },
  ]);
});

after(async () => {
  await chain?.close();
  await origin?.close();
});

test('open connections warn 5 minutes before their session ends; signing in again renews it and they carry on', async (t) => {
  const sessions = [EXPIRY_WARNING_MS + 2_000, 3_600_000];
  const issued: Date[] = [];
  const auth = new SsoAuth({
    tokens: new MemoryTokens(),
    caFile: chain.pki.ca,
    login: async ({ aud }) => {
      const { token, expiresAt } = await issueAppToken({
        keys: chain.edge.keys,
        issuer: new URL(chain.edgeUrl).origin,
        aud,
        sub: 'ada',
        email: 'ada@example.com',
        groups: ['eng'],
        sessionMs: sessions[issued.length] ?? 3_600_000,
      });
      issued.push(expiresAt);
      return { token, expiresAt };
    },
  });
  const manager = new ResourceManager({ storage: new MemoryStorage(), auth, caFile: chain.pki.ca, tickMs: 100 });
  const warned: Array<{ at: number; session: EdgeSession }> = [];
  manager.on('event', (event: ApiEvent) => {
    if (event.type !== 'status') return;
    for (const session of event.data.sessions) if (session.expiryWarning) warned.push({ at: Date.now(), session });
  });
  let socket: net.Socket | undefined;
  try {
    const localPort = await freePort();
    const resource = await manager.addResource({
      name: 'db',
      hostname: APP,
      edge: chain.edgeUrl,
      localPort,
      localHost: '127.0.0.1',
      tags: [],
      autoConnect: false,
      kind: 'postgres',
    });
    await manager.connect({ id: resource.id });
    socket = net.connect(localPort, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write('hello');
    assert.equal(String((await once(socket, 'data'))[0]), 'hello');
    assert.equal(issued.length, 1, 'signed in once');
    const endsAt = issued[0]!.getTime();
    const dueAt = endsAt - EXPIRY_WARNING_MS;

    // Before it is due, no warning; then one, naming when the session ends and what it ends.
    const before = (await manager.getStatus()).sessions[0]!;
    assert.equal(before.signedIn, true);
    if (Date.now() < dueAt - 200)
      assert.equal(before.expiryWarning, undefined, 'no warning more than 5 minutes before');
    await waitUntil('the expiry warning', async () => warned.length > 0, 10_000, 50);
    const first = warned[0]!;
    assert.ok(first.at >= dueAt - 50, `warned ${dueAt - first.at} ms before it was due`);
    assert.ok(first.at - dueAt < 1_500, `warned ${first.at - dueAt} ms after it was due`);
    t.diagnostic(`the warning came ${first.at - dueAt} ms after expiry − 5 min`);
    assert.deepEqual(first.session.expiryWarning, { endsAt: new Date(endsAt).toISOString(), openStreams: 1 });
    const text = expiryWarningText(first.session.edge, first.session.expiryWarning!);
    assert.match(text, /^The connection to 127\.0\.0\.1:\d+ ends at \d{1,2}:\d\d.* — sign in again to keep it$/); // the user's locale picks 17:40 or 5:40 PM
    t.diagnostic(text);

    // "Sign in again": a new token, which the edge is shown (its carry-over: test/edge/gateway/stream-ends).
    const renewed = await manager.signIn({ edge: first.session.edge });
    assert.equal(issued.length, 2, 'a new sign-in, not the stored token');
    assert.equal(renewed.expiryWarning, undefined);
    assert.equal(renewed.expiresAt, issued[1]!.toISOString());
    assert.equal((await manager.getStatus()).sessions[0]!.expiryWarning, undefined);
    socket.write('still here');
    assert.equal(String((await once(socket, 'data'))[0]), 'still here');
  } finally {
    socket?.destroy();
    await manager.close();
  }
});
