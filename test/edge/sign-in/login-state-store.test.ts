import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryLoginStateStore } from '../../../src/edge/sign-in/login-state-store.js';

describe('MemoryLoginStateStore', () => {
  test('take() returns a stored login once', async () => {
    const store = new MemoryLoginStateStore<{ n: number }>();
    await store.put('state-1', { n: 1 }, 60_000);
    assert.deepEqual(await store.take('state-1'), { n: 1 });
    assert.equal(await store.take('state-1'), undefined);
  });

  test('an in-flight login expires after its TTL (10 minutes by default)', async () => {
    let now = 0;
    const store = new MemoryLoginStateStore<string>({ now: () => now });
    await store.put('a', 'login-a', 10 * 60_000);
    await store.put('b', 'login-b', 10 * 60_000);
    now = 10 * 60_000 - 1;
    assert.equal(await store.take('a'), 'login-a');
    now = 10 * 60_000;
    assert.equal(await store.take('b'), undefined);
  });

  test('expired entries are swept on put', async () => {
    let now = 0;
    const store = new MemoryLoginStateStore<string>({ now: () => now });
    await store.put('a', 'x', 1_000);
    now = 2_000;
    await store.put('b', 'y', 1_000);
    assert.equal(store.size, 1);
  });
});
