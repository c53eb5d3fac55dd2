// The CLI names every AirlockError by its code, `airlock: [CODE] message`, so the user can look it up
// (docs/troubleshooting.md "Error codes"); other failures keep their own words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../helpers/chain.js';
import { airlock } from '../helpers/processes.js';

test('a bad argument is printed with its code, and exits 2', async () => {
  const run = airlock(['access', 'tcp', '--hostname', 'db.example.test', '--url', '127.0.0.1:65536']);
  assert.equal(await run.exited(), 2, run.output());
  assert.match(run.output(), /^airlock: \[BAD_ARGUMENT\] --url "127\.0\.0\.1:65536" is not ADDRESS:PORT/m);
});

test('an unreachable edge is printed with its code, and exits 1', async () => {
  const dead = await freePort();
  const port = await freePort();
  const run = airlock([
    'access',
    'tcp',
    '--hostname',
    'db.example.test',
    '--url',
    `127.0.0.1:${port}`,
    '--edge',
    `https://127.0.0.1:${dead}`,
    '--service-token-id',
    'a',
    '--service-token-secret',
    'b',
  ]);
  assert.equal(await run.exited(), 1, run.output());
  assert.match(
    run.output(),
    new RegExp(`^airlock: \\[EDGE_UNREACHABLE\\] cannot reach the edge at https://127\\.0\\.0\\.1:${dead} `, 'm'),
  );
});

test('an unknown command has its code and suggests the nearest one; the usage follows', async () => {
  const run = airlock(['acess', 'tcp']);
  assert.equal(await run.exited(), 2, run.output());
  assert.match(
    run.output(),
    /^airlock: \[BAD_ARGUMENT\] unknown command "acess tcp"; did you mean `airlock access tcp`\?\n\nusage: airlock COMMAND/m,
  );
  const far = airlock(['frobnicate']);
  assert.equal(await far.exited(), 2, far.output());
  assert.match(far.output(), /^airlock: \[BAD_ARGUMENT\] unknown command "frobnicate"\n/m, 'no far-fetched guess');
});

test('a mistyped flag is named with the nearest real one, in balanced quotes', async () => {
  const run = airlock(['access', 'tcp', '--hostnme', 'db.example.test']);
  assert.equal(await run.exited(), 2, run.output());
  assert.match(run.output(), /^airlock: \[BAD_ARGUMENT\] unknown option --hostnme; did you mean --hostname\?\n/m);
  const missing = airlock(['access', 'tcp', '--hostname']);
  assert.equal(await missing.exited(), 2, missing.output());
  assert.match(missing.output(), /^airlock: \[BAD_ARGUMENT\] --hostname needs a value\n/m);
});

test('--version prints the package version on stdout', async () => {
  const run = airlock(['--version']);
  assert.equal(await run.exited(), 0, run.output());
  assert.match(run.output(), /^airlock \d+\.\d+\.\d+\S* \(Node\.js \d+\.\d+\.\d+\)\n$/);
});
