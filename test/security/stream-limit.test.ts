// One identity cannot open unbounded tunnels to one app (each dials the origin, whose connection
// limit they would exhaust): past apps[].limits.maxStreamsPerIdentity it is refused 429 with a
// sentence, audited and counted, while other identities and its own later connections go through.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startChain, startEchoServer, SERVICE_TOKEN, type Chain } from '../helpers/chain.js';
import { CookieJar, step } from '../helpers/cookie-fetch.js';
import { waitUntil } from '../helpers/airlock-processes.js';
import { dialTunnel, type OpenTunnel } from '../../src/core/tunnel-dial.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';
import { credentialHeaders } from '../../src/core/credentials.js';
import { hashSecret } from '../../src/shared/secrets.js';

const OTHER = { id: 'other-bot', secret: 'y'.repeat(43) };
let chain: Chain;
let echo: Awaited<ReturnType<typeof startEchoServer>>;

before(async () => {
  echo = await startEchoServer();
  chain = await startChain(
    [
      {
        hostname: 'capped.airlock.test',
        service: `tcp://127.0.0.1:${echo.port}`,
        policy: `      include: [{ serviceToken: "*" }]`,
      },
    ],
    {
      extraYaml: `  - { id: ${OTHER.id}, secretHash: "${hashSecret(OTHER.secret)}" }\nlimits: { maxStreamsPerIdentity: 3 }\n`,
    },
  );
});
after(async () => {
  await chain.close();
  await echo.close();
});

const open = (token: { id: string; secret: string }) =>
  dialTunnel({
    target: resolveEdgeTarget({ hostname: 'capped.airlock.test', edge: chain.edgeUrl, caFile: chain.pki.ca }),
    headers: credentialHeaders({ kind: 'service-token', ...token }),
  });

test('the fourth concurrent stream of one identity is refused 429; others are not; a closed one frees a slot', async () => {
  const tunnels: OpenTunnel[] = [];
  for (let index = 0; index < 3; index++) tunnels.push(await open(SERVICE_TOKEN));
  await assert.rejects(open(SERVICE_TOKEN), (error: Error) =>
    /HTTP 429: service-token:ci-bot already has 3 connections open to capped\.airlock\.test, the most this edge allows; close some, or ask the edge's administrator to raise apps\[\]\.limits\.maxStreamsPerIdentity/.test(
      error.message,
    ),
  );
  const other = await open(OTHER);
  other.ws.close();
  tunnels.pop()!.ws.close();
  await waitUntil(
    'the closed stream to free its slot',
    async () => {
      try {
        tunnels.push(await open(SERVICE_TOKEN));
        return true;
      } catch {
        return false;
      }
    },
    5_000,
    100,
  );
  const metrics = (await step(new CookieJar(readFileSync(chain.pki.ca)), `${chain.edgeUrl}/metrics`)).text;
  // At least the refusal above (the wait for the freed slot may have been refused a few more times).
  assert.ok(Number(/airlock_edge_stream_errors_total\{reason="identity_limit"\} (\d+)/.exec(metrics)?.[1] ?? 0) >= 1);
  for (const tunnel of tunnels) tunnel.ws.close();
});
