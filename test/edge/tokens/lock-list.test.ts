// One edge's locks: kept in the state dir across restarts, lifted by unlock or by their `until`,
// and a request naming an identity or a date badly is refused with the field named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LockList, lockKey, parseLockRequest, type Lock } from '../../../src/edge/tokens/lock-list.js';
import { isAirlockError } from '../../../src/shared/errors.js';

const file = () => join(mkdtempSync(join(tmpdir(), 'airlock-locks-')), 'locked-identities.json');

test('a lock survives a restart, and an unlock too', async () => {
  const path = file();
  const locks = await LockList.open(path);
  const seen: Lock[] = [];
  locks.onLocked((lock) => seen.push(lock));
  await locks.lock(parseLockRequest({ identity: 'Ada@Corp.Example', reason: 'left' }, 'ops@corp.example', Date.now()));
  assert.deepEqual(
    seen.map((lock) => lock.identity),
    ['ada@corp.example'],
  );
  const reopened = await LockList.open(path);
  assert.equal(reopened.lockedFor('ada@corp.example')?.reason, 'left');
  assert.equal(reopened.lockedFor('ADA@corp.example')?.by, 'ops@corp.example');
  assert.equal(await reopened.unlock('ada@corp.example'), true);
  assert.equal((await LockList.open(path)).lockedFor('ada@corp.example'), undefined);
});

test('a lock with until lifts by itself', async () => {
  const locks = await LockList.open(file());
  const now = Date.now();
  await locks.lock({ identity: lockKey('ci-bot'), until: now + 200, by: 'ops', at: now });
  assert.ok(locks.lockedFor('service-token:ci-bot'));
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(locks.lockedFor('service-token:ci-bot'), undefined);
  assert.deepEqual(locks.list(), []);
});

test('a service token is named by its id, with or without the service-token: prefix', () => {
  assert.equal(lockKey('ci-bot'), 'service-token:ci-bot');
  assert.equal(lockKey('service-token:ci-bot'), 'service-token:ci-bot');
});

test('refuses a lock request with no identity, a past until, or a reason over one line', () => {
  const now = Date.now();
  for (const body of [
    {},
    { identity: 'two words' },
    { identity: 'ada@corp.example', until: new Date(now - 1000).toISOString() },
    { identity: 'ada@corp.example', until: 'tomorrow' },
    { identity: 'ada@corp.example', reason: 'a\nb' },
  ])
    assert.throws(
      () => parseLockRequest(body, 'ops', now),
      (error) => isAirlockError(error) && error.code === 'BAD_ARGUMENT',
      JSON.stringify(body),
    );
});

test('a damaged lock file stops the edge rather than unlocking everyone', async () => {
  const path = file();
  writeFileSync(path, '{not json');
  await assert.rejects(LockList.open(path), (error) => isAirlockError(error) && error.code === 'CONFIG_UNREADABLE');
});
