// Abnormal ends that cannot be resumed (issue 23): a connector killed or stopped under streams, an
// edge killed under a client that did not ask for resumption. Both ends must reset their sockets
// (RST, not FIN), so a truncated transfer is never mistaken for a complete one. Real processes
// (`airlock edge`, `airlock tunnel run`, `airlock access tcp`) on loopback, signalled by their PIDs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { processChain, waitForConnections } from '../helpers/process-chain.js';
import { stopProcess, waitUntil } from '../helpers/airlock-processes.js';
import { patternAt, startOrigin } from '../helpers/transfer.js';
import { recordingOrigin, watchedDownload } from '../helpers/socket-ends.js';

const MB = 1024 * 1024;

function auditRecords(file: string): Record<string, unknown>[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

// Plain clients (--no-resume) are told the origin failed; resumable ones (the default) try to resume
// and give up after 5 s of no connector (RESUME_REFUSED). Either way a reset, never a FIN.
for (const [how, resume] of [
  ['SIGKILL', false],
  ['SIGKILL', true],
  ['SIGSTOP', false],
] as const) {
  const code = resume ? 'RESUME_REFUSED' : 'ORIGIN_FAILED';
  test(`connector ${how === 'SIGKILL' ? 'kill -9' : 'SIGSTOP'} under 8 downloads, ${resume ? 'resumable' : 'plain'} streams: every local program gets a reset, none a FIN`, async (t) => {
    const origin = await startOrigin();
    const chain = await processChain([{ hostname: 'cut.airlock.test', service: `tcp://127.0.0.1:${origin.port}` }]);
    const edge = await chain.startEdge();
    const connector = await chain.startConnector({ connections: 2 });
    t.after(async () => {
      connector.signal('SIGCONT');
      await stopProcess(connector);
      await stopProcess(access.proc);
      await stopProcess(edge);
      await origin.close();
    });
    await waitForConnections(chain, 2);
    const access = await chain.startAccess('cut.airlock.test', { resume });

    let signalled = 0;
    const downloads = Array.from({ length: 8 }, () =>
      watchedDownload(access.port, 64 * MB, {
        paceMs: 20,
        timeoutMs: 90_000,
        onProgress: (bytes) => {
          if (!signalled && bytes >= 2 * MB) {
            signalled = Date.now();
            connector.signal(how);
          }
        },
      }),
    );
    const results = await Promise.all(downloads);
    t.diagnostic(
      `${how}: ${results.map((r) => `${(r.bytes / MB).toFixed(1)} MB ${r.ended}${r.error ? ` (${r.error})` : ''}`).join('; ')}; ended ${Date.now() - signalled} ms after the signal`,
    );
    const lines = await waitUntil(
      '8 failed connections in the client log',
      () => (access.proc.output().match(new RegExp(`connection \\d+ failed: \\[${code}\\]`, 'g')) ?? []).length === 8,
      10_000,
    ).catch(() => undefined);
    t.diagnostic(
      `client log: ${access.proc
        .output()
        .split('\n')
        .filter((line) => /connection \d+ (failed|closed)/.test(line))
        .slice(0, 3)
        .join(' | ')}`,
    );
    await waitUntil(
      '8 stream-end records',
      () => auditRecords(chain.auditFile).filter((r) => r.event === 'stream-end').length === 8,
      10_000,
    ).catch(() => undefined);
    const outcomes = auditRecords(chain.auditFile)
      .filter((r) => r.event === 'stream-end')
      .map((r) => String(r.outcome));
    t.diagnostic(`audit outcomes: ${[...new Set(outcomes)].join(' | ')}`);
    assert.ok(signalled > 0, 'the signal was sent mid-transfer');
    for (const result of results) {
      assert.equal(result.intact, true, 'every byte received before the cut is right');
      assert.ok(result.bytes < 64 * MB, 'the transfer was cut');
      assert.equal(result.ended, 'reset', `the local program saw a reset, not ${result.ended} (${result.error ?? ''})`);
    }
    assert.notEqual(lines, undefined, `every connection is logged as failed with ${code}`);
    // A resumable stream's resume attempts are audited too, refused while no connector is there.
    for (const outcome of outcomes) assert.match(outcome, resume ? /^error: |no connector/ : /^error: /);
  });
}

/**
 * A local program uploading pattern bytes (`total` of them and then its end, or until its socket
 * ends), noting how the socket ended and when. `echo`: the transfer origin echoes them back.
 */
function uploadingProgram(
  port: number,
  options: { total?: number; echo?: boolean; onSent?: (bytes: number) => void; onReceived?: (bytes: number) => void },
) {
  return new Promise<{ bytes: number; received: number; ended: string; endedAt: number }>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const total = options.total ?? 1024 * MB;
    let bytes = 0;
    let received = 0;
    let done = false;
    const finish = (ended: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes, received, ended, endedAt: Date.now() });
    };
    const timer = setTimeout(() => finish('timeout'), 60_000);
    socket.on('data', (data: Buffer) => options.onReceived?.((received += data.length)));
    socket.on('end', () => finish('fin'));
    socket.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    socket.on('close', () => finish('closed'));
    const pump = () => {
      while (!socket.destroyed && bytes < total) {
        const piece = patternAt(bytes, 64 * 1024);
        bytes += piece.length;
        options.onSent?.(bytes);
        if (!socket.write(piece)) return void socket.once('drain', pump);
      }
      if (options.total !== undefined) socket.end();
    };
    if (options.echo) socket.write('E');
    socket.once('connect', pump);
  });
}

