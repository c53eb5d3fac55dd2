import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { RevocationList } from '../../../src/edge/tokens/revocation-list.js';
import { AirlockError } from '../../../src/shared/errors.js';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-revoked-'));
  file = join(dir, 'state', 'revoked-sessions.json');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('RevocationList', () => {
  test('starts empty when the file does not exist', async () => {
    const list = await RevocationList.open(file);
    assert.equal(list.size, 0);
    assert.equal(list.has('s-1'), false);
  });

  test('a revoked session stays revoked across a restart, in a 0600 file', async () => {
    const list = await RevocationList.open(file);
    await list.revoke('s-1', new Date(Date.now() + 60_000));
    assert.equal(list.has('s-1'), true);
    assert.equal(list.has('s-2'), false);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await RevocationList.open(file)).has('s-1'), true);
  });

  test('entries expire with the token they revoke', async () => {
    let now = Date.now();
    const list = await RevocationList.open(file, { now: () => now });
    await list.revoke('s-1', new Date(now + 1_000));
    await list.revoke('s-2', new Date(now + 10_000));
    now += 5_000;
    assert.equal(list.has('s-1'), false);
    assert.equal(list.has('s-2'), true);
    assert.equal(await list.prune(), 1);
    assert.deepEqual(Object.keys(JSON.parse(await readFile(file, 'utf8')).sessions), ['s-2']);
  });

  test('expired entries are dropped when loading', async () => {
    await writeFile(
      join(dir, 'old.json'),
      JSON.stringify({ sessions: { gone: Date.now() - 1, kept: Date.now() + 60_000 } }),
    );
    const list = await RevocationList.open(join(dir, 'old.json'));
    assert.equal(list.size, 1);
    assert.equal(list.has('kept'), true);
  });

  test('refuses to start on a corrupt file rather than un-revoking sessions', async () => {
    await writeFile(join(dir, 'bad.json'), '{oops');
    await assert.rejects(
      RevocationList.open(join(dir, 'bad.json')),
      (error: AirlockError) => error.code === 'CONFIG_UNREADABLE',
    );
  });
});
