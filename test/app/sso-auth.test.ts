import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import type { Resource } from '../../src/shared/contract/api.js';
import { MemoryStorage } from '../../src/app/service/resource-store.js';
import { ResourceManager } from '../../src/app/service/resource-manager.js';
import { SsoAuth, discoverAppByHead, tokenIdentity } from '../../src/app/service/sso-auth.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';
import { startFakeEdge } from '../fixtures/fake-edge.js';
import { freePort } from '../helpers/chain.js';
import { MemoryTokens } from '../helpers/memory-tokens.js';

const jwt = (claims: Record<string, unknown>) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

/** What the edge's 302 names for db.example.com: its aud, and the edge itself as the sign-in origin. */
const discovered = (aud: string) => async () => ({ aud, signInOrigin: 'https://edge.example.com' });

const resource: Resource = {
  id: 'r1',
  name: 'db',
  hostname: 'db.example.com',
  edge: 'https://edge.example.com',
  localPort: 5433,
  localHost: '127.0.0.1',
  tags: [],
  autoConnect: false,
  kind: 'postgres',
};

test('tokenIdentity reads email and expiry, and nothing from a non-JWT', () => {
  assert.deepEqual(tokenIdentity(jwt({ email: 'ada@example.com', exp: 2_000_000_000 })), {
    email: 'ada@example.com',
    expiresAt: '2033-05-18T03:33:20.000Z',
  });
  assert.equal(tokenIdentity('not a token'), undefined);
});

test('signs in once per edge however many callers ask, then hands out the token', async () => {
  let logins = 0;
  const token = jwt({ email: 'ada@example.com', exp: inAnHour() });
  const tokens = new MemoryTokens();
  const auth = new SsoAuth({
    tokens,
    discoverApp: discovered('aud-1'),
    login: async (options) => {
      logins++;
      assert.equal(options.edgeOrigin, 'https://edge.example.com');
      assert.equal(options.aud, 'aud-1');
      assert.equal(options.hostname, 'db.example.com');
      assert.equal(options.dial?.port, 443);
      return { token, expiresAt: new Date() };
    },
  });
  assert.deepEqual(await auth.credentialFor(resource), { kind: 'none' });
  await Promise.all([
    auth.signIn('https://edge.example.com', resource),
    auth.signIn('https://edge.example.com', resource),
  ]);
  assert.equal(logins, 1);
  assert.deepEqual(await auth.credentialFor(resource), { kind: 'app-token', token });
  assert.equal((await auth.identity('https://edge.example.com'))?.email, 'ada@example.com');
  assert.deepEqual([...tokens.saved.keys()], ['https://edge.example.com:443|aud-1']);
});

test('a stored token is reused without opening the browser (after a restart)', async () => {
  const tokens = new MemoryTokens();
  const token = jwt({ email: 'ada@example.com', exp: inAnHour() });
  await tokens.set('https://edge.example.com:443', 'aud-1', token);
  const auth = new SsoAuth({
    tokens,
    discoverApp: discovered('aud-1'),
    login: async () => assert.fail('no browser sign-in expected'),
  });
  await auth.signIn('https://edge.example.com', resource);
  assert.deepEqual(await auth.credentialFor(resource), { kind: 'app-token', token });
});

test('sign out forgets the identity and clears that edge tokens only', async () => {
  const tokens = new MemoryTokens();
  await tokens.set('https://other.example.com:443', 'aud-9', 'keep');
  const auth = new SsoAuth({
    tokens,
    discoverApp: discovered('aud-1'),
    login: async () => ({ token: jwt({ email: 'a@b.c', exp: inAnHour() }), expiresAt: new Date() }),
  });
  await auth.signIn('https://edge.example.com', resource);
  await auth.signOut('https://edge.example.com');
  assert.equal(await auth.identity('https://edge.example.com'), undefined);
  assert.deepEqual([...tokens.saved.keys()], ['https://other.example.com:443|aud-9']);
  assert.deepEqual(await auth.credentialFor(resource), { kind: 'none' });
});

test('an expired identity is not shown as signed in', async () => {
  const auth = new SsoAuth({
    tokens: new MemoryTokens(),
    discoverApp: discovered('aud-1'),
    login: async () => ({ token: jwt({ email: 'a@b.c', exp: 1 }), expiresAt: new Date(1000) }),
  });
  await auth.signIn('https://edge.example.com', resource);
  assert.equal(await auth.identity('https://edge.example.com'), undefined);
});

test('sign-in to an edge with no resource signs in to the organisation itself (Browse on a fresh install)', async () => {
  const tokens = new MemoryTokens();
  const session = jwt({ email: 'ada@example.com', exp: inAnHour(), iss: 'https://edge.example.com' });
  const asked: Array<{ edgeOrigin: string; aud: string }> = [];
  const auth = new SsoAuth({
    tokens,
    login: async ({ edgeOrigin, aud }) => (asked.push({ edgeOrigin, aud }), { token: session, expiresAt: new Date() }),
  });
  await auth.signIn('https://edge.example.com');
  assert.deepEqual(asked, [{ edgeOrigin: 'https://edge.example.com', aud: 'airlock-organisation' }]);
  assert.equal(await tokens.get('https://edge.example.com', 'airlock-organisation'), session);
  assert.equal((await auth.identity('https://edge.example.com'))?.email, 'ada@example.com');
  assert.deepEqual(auth.edges(), ['https://edge.example.com']);
  await auth.signIn('https://edge.example.com');
  assert.equal(asked.length, 1, 'a stored session needs no second browser sign-in');
});