test('edge kill -9 under uploads from a client without resumption: the local programs and the origin each get a reset, not a FIN', async (t) => {
  const origin = await recordingOrigin();
  const chain = await processChain([{ hostname: 'up.airlock.test', service: `tcp://127.0.0.1:${origin.port}` }]);
  const edge = await chain.startEdge();
  const connector = await chain.startConnector({ connections: 2 });
  t.after(async () => {
    await stopProcess(connector);
    await stopProcess(access.proc);
    await stopProcess(edge);
    await origin.close();
  });
  await waitForConnections(chain, 2);
  const access = await chain.startAccess('up.airlock.test', { resume: false });

  let killed = 0;
  const uploads = Array.from({ length: 4 }, () =>
    uploadingProgram(access.port, {
      onSent: (bytes) => {
        if (!killed && bytes >= 8 * MB) {
          killed = Date.now();
          edge.signal('SIGKILL');
        }
      },
    }),
  );
  const results = await Promise.all(uploads);
  await waitUntil('the origin saw every connection end', () => origin.ends.length === 4, 10_000).catch(() => {});
  t.diagnostic(
    `local programs: ${results.map((r) => `${(r.bytes / MB).toFixed(1)} MB sent, ${r.ended}`).join('; ')}; origin: ${origin.ends
      .map((how, index) => `${how} after ${(origin.received[index]! / MB).toFixed(1)} MB`)
      .join('; ')}`,
  );
  assert.ok(killed > 0, 'the edge was killed mid-upload');
  for (const result of results) assert.equal(result.ended, 'ECONNRESET', 'the local program saw a reset');
  assert.equal(origin.ends.length, 4, 'the origin saw all four connections end');
  for (const how of origin.ends) assert.equal(how, 'ECONNRESET', 'the origin saw a reset, not a FIN');
  await access.proc.waitFor(
    /connection \d+ failed: \[EDGE_UNREACHABLE\] the connection to the edge (was lost|failed)/,
    5000,
  );
});

