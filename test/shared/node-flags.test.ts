// The Node flags the edge and connector want (src/shared/node-flags.ts): reported when missing,
// and the launcher itself starts anywhere `env node` does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_FLAGS, missingNodeFlags, nodeFlagsNotice } from '../../src/shared/node-flags.js';
import { encodeTunnelToken } from '../../src/shared/secrets.js';
import { edgeYaml, freePort, testPki } from '../helpers/chain.js';
import { AIRLOCK_BIN, airlock, runToEnd } from '../helpers/processes.js';

test('missing flags are named in one notice; none when Node got them all', () => {
  assert.deepEqual(missingNodeFlags([]), [...NODE_FLAGS]);
  assert.deepEqual(missingNodeFlags(['--inspect', ...NODE_FLAGS]), []);
  assert.match(
    nodeFlagsNotice([]) ?? '',
    /started without --initial-old-space-size=64: .*node --initial-old-space-size=64 \$\(command -v airlock\)/,
  );
  assert.equal(nodeFlagsNotice([...NODE_FLAGS]), undefined);
});

test('the launcher has a plain shebang and runs through it', async () => {
  // `env -S node FLAGS` would not start at all where env lacks -S (BusyBox, Alpine images).
  assert.equal(readFileSync(AIRLOCK_BIN, 'utf8').split('\n')[0], '#!/usr/bin/env node');
  const result = await runToEnd(AIRLOCK_BIN, ['--help']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout + result.stderr, /^usage: airlock COMMAND/);
});

/** The output of an edge or connector started without the flags, once it says it is running. */
async function startOutput(args: string[], started: RegExp, env: NodeJS.ProcessEnv): Promise<string> {
  const server = airlock(args, env);
  try {
    await server.waitFor(started);
    return server.output();
  } finally {
    await server.stop();
  }
}

test('an edge or connector started without the flags says nothing about them, except at debug level', async () => {
  const pki = await testPki();
  const config = join(pki.dir, `flags-edge-${process.pid}.yaml`);
  writeFileSync(config, edgeYaml(pki, []));
  const dead = await freePort();
  const runs: Array<[string, string[], RegExp]> = [
    ['edge', ['edge', '--config', config], /edge listening on/],
    [
      'connector',
      ['tunnel', 'run', '--edge', `https://127.0.0.1:${dead}`, '--url', 'tcp://127.0.0.1:1', '--connections', '1'],
      /connector \S+ dialling/,
    ],
  ];
  for (const [name, args, started] of runs) {
    const env = { AIRLOCK_TUNNEL_TOKEN: encodeTunnelToken('flags', 'secret') };
    const normal = await startOutput(args, started, { ...env, AIRLOCK_LOG_LEVEL: 'info' });
    assert.doesNotMatch(normal, /initial-old-space-size/, `${name}: ${normal}`);
    const debug = await startOutput(args, started, { ...env, AIRLOCK_LOG_LEVEL: 'debug' });
    assert.match(debug, /started without --initial-old-space-size=64/, `${name}: ${debug}`);
  }
});
