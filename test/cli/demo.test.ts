// `airlock demo`'s advice when something stops it: the commands it names must work from where
// the user stands (the demo's hostname resolves only inside the demo; its flag is --port).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../../src/cli/demo/run-demo.js';
import { freePort } from '../helpers/chain.js';

/** Runs fn with these environment variables set (undefined: unset) and stderr captured. */
async function withEnvironment<T>(
  variables: Record<string, string | undefined>,
  fn: () => Promise<T>,
): Promise<{ result: PromiseSettledResult<T>; stderr: string }> {
  const saved = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
  const write = process.stderr.write;
  let stderr = '';
  for (const [name, value] of Object.entries(variables)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  process.stderr.write = ((chunk: string | Uint8Array) => (
    (stderr += chunk.toString()),
    true
  )) as typeof process.stderr.write;
  try {
    const [result] = await Promise.allSettled([fn()]);
    return { result: result!, stderr };
  } finally {
    process.stderr.write = write;
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

function rejection(result: PromiseSettledResult<unknown>): Error & { code?: string } {
  assert.equal(result.status, 'rejected', 'the demo stopped with an error');
  return (result as PromiseRejectedResult).reason as Error & { code?: string };
}

test('a sign-in that times out advises running the demo again, not `airlock access login` on the demo hostname', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-demo-'));
  const port = await freePort();
  const { result, stderr } = await withEnvironment({ AIRLOCK_NO_BROWSER: '1', npm_lifecycle_event: 'demo' }, () =>
    runDemo(['--port', String(port), '--dir', dir], { loginTimeoutMs: 1000 }),
  );
  const error = rejection(result);
  assert.equal(error.code, 'LOGIN_TIMEOUT', error.message);
  assert.match(error.message, new RegExp(`run \`npm run demo -- --port ${port} --dir ${dir}\` to try again`));
  assert.doesNotMatch(error.message, /access login/);
  // The printed instructions say the browser will warn about the certificate, and why.
  assert.match(stderr, /warn that the sign-in page's connection is not private/);
  assert.ok(stderr.includes(`throwaway CA, ${join(dir, 'certs', 'ca.pem')}`), stderr);
});

test('started as `airlock demo`, the advice names `airlock demo` with the same options', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock demo '));
  const { result } = await withEnvironment({ AIRLOCK_NO_BROWSER: '1', npm_lifecycle_event: undefined }, () =>
    runDemo(['--dir', dir], { loginTimeoutMs: 1000 }),
  );
  const error = rejection(result);
  assert.equal(error.code, 'LOGIN_TIMEOUT', error.message);
  assert.ok(error.message.includes(`run \`airlock demo --dir '${dir}'\` to try again`), error.message);
});

test('a client port another program holds: the demo names its own --port flag, not --url', async (t) => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.after(() => holder.close());
  const port = (holder.address() as net.AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), 'airlock-demo-'));
  const { result, stderr } = await withEnvironment({ npm_lifecycle_event: 'demo' }, () =>
    runDemo(['--port', String(port), '--dir', dir, '--service-token']),
  );
  const error = rejection(result);
  assert.equal(error.code, 'PORT_IN_USE', error.message);
  assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port} \\(the demo's client listener\\) is already in use`));
  const suggested = Number(error.message.match(/`npm run demo -- --port (\d+) --dir /)?.[1]);
  assert.ok(error.message.includes(`\`npm run demo -- --port ${suggested} --dir ${dir}\``), error.message);
  assert.ok(suggested > port, error.message);
  assert.doesNotMatch(error.message, /--url/);
  // Checked before anything started, and the port it suggests is free.
  assert.doesNotMatch(stderr, /\[1\/6\]/);
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(suggested, '127.0.0.1', resolve));
  probe.close();
});
