import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RouteStore } from '../../src/edge/tunnels/route-store.js';
import { secretMatches } from '../../src/shared/secrets.js';
import { startHostEdge } from '../helpers/host-edge.js';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'airlock-routes-')), 'state', 'routes.json');

test('a missing route store is an empty one, and nothing is written until something changes', async () => {
  const file = fresh();
  const store = await RouteStore.open(file);
  assert.deepEqual([store.tunnels().length, store.routes().length], [0, 0]);
  assert.throws(() => statSync(file), /ENOENT/);
});

test('tunnels and routes survive reopening; the file is 0600 and holds only the secret hash', async () => {
  const file = fresh();
  const store = await RouteStore.open(file);
  const { tunnel, secret } = await store.createTunnel('redis', 'ops@example.com');
  await store.putRoute({
    hostname: 'redis.airlock.test',
    tunnelId: tunnel.id,
    service: 'tcp://127.0.0.1:6379',
    owner: 'ops@example.com',
    createdAt: new Date().toISOString(),
  });
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.ok(!readFileSync(file, 'utf8').includes(secret), 'the secret itself is never stored');
  const reopened = await RouteStore.open(file);
  assert.equal(reopened.tunnelByName('redis')?.owner, 'ops@example.com');
  assert.ok(secretMatches(secret, reopened.tunnelByName('redis')!.secretHash));
  assert.equal(reopened.route('redis.airlock.test')?.service, 'tcp://127.0.0.1:6379');
  assert.deepEqual(readdirSync(join(file, '..')), ['routes.json'], 'no temporary file is left behind');
});

test('concurrent changes all land, each on top of the previous one', async () => {
  const store = await RouteStore.open(fresh());
  await Promise.all(Array.from({ length: 10 }, (_, index) => store.createTunnel(`t${index}`, 'ops@example.com')));
  assert.equal((await RouteStore.open(store.file)).tunnels().length, 10);
});

test('deleting a tunnel removes its routes', async () => {
  const store = await RouteStore.open(fresh());
  const { tunnel } = await store.createTunnel('redis', 'ops@example.com');
  await store.putRoute({
    hostname: 'redis.airlock.test',
    tunnelId: tunnel.id,
    service: 'tcp://127.0.0.1:6379',
    owner: 'ops@example.com',
    createdAt: 'now',
  });
  assert.deepEqual(
    (await store.deleteTunnel(tunnel.id)).map((route) => route.hostname),
    ['redis.airlock.test'],
  );
  assert.equal((await RouteStore.open(store.file)).routes().length, 0);
});

for (const [name, text] of [
  ['truncated JSON', '{"version":1,"tunnels":['],
  ['a wrong shape', '{"version":1,"tunnels":[{"id":"x"}],"routes":[]}'],
  [
    'a route naming a missing tunnel',
    '{"version":1,"tunnels":[],"routes":[{"hostname":"a.test","tunnelId":"t-1","service":"tcp://127.0.0.1:1","owner":"o","createdAt":"c"}]}',
  ],
] as const) {
  test(`a route store with ${name} stops the edge, naming the file, and is not overwritten`, async () => {
    const file = fresh();
    const stateDir = join(file, '..');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(file, text, { mode: 0o600 });
    await assert.rejects(startHostEdge({ stateDir }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'CONFIG_INVALID');
      assert.ok(error.message.includes(file), error.message);
      assert.match(error.message, /will not overwrite it/);
      return true;
    });
    assert.equal(readFileSync(file, 'utf8'), text);
  });
}
