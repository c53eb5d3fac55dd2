// The connector opens a stream only when its ingress rules and the edge's signed assertion agree.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChain, startEchoServer, type Chain } from '../helpers/chain.js';
import { startClient, echoRoundTrip } from '../helpers/client.js';
import { SigningKeys } from '../../src/edge/tokens/signing-keys.js';
import { signStreamAssertion } from '../../src/edge/tokens/stream-signer.js';
import { HEADER } from '../../src/shared/constants.js';
import { STREAM_ASSERTION } from '../../src/shared/stream-assertion.js';
import net from 'node:net';
import { once } from 'node:events';

let chain: Chain;
let echo: Awaited<ReturnType<typeof startEchoServer>>;
let other: Awaited<ReturnType<typeof startEchoServer>>;

before(async () => {
  echo = await startEchoServer();
  other = await startEchoServer();
  chain = await startChain(
    [
      { hostname: 'echo.airlock.test', service: `tcp://127.0.0.1:${echo.port}` },
      { hostname: 'sneaky.airlock.test', service: `tcp://127.0.0.1:${other.port}` },
    ],
    // The connector only lists echo: the edge routing sneaky to it must not reach `other`.
    {
      connector: {
        rules: [
          { hostname: 'echo.airlock.test', service: `tcp://127.0.0.1:${echo.port}` },
          { service: 'http_status:404' },
        ],
      },
    },
  );
});
after(async () => {
  await chain.close();
  await Promise.all([echo.close(), other.close()]);
});

function connect(headers: Record<string, string>): Promise<{ status: number; refusal: string }> {
  const session = chain.edge.registry.all()[0]!.session;
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'CONNECT', ':authority': `127.0.0.1:${echo.port}`, ...headers });
    stream.on('error', reject);
    stream.on('response', (response) => {
      resolve({ status: Number(response[':status']), refusal: String(response[HEADER.refusal] ?? '') });
      stream.close(http2.constants.NGHTTP2_CANCEL);
    });
  });
}

const facts = () => ({
  tun: 'test-tunnel',
  host: 'echo.airlock.test',
  svc: `127.0.0.1:${echo.port}`,
  sid: 'stream-1',
  who: 'test',
});
const baseHeaders = { [HEADER.appHostname]: 'echo.airlock.test', [HEADER.streamId]: 'stream-1' };

test('a stream outside the ingress rules is refused, logged, and others keep working', async () => {
  const sneaky = await startClient(chain, 'sneaky.airlock.test');
  const good = await startClient(chain, 'echo.airlock.test');
  try {
    const socket = net.connect(sneaky.port, '127.0.0.1');
    socket.on('error', () => {});
    await once(socket, 'close');
    const status = sneaky.listener.status();
    assert.match(status.lastError?.message ?? '', /ingress refuses sneaky\.airlock\.test/);
    assert.equal(await echoRoundTrip(good.port, 4096), true);
  } finally {
    await sneaky.listener.stop();
    await good.listener.stop();
  }
});

test('a CONNECT without the edge assertion is refused by the connector', async () => {
  const answer = await connect(baseHeaders);
  assert.equal(answer.status, 403);
  assert.match(answer.refusal, /no stream assertion/);
});

test('an assertion signed by a key the edge does not publish is refused', async () => {
  const foreign = await SigningKeys.open(join(mkdtempSync(join(tmpdir(), 'airlock-keys-')), 'keys'));
  const assertion = await signStreamAssertion(foreign, chain.edgeUrl, facts());
  const answer = await connect({ ...baseHeaders, [STREAM_ASSERTION.header]: assertion });
  assert.equal(answer.status, 403);
  assert.match(answer.refusal, /stream assertion rejected/);
});

test('an assertion for another hostname, service or stream is refused', async () => {
  for (const [field, value, pattern] of [
    ['host', 'sneaky.airlock.test', /another hostname/],
    ['svc', `127.0.0.1:${other.port}`, /another service/],
    ['sid', 'stream-2', /another stream/],
    ['tun', 'other-tunnel', /stream assertion rejected|another tunnel/],
  ] as const) {
    const assertion = await signStreamAssertion(chain.edge.keys, chain.edgeUrl, { ...facts(), [field]: value });
    const answer = await connect({ ...baseHeaders, [STREAM_ASSERTION.header]: assertion });
    assert.equal(answer.status, 403, field);
    assert.match(answer.refusal, pattern);
  }
});

test('a valid assertion from the edge key opens the stream', async () => {
  const assertion = await signStreamAssertion(chain.edge.keys, chain.edgeUrl, facts());
  const answer = await connect({ ...baseHeaders, [STREAM_ASSERTION.header]: assertion });
  assert.equal(answer.status, 200);
});
