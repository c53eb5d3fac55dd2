import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import type { ApiEvent } from '../../src/shared/contract/api.js';
import { MemoryStorage } from '../../src/app/service/resource-store.js';
import { SIGN_IN_UNAVAILABLE, edgeOf, type AuthProvider } from '../../src/app/service/auth-provider.js';
import { ResourceManager } from '../../src/app/service/resource-manager.js';
import { freePort } from '../helpers/chain.js';

/** Polls the manager until the resource is in `state` (5 s at most). */
async function waitForState(manager: ResourceManager, id: string, state: string) {
  const until = Date.now() + 5000;
  for (;;) {
    const status = (await manager.getStatus()).resources.find((entry) => entry.id === id)!;
    if (status.state === state) return status;
    if (Date.now() > until)
      assert.fail(`still ${status.state} (${status.lastError?.message ?? ''}), expected ${state}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** An edge address where nothing listens: dials fail at once with ECONNREFUSED. */
const deadEdge = async () => `https://127.0.0.1:${await freePort()}`;

test('add, edit, remove with conflicts named per field', async () => {
  const manager = new ResourceManager({ storage: new MemoryStorage() });
  const db = await manager.addResource({
    name: 'db',
    hostname: 'db.example.com',
    localPort: 5433,
    localHost: '127.0.0.1',
    tags: ['prod'],
    autoConnect: false,
    kind: 'postgres',
  });
  await assert.rejects(
    manager.addResource({
      name: 'DB',
      hostname: 'x.example.com',
      localPort: 5434,
      localHost: '127.0.0.1',
      tags: [],
      autoConnect: false,
      kind: 'other',
    }),
    (error: any) => error.code === 'CONFLICT' && /already exists/.test(error.fields.name),
  );
  await assert.rejects(
    manager.addResource({
      name: 'cache',
      hostname: 'x.example.com',
      localPort: 5433,
      localHost: '127.0.0.1',
      tags: [],
      autoConnect: false,
      kind: 'other',
    }),
    (error: any) => error.code === 'CONFLICT' && /already used by "db"/.test(error.fields.localPort),
  );
  const edited = await manager.updateResource({
    id: db.id,
    changes: { localPort: 5440, edge: 'https://edge.example.com' },
  });
  assert.equal(edited.localPort, 5440);
  assert.equal(edited.edge, 'https://edge.example.com');
  assert.equal((await manager.updateResource({ id: db.id, changes: { edge: null } })).edge, undefined);
  await manager.removeResource({ id: db.id });
  assert.deepEqual(await manager.listResources(), []);
  await assert.rejects(manager.removeResource({ id: db.id }), (error: any) => error.code === 'NOT_FOUND');
});

test('resources survive a new manager on the same storage', async () => {
  const storage = new MemoryStorage();
  await new ResourceManager({ storage }).addResource({
    name: 'db',
    hostname: 'db.example.com',
    localPort: 5433,
    localHost: '127.0.0.1',
    tags: [],
    autoConnect: true,
    kind: 'postgres',
  });
  const again = new ResourceManager({ storage });
  assert.equal((await again.listResources())[0]!.name, 'db');
  assert.deepEqual((await again.getSettings()).autoConnect, [(await again.listResources())[0]!.id]);
});

test('connect opens the port and says "listening" until the edge answers; an unreachable edge is an error, never green', async () => {
  const manager = new ResourceManager({ storage: new MemoryStorage(), tickMs: 20 });
  const events: ApiEvent[] = [];
  manager.on('event', (event) => events.push(event));
  const port = await freePort();
  const resource = await manager.addResource({
    name: 'redis',
    hostname: 'redis.example.com',
    edge: await deadEdge(),
    localPort: port,
    localHost: '127.0.0.1',
    tags: [],
    autoConnect: false,
    kind: 'redis',
  });
  const status = await manager.connect({ id: resource.id });
  assert.equal(status.state, 'listening', 'open is not ready: the edge has not answered yet');
  assert.equal(status.localAddress, `127.0.0.1:${port}`);

  const failed = await waitForState(manager, resource.id, 'error');
  assert.equal(failed.lastError?.code, 'EDGE_UNREACHABLE');
  assert.equal(failed.lastError?.action, 'test');
  assert.match(failed.lastError!.message, /cannot reach the edge/);
  assert.equal(failed.localAddress, `127.0.0.1:${port}`, 'the listener stays open for when the edge is back');
  assert.ok(
    !events.some((event) => event.type === 'status' && ['ready', 'in-use'].includes(event.data.resources[0]!.state)),
    'never green',
  );

  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('close', resolve));
  assert.equal((await manager.getStatus()).resources[0]!.totalConnections, 1);
  assert.ok((await manager.getLogs({ level: 'error' })).some((entry) => /cannot reach the edge/.test(entry.message)));

  await manager.disconnect({ id: resource.id });
  const off = (await manager.getStatus()).resources[0]!;
  assert.equal(off.state, 'off');
  assert.equal(off.lastError, undefined, 'switching off forgets what the edge said');
  await manager.close();
});

test("Test on a switched-off resource answers with the edge's reason and leaves it off", async () => {
  const manager = new ResourceManager({ storage: new MemoryStorage() });
  const resource = await manager.addResource({
    name: 'redis',
    hostname: 'redis.example.com',
    edge: await deadEdge(),
    localPort: await freePort(),
    localHost: '127.0.0.1',
    tags: [],
    autoConnect: false,
    kind: 'redis',
  });
  await assert.rejects(
    manager.testResource({ id: resource.id }),
    (error: any) => error.code === 'EDGE_UNREACHABLE' && /cannot reach the edge/.test(error.message),
  );
  assert.equal((await manager.getStatus()).resources[0]!.state, 'off');
  await manager.close();
});

test('a port held by another program is an error status, not a crash', async () => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const port = (holder.address() as net.AddressInfo).port;
  const manager = new ResourceManager({ storage: new MemoryStorage() });
  const resource = await manager.addResource({
    name: 'ssh',
    hostname: 'ssh.example.com',
    localPort: port,
    localHost: '127.0.0.1',
    tags: [],
    autoConnect: false,
    kind: 'ssh',
  });
  const status = await manager.connect({ id: resource.id });
  assert.equal(status.state, 'error');
  assert.equal(status.lastError?.code, 'PORT_IN_USE');
  assert.equal(status.lastError?.action, 'edit');
  await manager.disconnect({ id: resource.id });
  assert.equal((await manager.getStatus()).resources[0]!.state, 'off');
  holder.close();
});

test('connect all and auto-connect start every marked resource', async () => {
  const manager = new ResourceManager({ storage: new MemoryStorage() });
  const edge = await deadEdge();
  const a = await manager.addResource({
    name: 'a',
    hostname: 'a.example.com',
    edge,
    localPort: await freePort(),
    localHost: '127.0.0.1',
    tags: [],
    autoConnect: true,
    kind: 'other',
  });
  const b = await manager.addResource({
    name: 'b',
    hostname: 'b.example.com',
    edge,
    localPort: await freePort(),
    localHost: '127.0.0.1',
    tags: [],
    autoConnect: false,
    kind: 'other',
  });
  const switched = async () =>
    Object.fromEntries(
      (await manager.getStatus()).resources.map((status) => [status.id, status.localAddress ? 'on' : status.state]),
    );
  await manager.connectAutomatic();
  assert.deepEqual(await switched(), { [a.id]: 'on', [b.id]: 'off' });
  await manager.connectAll();
  assert.deepEqual(await switched(), { [a.id]: 'on', [b.id]: 'on' });
  await manager.disconnectAll();
  assert.ok((await manager.getStatus()).resources.every((status) => status.state === 'off'));
  await manager.close();
});

test('export then import into another manager; invalid and conflicting entries are skipped with reasons', async () => {
  const source = new ResourceManager({ storage: new MemoryStorage() });
  await source.addResource({
    name: 'db',
    hostname: 'db.example.com',
    localPort: 5433,
    localHost: '127.0.0.1',
    tags: ['prod'],
    autoConnect: false,
    kind: 'postgres',
  });
  const { json } = await source.exportResources();
  assert.doesNotMatch(json, /"id"/);
  const target = new ResourceManager({ storage: new MemoryStorage() });
  const first = await target.importResources({ json });
  assert.equal(first.added.length, 1);
  const second = await target.importResources({
    json: JSON.stringify({
      resources: [...JSON.parse(json).resources, { name: 'bad', hostname: 'no host', localPort: 1 }],
    }),
  });
  assert.deepEqual(second.added, []);
  assert.deepEqual(
    second.skipped.map((entry) => entry.name),
    ['db', 'bad'],
  );
  assert.match(second.skipped[1]!.reason, /hostname/);
  await assert.rejects(target.importResources({ json: '{' }), (error: any) => error.code === 'INVALID_INPUT');
});

test('settings: theme, start at login, auto-connect list kept as each resource flag', async () => {
  const manager = new ResourceManager({ storage: new MemoryStorage() });
  const db = await manager.addResource({
    name: 'db',
    hostname: 'db.example.com',
    localPort: 5433,
    localHost: '127.0.0.1',
    tags: [],
    autoConnect: false,
    kind: 'postgres',
  });
  const settings = await manager.updateSettings({ theme: 'dark', startAtLogin: true, autoConnect: [db.id] });
  assert.deepEqual(settings, { theme: 'dark', startAtLogin: true, autoConnect: [db.id], resume: true });
  assert.equal((await manager.listResources())[0]!.autoConnect, true);
  assert.equal((await manager.updateSettings({ resume: false })).resume, false, 'resumable streams can be turned off');
  assert.equal((await manager.getSettings()).resume, false);
  await assert.rejects(manager.updateSettings({ autoConnect: ['nope'] }), (error: any) => error.code === 'NOT_FOUND');
});

test('without SSO wired in, sign-in says it is not available and sessions say so', async () => {
  const manager = new ResourceManager({ storage: new MemoryStorage() });
  await manager.addResource({
    name: 'db',
    hostname: 'db.example.com',
    localPort: 5433,
    localHost: '127.0.0.1',
    tags: [],
    autoConnect: false,
    kind: 'postgres',
  });
  const { sessions } = await manager.getStatus();
  assert.deepEqual(sessions, [
    { edge: 'https://db.example.com', signedIn: false, signInAvailable: false, message: SIGN_IN_UNAVAILABLE },
  ]);
  await assert.rejects(
    manager.signIn({ edge: 'https://db.example.com' }),
    (error: any) => error.code === 'AUTH_REQUIRED' && /not available/.test(error.message),
  );
});

test('an injected auth provider supplies identity and is asked to sign in per edge', async () => {
  const signIns: string[] = [];
  let signedIn = false;
  const auth: AuthProvider = {
    edgeOf,
    credentialFor: async () => ({ kind: 'app-token', token: 't' }),
    signIn: async (edge) => {
      signIns.push(edge);
      signedIn = true;
    },
    signOut: async () => {
      signedIn = false;
    },
    identity: async () => (signedIn ? { email: 'ada@example.com', expiresAt: '2030-01-01T00:00:00.000Z' } : undefined),
  };
  const manager = new ResourceManager({ storage: new MemoryStorage(), auth });
  await manager.addResource({
    name: 'db',
    hostname: 'db.example.com',
    edge: 'https://edge.example.com',
    localPort: 5433,
    localHost: '127.0.0.1',
    tags: [],
    autoConnect: false,
    kind: 'postgres',
  });
  const session = await manager.signIn({ edge: 'https://edge.example.com' });
  assert.deepEqual(session, {
    edge: 'https://edge.example.com',
    signedIn: true,
    email: 'ada@example.com',
    expiresAt: '2030-01-01T00:00:00.000Z',
    signInAvailable: true,
  });
  assert.deepEqual(signIns, ['https://edge.example.com']);
  await manager.signOutAll();
  assert.equal((await manager.getStatus()).sessions[0]!.signedIn, false);
});

test('logs are a bounded ring buffer filtered by level and text', async () => {
  const manager = new ResourceManager({ storage: new MemoryStorage(), logLimit: 3 });
  for (let i = 0; i < 5; i++) manager.log(i % 2 ? 'warn' : 'info', `line ${i}`);
  assert.deepEqual(
    (await manager.getLogs(undefined)).map((entry) => entry.message),
    ['line 2', 'line 3', 'line 4'],
  );
  assert.deepEqual(
    (await manager.getLogs({ level: 'warn' })).map((entry) => entry.message),
    ['line 3'],
  );
  assert.deepEqual(
    (await manager.getLogs({ search: 'LINE 4' })).map((entry) => entry.message),
    ['line 4'],
  );
});

test('edgeOf is the explicit edge or the hostname itself', () => {
  assert.equal(edgeOf({ hostname: 'a.example.com' }), 'https://a.example.com');
  assert.equal(edgeOf({ hostname: 'a.example.com', edge: 'https://e.example.com' }), 'https://e.example.com');
});

test('shortcuts are unsupported without a writer and call the writer when given one', async () => {
  const manager = new ResourceManager({
    storage: new MemoryStorage(),
    createShortcut: async (resource) => `/desk/${resource.name}.desktop`,
  });
  const db = await manager.addResource({
    name: 'db',
    hostname: 'db.example.com',
    localPort: 5433,
    localHost: '127.0.0.1',
    tags: [],
    autoConnect: false,
    kind: 'postgres',
  });
  assert.deepEqual(await manager.createShortcut({ id: db.id }), { path: '/desk/db.desktop' });
  const plain = new ResourceManager({ storage: new MemoryStorage() });
  const other = await plain.addResource({
    name: 'db',
    hostname: 'db.example.com',
    localPort: 5433,
    localHost: '127.0.0.1',
    tags: [],
    autoConnect: false,
    kind: 'postgres',
  });
  await assert.rejects(plain.createShortcut({ id: other.id }), (error: any) => error.code === 'UNSUPPORTED');
});

test('bytes flow through a connected resource and the counters move', async () => {
  const { startFakeEdge } = await import('../fixtures/fake-edge.js');
  const edge = await startFakeEdge();
  const manager = new ResourceManager({ storage: new MemoryStorage(), caFile: edge.caFile, tickMs: 20 });
  try {
    const port = await freePort();
    const resource = await manager.addResource({
      name: 'echo',
      hostname: 'echo.example.com',
      edge: edge.url,
      localPort: port,
      localHost: '127.0.0.1',
      tags: [],
      autoConnect: false,
      kind: 'other',
    });
    await manager.connect({ id: resource.id });
    const socket = net.connect(port, '127.0.0.1');
    const echoed = await new Promise<string>((resolve) => {
      socket.once('data', (data) => resolve(String(data)));
      socket.write('hello through the tunnel');
    });
    assert.equal(echoed, 'hello through the tunnel');
    assert.deepEqual(edge.hosts, ['echo.example.com']);
    const open = (await manager.getStatus()).resources[0]!;
    assert.equal(open.activeConnections, 1);
    assert.equal(open.bytesUp, 24);
    assert.equal(open.bytesDown, 24);
    socket.end();
    await new Promise((resolve) => socket.once('close', resolve));
  } finally {
    await manager.close();
    await edge.close();
  }
});

test('sign out everywhere signs out of every edge, saved or signed in from Browse, and every session row says so', async () => {
  const signedIn = new Set(['https://edge.example.com', 'https://other.example.com']);
  const signedOut: string[] = [];
  const auth: AuthProvider = {
    edgeOf,
    credentialFor: async () => ({ kind: 'app-token', token: 't' }),
    signIn: async (edge) => void signedIn.add(edge),
    signOut: async (edge) => {
      signedOut.push(edge);
      signedIn.delete(edge);
    },
    // other.example.com has no saved resource: it was signed in to from Browse.
    edges: () => ['https://other.example.com'],
    identity: async (edge) =>
      signedIn.has(edge) ? { email: 'ada@example.com', expiresAt: '2030-01-01T00:00:00.000Z' } : undefined,
  };
  const manager = new ResourceManager({ storage: new MemoryStorage(), auth });
  await manager.addResource({
    name: 'db',
    hostname: 'db.example.com',
    edge: 'https://edge.example.com',
    localPort: 5434,
    localHost: '127.0.0.1',
    tags: [],
    autoConnect: false,
    kind: 'postgres',
  });
  assert.deepEqual(
    (await manager.getStatus()).sessions.map((session) => session.signedIn),
    [true, true],
  );
  await manager.signOutAll();
  assert.deepEqual(signedOut.sort(), ['https://edge.example.com', 'https://other.example.com']);
  assert.deepEqual(
    (await manager.getStatus()).sessions.map((session) => session.signedIn),
    [false, false],
  );
});

test('Copy SSH config: an SSH resource gets the ssh_config block that reaches its host through airlock; others are refused', async () => {
  const manager = new ResourceManager({
    storage: new MemoryStorage(),
    airlockCommand: ['/usr/bin/node', '/opt/air lock/bin/airlock.js'],
  });
  const input = { localHost: '127.0.0.1', tags: [], autoConnect: false };
  const bastion = await manager.addResource({
    ...input,
    name: 'bastion',
    hostname: 'bastion.example.com',
    localPort: 2222,
    kind: 'ssh',
    edge: 'https://edge.example.com',
  });
  const { text } = await manager.sshConfig({ id: bastion.id });
  assert.equal(
    text,
    "Host bastion.example.com\n  ProxyCommand /usr/bin/node '/opt/air lock/bin/airlock.js' access ssh --hostname %h --edge https://edge.example.com\n",
  );
  const db = await manager.addResource({
    ...input,
    name: 'db',
    hostname: 'db.example.com',
    localPort: 5433,
    kind: 'postgres',
  });
  await assert.rejects(manager.sshConfig({ id: db.id }), { code: 'INVALID_INPUT' });
  // Without a command from its shell, the CLI on the PATH.
  const plain = new ResourceManager({ storage: new MemoryStorage() });
  const lone = await plain.addResource({
    ...input,
    name: 'box',
    hostname: 'box.example.com',
    localPort: 2200,
    kind: 'ssh',
  });
  assert.match(
    (await plain.sshConfig({ id: lone.id })).text,
    /^Host box\.example\.com\n {2}ProxyCommand airlock access ssh --hostname %h\n$/,
  );
});
