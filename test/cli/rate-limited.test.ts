// A real edge's 429s, as the client names them: the service-token throttle (too many failed
// secrets from one address) is RATE_LIMITED with the edge's Retry-After, in the error and in the
// CLI's line; the per-identity stream cap is a limit on connections, not on the address, and stays
// EDGE_ERROR with the edge's own sentence (src/core/tunnel-dial.ts). One chain for both; the cap
// is tested first, since the throttle then refuses this address's service tokens for a minute.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { freePort, startChain, startEchoServer, SERVICE_TOKEN, type Chain } from '../helpers/chain.js';
import { airlock } from '../helpers/processes.js';
import { dialTunnel, type OpenTunnel } from '../../src/core/tunnel-dial.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';
import { credentialHeaders } from '../../src/core/credentials.js';
import { AirlockError } from '../../src/shared/errors.js';

const APP = 'limited.airlock.test';
let chain: Chain;
let echo: Awaited<ReturnType<typeof startEchoServer>>;

before(async () => {
  echo = await startEchoServer();
  chain = await startChain([{ hostname: APP, service: `tcp://127.0.0.1:${echo.port}` }], {
    extraYaml: 'limits: { maxStreamsPerIdentity: 1 }\n',
  });
});
after(async () => {
  await chain?.close();
  await echo?.close();
});

const open = (secret: string) =>
  dialTunnel({
    target: resolveEdgeTarget({ hostname: APP, edge: chain.edgeUrl, caFile: chain.pki.ca }),
    headers: credentialHeaders({ kind: 'service-token', id: SERVICE_TOKEN.id, secret }),
  });

function codeOf(error: unknown): string | undefined {
  return error instanceof AirlockError ? error.code : undefined;
}

test('429 too_many_streams (the identity has its fill of streams) is EDGE_ERROR with the edge sentence, not RATE_LIMITED', async () => {
  const held: OpenTunnel = await open(SERVICE_TOKEN.secret);
  try {
    const refused = await open(SERVICE_TOKEN.secret).then(
      (tunnel) => (tunnel.ws.close(), undefined),
      (error: unknown) => error,
    );
    assert.equal(codeOf(refused), 'EDGE_ERROR', String(refused));
    const error = refused as AirlockError;
    assert.equal(error.details.status, 429);
    assert.match(
      error.message,
      /^the edge answered HTTP 429: service-token:ci-bot already has 1 connections open to limited\.airlock\.test/,
    );
    assert.doesNotMatch(error.message, /refuses this address/);
  } finally {
    held.ws.close();
  }
});

test('429 from the service-token throttle is RATE_LIMITED with Retry-After, in the error and on the CLI', async () => {
  // The edge allows 10 failed secrets a minute from one address; each is refused as a sign-in.
  const wrong = 'w'.repeat(43);
  for (let attempt = 1; attempt <= 10; attempt++) {
    const error = await open(wrong).then(
      (tunnel) => (tunnel.ws.close(), undefined),
      (failure: unknown) => failure,
    );
    assert.notEqual(codeOf(error), 'RATE_LIMITED', `attempt ${attempt} is not limited yet`);
    assert.ok(error, `attempt ${attempt} with a wrong secret is refused`);
  }
  // Now even the right secret is refused for a while, with how long.
  const limited = await open(SERVICE_TOKEN.secret).then(
    (tunnel) => (tunnel.ws.close(), undefined),
    (error: unknown) => error,
  );
  assert.equal(codeOf(limited), 'RATE_LIMITED', String(limited));
  const error = limited as AirlockError;
  const seconds = error.details.retryAfterSeconds as number;
  assert.ok(Number.isInteger(seconds) && seconds >= 1 && seconds <= 60, `Retry-After ${seconds}`);
  assert.equal(
    error.message,
    `the edge refuses this address for now: too many failed service-token attempts from this address; try again in ${seconds} s (Retry-After: ${seconds} s)`,
  );

  // The CLI: a program's connection through `access tcp` fails with the code and the wait.
  const port = await freePort();
  const cli = airlock(
    ['access', 'tcp', '--hostname', APP, '--edge', chain.edgeUrl, '--ca', chain.pki.ca, '--url', `127.0.0.1:${port}`],
    { AIRLOCK_SERVICE_TOKEN_ID: SERVICE_TOKEN.id, AIRLOCK_SERVICE_TOKEN_SECRET: SERVICE_TOKEN.secret },
  );
  try {
    const line =
      /\[RATE_LIMITED\] the edge refuses this address for now: too many failed service-token attempts from this address; try again in \d+ s \(Retry-After: \d+ s\)/;
    const printed = await Promise.race([
      cli.waitFor(line, 30_000),
      cli.waitFor(/Listening on 127\.0\.0\.1:\d+ /, 30_000).then(async () => {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', () => {});
        try {
          return await cli.waitFor(line, 30_000);
        } finally {
          socket.destroy();
        }
      }),
    ]);
    assert.ok(printed, cli.output());
  } finally {
    await cli.stop();
  }
});
