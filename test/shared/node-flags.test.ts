// The Node flags the edge and connector want (src/shared/node-flags.ts): reported when missing,
// and the launcher itself starts anywhere `env node` does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { NODE_FLAGS, missingNodeFlags, nodeFlagsNotice } from '../../src/shared/node-flags.js';
import { AIRLOCK_BIN, runToEnd } from '../helpers/processes.js';

test('missing flags are named in one notice; none when Node got them all', () => {
  assert.deepEqual(missingNodeFlags([]), [...NODE_FLAGS]);
  assert.deepEqual(missingNodeFlags(['--inspect', ...NODE_FLAGS]), []);
  assert.match(nodeFlagsNotice([]) ?? '', /started without --initial-old-space-size=64: .*node --initial-old-space-size=64 \$\(command -v airlock\)/);
  assert.equal(nodeFlagsNotice([...NODE_FLAGS]), undefined);
});

test('the launcher has a plain shebang and runs through it', async () => {
  // `env -S node FLAGS` would not start at all where env lacks -S (BusyBox, Alpine images).
  assert.equal(readFileSync(AIRLOCK_BIN, 'utf8').split('\n')[0], '#!/usr/bin/env node');
  const result = await runToEnd(AIRLOCK_BIN, ['--help']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout + result.stderr, /^usage: airlock COMMAND/);
});
