// The Node flags airlock runs with (src/shared/node-flags.ts) are stated in three places; this keeps
// the launcher's shebang equal to the constant and proves the shebang actually runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { NODE_FLAGS } from '../../src/shared/node-flags.js';
import { AIRLOCK_BIN, runToEnd } from '../helpers/processes.js';

test("bin/airlock.js's shebang passes exactly NODE_FLAGS to node", () => {
  const shebang = readFileSync(AIRLOCK_BIN, 'utf8').split('\n')[0];
  assert.equal(shebang, `#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
});

test('the launcher runs through its shebang (env -S splits the flags) and Node accepts them', async () => {
  const result = await runToEnd(AIRLOCK_BIN, ['--help']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout + result.stderr, /^usage: airlock COMMAND/);
});
