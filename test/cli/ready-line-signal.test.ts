// A script or a test that starts a long-running command waits for its ready line, then may stop it
// at once. Each command must already handle Ctrl-C when it prints that line: before, a signal sent
// in that instant killed the process (no drain, exit by signal), which a loaded CI machine hit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startEchoServer } from '../helpers/chain.js';
import { processChain } from '../helpers/process-chain.js';
import { spawnAirlock, stopProcess, type AirlockProcess } from '../helpers/airlock-processes.js';

const hook = fileURLToPath(new URL('../helpers/signal-on-line.mjs', import.meta.url));

/** The environment that makes a process SIGINT itself as it writes a line matching `line`. */
function signalOn(line: RegExp): Record<string, string> {
  return {
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${hook}`.trim(),
    AIRLOCK_TEST_SIGNAL_ON: line.source,
  };
}

async function assertStoppedCleanly(proc: AirlockProcess, stopping: RegExp): Promise<void> {
  const timer = setTimeout(() => proc.signal('SIGKILL'), 20_000);
  const { code, signal } = await proc.exited;
  clearTimeout(timer);
  assert.equal(signal, null, `${proc.name} died of ${signal} instead of stopping:\n${proc.output().slice(-2000)}`);
  assert.equal(code, 0, proc.output().slice(-2000));
  assert.match(proc.output(), stopping, 'it ran its shutdown');
}

test(
  'Ctrl-C the instant the ready line appears: edge, connector and access tcp stop cleanly (exit 0)',
  { timeout: 90_000 },
  async () => {
    const origin = await startEchoServer();
    const chain = await processChain([{ hostname: 'ready.airlock.test', service: `tcp://127.0.0.1:${origin.port}` }]);
    const started: AirlockProcess[] = [];
    try {
      const signalled = await chain.startEdge({ env: signalOn(/edge listening on/) });
      started.push(signalled);
      await assertStoppedCleanly(signalled, /draining/);

      const edge = await chain.startEdge();
      started.push(edge);
      const connector = await chain.startConnector({ connections: 1, env: signalOn(/connector \S+ dialling/) });
      started.push(connector);
      await assertStoppedCleanly(connector, /draining/);

      const steady = await chain.startConnector({ connections: 1 });
      started.push(steady);
      const { proc: access } = await chain.startAccess('ready.airlock.test', { env: signalOn(/Listening on/) });
      started.push(access);
      await assertStoppedCleanly(access, /stopping/);
    } finally {
      await Promise.all(started.map((proc) => stopProcess(proc)));
      await origin.close();
    }
  },
);

test('Ctrl-C the instant `airlock demo` says it is ready: every part stops, exit 0', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-ready-'));
  const demo = spawnAirlock('demo', ['demo', '--service-token', '--port', String(await freePort()), '--dir', dir], {
    AIRLOCK_NO_BROWSER: '1',
    ...signalOn(/Ctrl-C stops every part/),
  });
  try {
    await assertStoppedCleanly(demo, /stopped/);
  } finally {
    await stopProcess(demo);
  }
});
