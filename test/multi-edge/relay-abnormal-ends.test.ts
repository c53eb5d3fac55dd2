// A relayed stream (two edges, one PostgreSQL; the connector on edge B, the client on edge A) that
// is cut at the far edge reaches the local program as a reset, never as a clean end
// (docs/architecture.md, "An abnormal end resets both ends").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { freePort, SERVICE_TOKEN } from '../helpers/chain.js';
import { postgresMissing } from '../helpers/postgres.js';
import { startRelayPair, type RelayPair } from '../helpers/multi-edge.js';
import { waitUntil } from '../helpers/airlock-processes.js';
import { upgradeStatus } from '../helpers/hostile.js';
import { download, startOrigin, type Origin } from '../helpers/transfer.js';
import { watchedDownload } from '../helpers/socket-ends.js';
import { LocalListener } from '../../src/core/local-listener.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';
import { HEADER } from '../../src/shared/constants.js';

const skip = postgresMissing;
if (skip) console.log(`# relay abnormal-ends suite skipped: ${skip}`);

const MB = 1024 * 1024;

let origin: Origin;
let pair: RelayPair;
let listener: LocalListener;
let localPort: number;

before(async () => {
  if (skip) return;
  origin = await startOrigin();
  pair = await startRelayPair({ hostname: 'relay-cut.airlock.test', service: `tcp://127.0.0.1:${origin.port}` });
  localPort = await freePort();
  listener = new LocalListener({
    target: resolveEdgeTarget({
      hostname: pair.app.hostname,
      edge: `https://127.0.0.1:${pair.edgeA.port}`,
      caFile: pair.pki.ca,
    }),
    local: { host: '127.0.0.1', port: localPort },
    credential: async () => ({ kind: 'service-token', ...SERVICE_TOKEN }),
    // Plain streams: a resumable one would resume once the connector is back (resume-relay.test.ts).
    resume: false,
  });
  await listener.start();
  await waitUntil('edge B to announce its tunnel', async () => (await download(localPort, 1)).complete, 10_000, 200);
});

after(async () => {
  if (skip) return;
  await listener?.stop();
  await pair?.close();
  await origin?.close();
});

describe('relayed streams cut at the far edge', { skip }, () => {
  test("the connector's connections to edge B dropped under relayed downloads: each local program gets a reset", async (t) => {
    let dropped = false;
    const downloads = Array.from({ length: 4 }, () =>
      watchedDownload(localPort, 64 * MB, {
        paceMs: 20,
        timeoutMs: 30_000,
        onProgress: (bytes) => {
          if (dropped || bytes < 2 * MB) return;
          dropped = true;
          // Dropped under their streams, no GOAWAY: edge B closes the relay WebSockets 1011.
          for (const connection of pair.edgeB.registry.all()) connection.session.destroy();
        },
      }),
    );
    const results = await Promise.all(downloads);
    t.diagnostic(results.map((r) => `${(r.bytes / MB).toFixed(1)} MB ${r.ended}`).join('; '));
    assert.ok(dropped, 'the connections were dropped mid-transfer');
    for (const result of results) {
      assert.equal(result.intact, true);
      assert.ok(result.bytes < 64 * MB);
      assert.equal(result.ended, 'reset', `the local program saw a reset, not ${result.ended}`);
    }
    // Back before the suite stops it: a stop() during a redial waits on the new session forever.
    await waitUntil('the connector to reconnect', () => pair.edgeB.registry.count() === 2, 10_000);
    await pair.connector.waitConnected(2);
  });
});

test(
  'a resume the far edge refuses (its connector does not hold the stream) is refused by the relaying edge too: 410, not 503',
  { skip },
  async () => {
    const token = `${pair.connector.connectorId}.${randomUUID()}.${'a'.repeat(43)}`;
    const status = await upgradeStatus(pair.edgeA.port, readFileSync(pair.pki.ca), pair.app.hostname, {
      [HEADER.resumeToken]: token,
      [HEADER.resumeOffsets]: '0,0',
    });
    // Before, edge A took edge B's 410 for a failed relay and answered 503 no_connector, so the
    // client kept retrying a stream that no longer exists.
    assert.equal(status, 410);
  },
);