for (const how of ['the local program resets', 'the client process is killed (kill -9)'] as const) {
  test(`${how} mid-upload: the origin gets a reset, not a FIN`, async (t) => {
    const origin = await recordingOrigin();
    const chain = await processChain([{ hostname: 'gone.airlock.test', service: `tcp://127.0.0.1:${origin.port}` }]);
    const edge = await chain.startEdge();
    const connector = await chain.startConnector({ connections: 2 });
    t.after(async () => {
      await stopProcess(connector);
      await stopProcess(access.proc);
      await stopProcess(edge);
      await origin.close();
    });
    await waitForConnections(chain, 2);
    const access = await chain.startAccess('gone.airlock.test', { resume: false });

    const sockets: net.Socket[] = [];
    const uploads = Array.from({ length: 4 }, () => {
      const socket = net.connect(access.port, '127.0.0.1');
      sockets.push(socket);
      socket.on('error', () => {});
      socket.write(patternAt(0, 256 * 1024));
      return socket;
    });
    await waitUntil('the origin received bytes on every connection', () => origin.connections >= 4, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    if (how === 'the local program resets') for (const socket of uploads) socket.resetAndDestroy();
    else access.proc.signal('SIGKILL');
    await waitUntil('the origin saw every connection end', () => origin.ends.length === 4, 10_000).catch(() => {});
    t.diagnostic(`origin: ${origin.ends.join(', ')}`);
    for (const socket of sockets) socket.destroy();
    assert.equal(origin.ends.length, 4, 'the origin saw all four connections end');
    for (const end of origin.ends) assert.equal(end, 'ECONNRESET', 'the origin saw a reset, not a FIN');
    await waitUntil(
      'four stream-end records',
      () => auditRecords(chain.auditFile).filter((r) => r.event === 'stream-end').length === 4,
      10_000,
    );
    const outcomes = auditRecords(chain.auditFile)
      .filter((r) => r.event === 'stream-end')
      .map((r) => String(r.outcome));
    t.diagnostic(`audit outcomes: ${[...new Set(outcomes)].join(' | ')}`);
    for (const outcome of outcomes) assert.equal(outcome, 'client left without a close frame (1006)');
  });
}

// Echoes push bytes both ways, so the edge holds the client's upload back (its WebSocket paused)
// while the connector's stream is full. When that stream is cut, the edge's close must still reach
// the program at once: before, the paused socket never read the client's close reply, and the
// program waited out the WebSocket's 30 s closing timeout.
test('connector kill -9 under 8 echo streams (uploads held back): every local program gets its reset within seconds, not 30 s', async (t) => {
  const origin = await startOrigin();
  const chain = await processChain([{ hostname: 'echo-cut.airlock.test', service: `tcp://127.0.0.1:${origin.port}` }]);
  const edge = await chain.startEdge();
  const connector = await chain.startConnector({ connections: 2 });
  t.after(async () => {
    await stopProcess(connector);
    await stopProcess(access.proc);
    await stopProcess(edge);
    await origin.close();
  });
  await waitForConnections(chain, 2);
  const access = await chain.startAccess('echo-cut.airlock.test', { resume: false });
  let killedAt = 0;
  // 16 MB each, then the upload's end (a half-close), as a copy through the echo would.
  const results = await Promise.all(
    Array.from({ length: 8 }, () =>
      uploadingProgram(access.port, {
        total: 16 * MB,
        echo: true,
        onReceived: (received) => {
          if (!killedAt && received >= 8 * MB) {
            killedAt = Date.now();
            connector.signal('SIGKILL');
          }
        },
      }),
    ),
  );
  const ends = results.map((result) => ({ ended: result.ended, afterMs: result.endedAt - killedAt }));
  t.diagnostic(ends.map((end) => `${end.ended} after ${end.afterMs} ms`).join('; '));
  assert.ok(killedAt > 0, 'the connector was killed mid-echo');
  for (const end of ends) {
    assert.equal(end.ended, 'ECONNRESET', 'the local program saw a reset');
    assert.ok(end.afterMs < 10_000, `the reset came ${end.afterMs} ms after the kill (under 10 s)`);
  }
});
