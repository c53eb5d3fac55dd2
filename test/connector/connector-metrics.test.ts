// The connector's Prometheus metrics on loopback: a stream opened and closed is counted with its
// bytes and dial time, a dial to a dead origin as a dial error, and the edge connections held.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { freePort, startChain, startEchoServer, type Chain } from '../helpers/chain.js';
import { startClient } from '../helpers/client.js';
import { waitUntil } from '../helpers/airlock-processes.js';
import { createConnectorMetrics, serveConnectorMetrics } from '../../src/connector/connector-metrics.js';

const metrics = createConnectorMetrics();
let server: Awaited<ReturnType<typeof serveConnectorMetrics>>;
let chain: Chain;
let echo: Awaited<ReturnType<typeof startEchoServer>>;

before(async () => {
  echo = await startEchoServer();
  const dead = await freePort();
  chain = await startChain(
    [
      { hostname: 'echo.airlock.test', service: `tcp://127.0.0.1:${echo.port}` },
      { hostname: 'dead.airlock.test', service: `tcp://127.0.0.1:${dead}` },
    ],
    { connector: { metrics } },
  );
  server = await serveConnectorMetrics(metrics, { host: '127.0.0.1', port: 0 });
});
after(async () => {
  server?.close();
  await chain?.close();
  await echo?.close();
});

async function scrape(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
  assert.equal(response.status, 200);
  return response.text();
}

const value = (text: string, series: string) => {
  const line = text.split('\n').find((entry) => entry.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

test('streams, bytes, dial time and edge connections are counted and served on loopback', async () => {
  assert.equal(server.address, '127.0.0.1');
  assert.equal(value(await scrape(), 'airlock_connector_edge_connections'), 2);
  const client = await startClient(chain, 'echo.airlock.test');
  const socket = net.connect(client.port, '127.0.0.1');
  socket.write('x'.repeat(1000));
  let received = 0;
  for await (const chunk of socket) {
    received += (chunk as Buffer).length;
    if (received >= 1000) break;
  }
  assert.equal(value(await scrape(), 'airlock_connector_streams_open'), 1);
  socket.destroy();
  await waitUntil(
    'the stream to end',
    async () => value(await scrape(), 'airlock_connector_streams_ended_total{reason="closed"}') === 1,
    10_000,
  );
  const text = await scrape();
  assert.equal(value(text, 'airlock_connector_streams_opened_total'), 1);
  assert.equal(value(text, 'airlock_connector_streams_open'), 0);
  assert.equal(value(text, 'airlock_connector_bytes_total{direction="up"}'), 1000);
  assert.equal(value(text, 'airlock_connector_bytes_total{direction="down"}'), 1000);
  assert.equal(value(text, 'airlock_connector_origin_dial_seconds_count'), 1);
  await client.listener.stop();
});

test('a dial to a dead origin is a dial error', async () => {
  const client = await startClient(chain, 'dead.airlock.test');
  const socket = net.connect(client.port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'close');
  const text = await scrape();
  assert.equal(value(text, 'airlock_connector_origin_dial_errors_total{code="ECONNREFUSED"}'), 1);
  assert.equal(value(text, 'airlock_connector_streams_ended_total{reason="dial_failed"}'), 1);
  await client.listener.stop();
});