test('discoverAppByHead reads the aud and the sign-in origin from the edge 302', async () => {
  const edge = await startFakeEdge({ requireToken: 'secret', aud: 'aud-from-edge' });
  try {
    const target = resolveEdgeTarget({ hostname: 'db.example.com', edge: edge.url, caFile: edge.caFile });
    assert.deepEqual(await discoverAppByHead(target), { aud: 'aud-from-edge', signInOrigin: 'https://db.example.com' });
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
    const added = await manager.addResource({
      name: 'db',
      hostname: 'db.example.com',
      edge: edge.url,
      localPort: port,
      localHost: '127.0.0.1',
      tags: [],
      autoConnect: false,
      kind: 'postgres',
    });
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

describe('one browser sign-in per edge', () => {
  const second: Resource = {
    ...resource,
    id: 'r2',
    name: 'cache',
    hostname: 'cache.example.com',
    localPort: 6380,
    kind: 'redis',
  };
  const sessionToken = jwt({ email: 'ada@example.com', exp: inAnHour(), iss: 'https://edge.example.com' });

  test('the second resource of an edge is signed in with the organisation session, no browser', async () => {
    const tokens = new MemoryTokens();
    let logins = 0;
    const exchanged: string[] = [];
    const auth = new SsoAuth({
      tokens,
      discoverApp: async (target) => ({ aud: `aud-${target.hostHeader}`, signInOrigin: 'https://edge.example.com' }),
      login: async () => {
        logins++;
        return {
          token: jwt({ email: 'ada@example.com', exp: inAnHour() }),
          expiresAt: new Date(),
          organisation: { token: sessionToken, expiresAt: new Date() },
        };
      },
      exchange: async (target, app, session) => {
        assert.equal(session, sessionToken);
        exchanged.push(`${target.hostHeader}:${app.aud}`);
        return jwt({ email: 'ada@example.com', exp: inAnHour(), aud: app.aud });
      },
    });
    await auth.signIn(auth.edgeOf(resource), resource);
    await auth.signIn(auth.edgeOf(second), second);
    assert.equal(logins, 1, 'one browser window for both');
    assert.deepEqual(exchanged, ['cache.example.com:aud-cache.example.com']);
    assert.equal((await auth.credentialFor(second)).kind, 'app-token');
    assert.equal(auth.edgeOf(resource), 'https://edge.example.com');
    assert.equal(auth.edgeOf(second), 'https://edge.example.com');
  });

  test('two resources signing in at once open one browser window', async () => {
    let logins = 0;
    let exchanges = 0;
    const auth = new SsoAuth({
      tokens: new MemoryTokens(),
      discoverApp: async (target) => ({ aud: `aud-${target.hostHeader}`, signInOrigin: 'https://edge.example.com' }),
      login: async () => {
        logins++;
        await new Promise((resolve) => setTimeout(resolve, 50));
        return {
          token: jwt({ email: 'ada@example.com', exp: inAnHour() }),
          expiresAt: new Date(),
          organisation: { token: sessionToken, expiresAt: new Date() },
        };
      },
      exchange: async () => {
        exchanges++;
        return jwt({ email: 'ada@example.com', exp: inAnHour() });
      },
    });
    await Promise.all([auth.signIn(auth.edgeOf(resource), resource), auth.signIn(auth.edgeOf(second), second)]);
    assert.equal(logins, 1);
    assert.equal(exchanges, 1);
  });

  test('a session the edge ended is forgotten and the browser opens again', async () => {
    const tokens = new MemoryTokens();
    await tokens.set('https://edge.example.com', 'airlock-organisation', sessionToken);
    let logins = 0;
    const auth = new SsoAuth({
      tokens,
      discoverApp: discovered('aud-1'),
      login: async () => {
        logins++;
        return { token: jwt({ email: 'ada@example.com', exp: inAnHour() }), expiresAt: new Date() };
      },
      exchange: async () => undefined,
    });
    await auth.signIn(auth.edgeOf(resource), resource);
    assert.equal(logins, 1);
    assert.equal(await tokens.get('https://edge.example.com', 'airlock-organisation'), undefined);
  });

  test('the window lists one session per edge, not one per resource', async () => {
    const auth = new SsoAuth({
      tokens: new MemoryTokens(),
      discoverApp: async (target) => ({ aud: `aud-${target.hostHeader}`, signInOrigin: 'https://edge.example.com' }),
      login: async () => ({
        token: jwt({ email: 'ada@example.com', exp: inAnHour() }),
        expiresAt: new Date(),
        organisation: { token: sessionToken, expiresAt: new Date() },
      }),
      exchange: async () => jwt({ email: 'ada@example.com', exp: inAnHour() }),
    });
    const manager = new ResourceManager({ storage: new MemoryStorage(), auth });
    try {
      for (const entry of [resource, second]) {
        const { id: _id, edge: _edge, ...fields } = entry; // each resource dials its own host, as users' do
        await manager.addResource({ ...fields, localPort: await freePort() });
      }
      const resources = await manager.listResources();
      for (const entry of resources) await auth.signIn(auth.edgeOf(entry), entry);
      const { sessions } = await manager.getStatus();
      assert.deepEqual(
        sessions.map((session) => [session.edge, session.signedIn, session.email]),
        [['https://edge.example.com', true, 'ada@example.com']],
      );
    } finally {
      await manager.close();
    }
  });
});
