// `airlock access token --where`: which store keeps this user's sign-in tokens, with its path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { airlock } from '../helpers/processes.js';

test('`airlock access token --where` names the 0600 file when no keychain is reachable, with its path', async () => {
  const home = mkdtempSync(join(tmpdir(), 'airlock-where-'));
  const where = airlock(['access', 'token', '--where'], {
    XDG_CONFIG_HOME: home,
    DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(home, 'no-such-bus')}`,
  });
  assert.equal(await where.exited(), 0, where.output());
  assert.ok(
    where
      .output()
      .includes(
        `Sign-in tokens are stored in a plain file readable only by you (mode 0600), ${join(home, 'airlock', 'tokens.json')}.`,
      ),
    where.output(),
  );
});

test('the keychain fallback notice is printed once, not on every command', async () => {
  const home = mkdtempSync(join(tmpdir(), 'airlock-where-'));
  const env = { XDG_CONFIG_HOME: home, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(home, 'no-such-bus')}` };
  const runs = [];
  for (let index = 0; index < 2; index++) {
    const run = airlock(['access', 'token', '--where'], env);
    assert.equal(await run.exited(), 0, run.output());
    runs.push(run.output());
  }
  assert.match(runs[0]!, /keychain is not reachable/);
  assert.doesNotMatch(runs[1]!, /keychain is not reachable/, runs[1]);
  assert.match(runs[1]!, /Sign-in tokens are stored in a plain file/);
});
