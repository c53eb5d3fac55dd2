// A relayed stream (two edges, one PostgreSQL; the connector on edge B, the client on edge A)
// whose reader is slow gets every byte the origin sent before its clean end: when the far edge
// ends the download and the relay WebSocket goes, what edge A still holds toward the client
// (queued behind the client's backpressure) is delivered first, then the close
// (docs/architecture.md, "Client ↔ edge", closing and half-close).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { freePort, SERVICE_TOKEN } from '../helpers/chain.js';
import { postgresMissing } from '../helpers/postgres.js';
import { startRelayPair, type RelayPair } from '../helpers/multi-edge.js';
import { waitUntil } from '../helpers/airlock-processes.js';
import { download, startOrigin, sha256, type Origin } from '../helpers/transfer.js';
import type { RunningEdge } from '../../src/edge/edge-server.js';
import { LocalListener } from '../../src/core/local-listener.js';
import { resolveEdgeTarget, type EdgeTarget } from '../../src/core/edge-target.js';

const skip = postgresMissing;
if (skip) console.log(`# relay slow-reader suite skipped: ${skip}`);

const APP = 'relay-slow.airlock.test';
const MB = 1024 * 1024;
const STREAMS = 10;
/**
 * Slow readers: more bytes than the loopback socket buffers between edge A and the local program
 * hold (several MB once tuned), read slower than the origin echoes them, so that when the
 * download ends edge A still has a queue toward the client.
 */
const TRICKLE = { streams: 4, size: 10 * MB, rate: 1 * MB };

let origin: Origin;
let pair: RelayPair;
let edgeA: RunningEdge;
let edgeB: RunningEdge;
const listeners: LocalListener[] = [];

before(async () => {
  if (skip) return;
  origin = await startOrigin();
  // The connector reaches edge B only: every stream through edge A is relayed.
  pair = await startRelayPair({ hostname: APP, service: `tcp://127.0.0.1:${origin.port}` });
  ({ edgeA, edgeB } = pair);
  const probe = await listen(edgeA.port, false);
  await waitUntil('edge B to announce its tunnel', async () => (await download(probe, 1)).complete, 10_000, 200);
});

after(async () => {
  if (skip) return;
  for (const listener of listeners) await listener.stop();
  await pair?.close();
  await origin?.close();
});

const targetOf = (edgePort: number): EdgeTarget =>
  resolveEdgeTarget({ hostname: APP, edge: `https://127.0.0.1:${edgePort}`, caFile: pair.pki.ca });

async function listen(edgePort: number, resume: boolean): Promise<number> {
  const port = await freePort();
  const listener = new LocalListener({
    target: targetOf(edgePort),
    local: { host: '127.0.0.1', port },
    credential: async () => ({ kind: 'service-token', ...SERVICE_TOKEN }),
    resume,
  });
  await listener.start();
  listeners.push(listener);
  return port;
}

interface Echoed {
  bytes: number;
  intact: boolean;
  /** 'fin': an orderly end; an error code (ECONNRESET) or 'timeout' otherwise. */
  ended: string;
}

/**
 * A local program that writes `size` bytes to the echo origin ('E' mode), half-closes, reads
 * nothing for `pauseMs` (the echo backs up into the edges), then reads to the end, at
 * `bytesPerSecond` if given.
 */
function pausedEcho(port: number, size: number, pauseMs: number, bytesPerSecond = 0): Promise<Echoed> {
  const data = randomBytes(size);
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    let bytes = 0;
    let done = false;
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => {
      socket.pause();
      socket.end(Buffer.concat([Buffer.from('E'), data]));
      setTimeout(() => socket.resume(), pauseMs).unref();
    });
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
      if (bytesPerSecond === 0) return;
      socket.pause();
      setTimeout(() => socket.resume(), (chunk.length / bytesPerSecond) * 1000).unref();
    });
    const finish = (ended: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes, intact: bytes === size && hash.digest('hex') === sha256(data), ended });
    };
    const timer = setTimeout(() => finish('timeout'), 40_000);
    socket.on('end', () => finish('fin'));
    socket.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
  });
}

function assertWhole(results: Echoed[], size: number, clean: string): void {
  const short = results.filter((result) => !result.intact);
  assert.deepEqual(
    short.map((result) => `${result.bytes} B, ${result.ended}`),
    [],
    `${short.length} of ${results.length} streams came back short of ${size} B`,
  );
  for (const result of results) assert.equal(result.ended, clean);
}

const summary = (results: Echoed[]) => results.map((result) => `${result.bytes} ${result.ended}`).join('; ');

describe('relayed echoes read slowly', { skip }, () => {
  for (const resume of [false, true]) {
    test(`${STREAMS} local programs, 4 MB echoes read after 3 s (resume ${resume ? 'on' : 'off'}): every byte, then FIN`, async (t) => {
      const port = await listen(edgeA.port, resume);
      const results = await Promise.all(Array.from({ length: STREAMS }, () => pausedEcho(port, 4 * MB, 3000)));
      t.diagnostic(summary(results));
      assertWhole(results, 4 * MB, 'fin');
    });
  }

  for (const resume of [false, true]) {
    test(`${TRICKLE.streams} local programs reading 10 MB echoes at 1 MB/s (resume ${resume ? 'on' : 'off'}): every byte, then FIN`, async (t) => {
      const port = await listen(edgeA.port, resume);
      const results = await Promise.all(
        Array.from({ length: TRICKLE.streams }, () => pausedEcho(port, TRICKLE.size, 1000, TRICKLE.rate)),
      );
      t.diagnostic(summary(results));
      assertWhole(results, TRICKLE.size, 'fin');
    });
  }

  test('the same slow local programs straight to the edge holding the connector (no relay)', async (t) => {
    const port = await listen(edgeB.port, false);
    const results = await Promise.all(
      Array.from({ length: TRICKLE.streams }, () => pausedEcho(port, TRICKLE.size, 1000, TRICKLE.rate)),
    );
    t.diagnostic(summary(results));
    assertWhole(results, TRICKLE.size, 'fin');
  });
});
