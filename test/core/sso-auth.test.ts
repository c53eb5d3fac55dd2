import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import type { Resource } from '../../src/shared/api.js';
import { MemoryStorage } from '../../src/core/resource-store.js';
import { ResourceManager } from '../../src/core/resource-manager.js';
import { SsoAuth, discoverAudByHead, tokenIdentity, type SsoTokenStore } from '../../src/core/sso-auth.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';
import { startFakeEdge } from '../fixtures/fake-edge.js';
import { freePort } from '../helpers/chain.js';

const jwt = (claims: Record<string, unknown>) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

class MemoryTokens implements SsoTokenStore {
  readonly saved = new Map<string, string>();
  async get(edge: string, aud: string) {
    return this.saved.get(`${edge}|${aud}`);
  }
  async set(edge: string, aud: string, token: string) {
    this.saved.set(`${edge}|${aud}`, token);
  }
  async clear(edge?: string) {
    for (const key of [...this.saved.keys()]) if (!edge || key.startsWith(`${edge}|`)) this.saved.delete(key);
  }
}


const resource: Resource = { id: 'r1', name: 'db', hostname: 'db.example.com', edge: 'https://edge.example.com', localPort: 5433, localHost: '127.0.0.1', tags: [], autoConnect: false, kind: 'postgres' };

test('tokenIdentity reads email and expiry, and nothing from a non-JWT', () => {
  assert.deepEqual(tokenIdentity(jwt({ email: 'ada@example.com', exp: 2_000_000_000 })), { email: 'ada@example.com', expiresAt: '2033-05-18T03:33:20.000Z' });
  assert.equal(tokenIdentity('not a token'), undefined);
});

test('signs in once per edge however many callers ask, then hands out the token', async () => {
  let logins = 0;
  const token = jwt({ email: 'ada@example.com', exp: inAnHour() });
  const tokens = new MemoryTokens();
  const auth = new SsoAuth({
    tokens,
    discoverAud: async () => 'aud-1',
    login: async (options) => {
      logins++;
      assert.deepEqual(options, { edgeOrigin: 'https://edge.example.com:443', aud: 'aud-1', hostname: 'db.example.com' });
      return { token, expiresAt: new Date() };
    },
  });
  assert.deepEqual(await auth.credentialFor(resource), { kind: 'none' });
  await Promise.all([auth.signIn('https://edge.example.com', resource), auth.signIn('https://edge.example.com', resource)]);
  assert.equal(logins, 1);
  assert.deepEqual(await auth.credentialFor(resource), { kind: 'app-token', token });
  assert.equal((await auth.identity('https://edge.example.com'))?.email, 'ada@example.com');
  assert.deepEqual([...tokens.saved.keys()], ['https://edge.example.com:443|aud-1']);
});

test('a stored token is reused without opening the browser (after a restart)', async () => {
  const tokens = new MemoryTokens();
  const token = jwt({ email: 'ada@example.com', exp: inAnHour() });
  await tokens.set('https://edge.example.com:443', 'aud-1', token);
  const auth = new SsoAuth({ tokens, discoverAud: async () => 'aud-1', login: async () => assert.fail('no browser sign-in expected') });
  await auth.signIn('https://edge.example.com', resource);
  assert.deepEqual(await auth.credentialFor(resource), { kind: 'app-token', token });
});

test('sign out forgets the identity and clears that edge tokens only', async () => {
  const tokens = new MemoryTokens();
  await tokens.set('https://other.example.com:443', 'aud-9', 'keep');
  const auth = new SsoAuth({ tokens, discoverAud: async () => 'aud-1', login: async () => ({ token: jwt({ email: 'a@b.c', exp: inAnHour() }), expiresAt: new Date() }) });
  await auth.signIn('https://edge.example.com', resource);
  await auth.signOut('https://edge.example.com');
  assert.equal(await auth.identity('https://edge.example.com'), undefined);
  assert.deepEqual([...tokens.saved.keys()], ['https://other.example.com:443|aud-9']);
  assert.deepEqual(await auth.credentialFor(resource), { kind: 'none' });
});

test('an expired identity is not shown as signed in', async () => {
  const auth = new SsoAuth({ tokens: new MemoryTokens(), discoverAud: async () => 'aud-1', login: async () => ({ token: jwt({ email: 'a@b.c', exp: 1 }), expiresAt: new Date(1000) }) });
  await auth.signIn('https://edge.example.com', resource);
  assert.equal(await auth.identity('https://edge.example.com'), undefined);
});

test('sign-in for an edge with no resource says what to do', async () => {
  const auth = new SsoAuth({ tokens: new MemoryTokens(), login: async () => assert.fail() });
  await assert.rejects(auth.signIn('https://edge.example.com'), /add a resource/);
});

test('discoverAudByHead reads the aud from the edge 302', async () => {
  const edge = await startFakeEdge({ requireToken: 'secret', aud: 'aud-from-edge' });
  try {
    const target = resolveEdgeTarget({ hostname: 'db.example.com', edge: edge.url, caFile: edge.caFile });
    assert.equal(await discoverAudByHead(target), 'aud-from-edge');
  } finally {
    await edge.close();
  }
});

test('end to end: the first connection hits the 302, signs in once, retries with the token, bytes flow', async () => {
  const token = jwt({ email: 'ada@example.com', exp: inAnHour() });
  const edge = await startFakeEdge({ requireToken: token, aud: 'aud-db' });
  let logins = 0;
  const auth = new SsoAuth({
    tokens: new MemoryTokens(),
    caFile: edge.caFile,
    login: async ({ aud }) => {
      logins++;
      assert.equal(aud, 'aud-db');
      return { token, expiresAt: new Date() };
    },
  });
  const manager = new ResourceManager({ storage: new MemoryStorage(), auth, caFile: edge.caFile });
  try {
    const port = await freePort();
    const added = await manager.addResource({ name: 'db', hostname: 'db.example.com', edge: edge.url, localPort: port, localHost: '127.0.0.1', tags: [], autoConnect: false, kind: 'postgres' });
    await manager.connect({ id: added.id });
    const socket = net.connect(port, '127.0.0.1');
    const echoed = await new Promise<string>((resolve) => {
      socket.once('data', (data) => resolve(String(data)));
      socket.write('hello');
    });
    assert.equal(echoed, 'hello');
    assert.equal(logins, 1);
    const { sessions } = await manager.getStatus();
    assert.equal(sessions[0]!.signedIn, true);
    assert.equal(sessions[0]!.email, 'ada@example.com');
    socket.destroy();
  } finally {
    await manager.close();
    await edge.close();
  }
});
