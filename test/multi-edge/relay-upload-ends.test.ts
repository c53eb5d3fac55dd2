// Uploads through a relay (two edges, one PostgreSQL; the connector on edge B, the client on edge
// A) that end abnormally on the client's side: the local program resets, or `airlock access tcp`
// is killed. The origin must see a reset, never a FIN, as it does without a relay
// (test/faults/abnormal-ends.test.ts): a FIN would pass a truncated upload off as complete.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { freePort, SERVICE_TOKEN } from '../helpers/chain.js';
import { postgresMissing } from '../helpers/postgres.js';
import { startRelayPair, type RelayPair } from '../helpers/multi-edge.js';
import { spawnAirlock, stopProcess, waitUntil } from '../helpers/airlock-processes.js';
import { recordingOrigin } from '../helpers/socket-ends.js';
import { patternAt } from '../helpers/transfer.js';

const skip = postgresMissing;
const MB = 1024 * 1024;
if (skip) console.log(`# relay upload-ends suite skipped: ${skip}`);

let origin: Awaited<ReturnType<typeof recordingOrigin>>;
let pair: RelayPair;

before(async () => {
  if (skip) return;
  origin = await recordingOrigin();
  pair = await startRelayPair({ hostname: 'relay-upload.airlock.test', service: `tcp://127.0.0.1:${origin.port}` });
  // Edge A learns where the tunnel is from the directory (two heartbeats).
  await new Promise((resolve) => setTimeout(resolve, 2_500));
});

after(async () => {
  if (skip) return;
  await pair?.close();
  await origin?.close();
});

// Small uploads are all in flight at the cut; large ones are held back by backpressure at the
// relaying edge, whose client stream then never ends: the relay stayed open and the origin was
// held for good (found by an independent run), until the edge closed the relay at the cut.
const CASES = [
  ['the local program resets', 256 * 1024],
  ['the client process is killed (kill -9)', 256 * 1024],
  ['the local program resets', 64 * MB],
  ['the client process is killed (kill -9)', 64 * MB],
] as const;

for (const [how, size] of CASES) {
  test(
    `${how} mid-upload (${size / 1024} KiB) through a relay: the origin gets a reset, not a FIN`,
    { skip },
    async (t) => {
      const localPort = await freePort();
      const access = spawnAirlock(
        'access',
        [
          'access',
          'tcp',
          '--hostname',
          pair.app.hostname,
          '--url',
          `127.0.0.1:${localPort}`,
          '--edge',
          `https://127.0.0.1:${pair.edgeA.port}`,
          '--ca',
          pair.pki.ca,
          '--no-resume',
        ],
        { AIRLOCK_SERVICE_TOKEN_ID: SERVICE_TOKEN.id, AIRLOCK_SERVICE_TOKEN_SECRET: SERVICE_TOKEN.secret },
      );
      t.after(() => stopProcess(access));
      await access.waitFor(/Listening on/);
      const endsBefore = origin.ends.length;
      let cutAt = 0;
      let seenAfterMs = 0;
      const connectionsBefore = origin.connections;
      const uploads = Array.from({ length: 4 }, () => {
        const socket = net.connect(localPort, '127.0.0.1');
        socket.on('error', () => {});
        let sent = 0;
        const pump = () => {
          while (!socket.destroyed && sent < size) {
            const piece = patternAt(sent, 64 * 1024);
            sent += piece.length;
            if (!socket.write(piece)) return void socket.once('drain', pump);
          }
        };
        pump();
        return socket;
      });
      try {
        await waitUntil(
          'the origin received bytes on every connection',
          () => origin.connections >= connectionsBefore + 4,
          10_000,
        );
        await new Promise((resolve) => setTimeout(resolve, size > MB ? 1_000 : 200));
        cutAt = Date.now();
        if (how === 'the local program resets') for (const socket of uploads) socket.resetAndDestroy();
        else access.signal('SIGKILL');
        await waitUntil(
          'the origin saw every connection end',
          () => origin.ends.length === endsBefore + 4,
          10_000,
        ).catch(() => {});
        seenAfterMs = Date.now() - cutAt;
      } finally {
        for (const socket of uploads) socket.destroy();
      }
      const ends = origin.ends.slice(endsBefore);
      t.diagnostic(`origin: ${ends.join(', ')}, the last ${seenAfterMs} ms after the cut`);
      assert.equal(ends.length, 4, 'the origin saw all four connections end');
      for (const end of ends) assert.equal(end, 'ECONNRESET', 'the origin saw a reset, not a FIN');
    },
  );
}
