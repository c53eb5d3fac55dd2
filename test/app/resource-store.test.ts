import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  JsonFileStorage,
  MemoryStorage,
  ResourceStore,
  STORE_VERSION,
  emptyDocument,
  migrate,
} from '../../src/app/service/resource-store.js';

test('nothing saved yet gives an empty current document', () => {
  assert.deepEqual(migrate(undefined), emptyDocument());
});

test('migrates version 0 (url "host:port") through 1 to the current version', () => {
  const document = migrate({
    resources: [
      { name: 'prod ssh', hostname: 'ssh.example.com', url: '127.0.0.1:2222', autoConnect: true },
      { name: 'cache', hostname: 'redis.example.com', url: 'localhost:6379' },
    ],
  });
  assert.equal(document.version, STORE_VERSION);
  assert.equal(document.resources.length, 2);
  const [ssh, cache] = document.resources;
  assert.match(ssh!.id, /^[0-9a-f-]{36}$/);
  assert.deepEqual(
    { ...ssh, id: 'x' },
    {
      id: 'x',
      name: 'prod ssh',
      hostname: 'ssh.example.com',
      localHost: '127.0.0.1',
      localPort: 2222,
      tags: [],
      autoConnect: true,
      kind: 'ssh',
    },
  );
  assert.equal(cache!.localHost, 'localhost');
  assert.equal(cache!.kind, 'redis');
  assert.deepEqual(document.settings, { startAtLogin: false, theme: 'system', resume: true });
});

test('migrates version 1 to 2, guessing the kind from the port', () => {
  const document = migrate({
    version: 1,
    resources: [
      {
        id: 'a1',
        name: 'warehouse',
        hostname: 'pg.example.com',
        localHost: '127.0.0.1',
        localPort: 5432,
        tags: ['prod'],
        autoConnect: false,
      },
    ],
    settings: { startAtLogin: true, theme: 'dark' },
  });
  assert.equal(document.resources[0]!.kind, 'postgres');
  assert.deepEqual(document.resources[0]!.tags, ['prod']);
  assert.deepEqual(document.settings, { startAtLogin: true, theme: 'dark', resume: true });
});

test('refuses a document from a newer app', () => {
  assert.throws(() => migrate({ version: 99, resources: [] }), /newer Airlock/);
});

test('refuses an invalid document naming where it is wrong', () => {
  assert.throws(
    () =>
      migrate({
        version: 2,
        resources: [
          {
            id: 'a',
            name: 'x',
            hostname: 'bad host',
            localPort: 1,
            localHost: '127.0.0.1',
            tags: [],
            autoConnect: false,
            kind: 'other',
          },
        ],
        settings: { startAtLogin: false, theme: 'dark' },
      }),
    /resources\.0\.hostname/,
  );
  assert.throws(() => migrate([1, 2]), /not an object/);
});

test('the store writes back a migrated document at once', () => {
  const storage = new MemoryStorage({ resources: [{ name: 'db', hostname: 'db.example.com', url: '127.0.0.1:5433' }] });
  new ResourceStore(storage);
  assert.equal((storage.saved as { version: number }).version, STORE_VERSION);
});

test('updates are validated before they are written', () => {
  const storage = new MemoryStorage();
  const store = new ResourceStore(storage);
  assert.throws(() => store.update((document) => (document.settings.theme = 'neon' as 'dark')));
  assert.equal(storage.saved, undefined);
});

test('JsonFileStorage round-trips, is private to the user, and reports broken JSON', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'airlock-store-')), 'nested', 'resources.json');
  const storage = new JsonFileStorage(path);
  assert.equal(storage.read(), undefined);
  const store = new ResourceStore(storage);
  store.update((document) => (document.settings.theme = 'dark'));
  assert.equal(new ResourceStore(new JsonFileStorage(path)).get().settings.theme, 'dark');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).version, STORE_VERSION);
  writeFileSync(path, '{ nope');
  assert.throws(() => storage.read(), /not valid JSON/);
});
