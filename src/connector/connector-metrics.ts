// The connector's Prometheus metrics (like the edge's, src/edge/observability/metrics.ts), served on
// a loopback address by default: streams open, opened and ended by reason, bytes, origin dials.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { HostPort } from '../shared/host.js';

export function createConnectorMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'airlock_connector_' });
  const registers = [registry];
  return {
    registry,
    streamsOpen: new Gauge({ name: 'airlock_connector_streams_open', help: 'Origin streams open', registers }),
    streamsOpened: new Counter({
      name: 'airlock_connector_streams_opened_total',
      help: 'Origin streams opened',
      registers,
    }),
    streamsEnded: new Counter({
      name: 'airlock_connector_streams_ended_total',
      help: 'Streams ended, by reason: closed, origin_error, refused (ingress or assertion), dial_failed',
      labelNames: ['reason'] as const,
      registers,
    }),
    bytes: new Counter({
      name: 'airlock_connector_bytes_total',
      help: 'Bytes carried to (up) and from (down) origins',
      labelNames: ['direction'] as const,
      registers,
    }),
    dialErrors: new Counter({
      name: 'airlock_connector_origin_dial_errors_total',
      help: 'Origin dials that failed, by error code',
      labelNames: ['code'] as const,
      registers,
    }),
    dialSeconds: new Histogram({
      name: 'airlock_connector_origin_dial_seconds',
      help: 'Time to connect to the origin',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
      registers,
    }),
    edgeConnections: new Gauge({
      name: 'airlock_connector_edge_connections',
      help: 'Connections to the edge held',
      registers,
    }),
  };
}

export type ConnectorMetrics = ReturnType<typeof createConnectorMetrics>;

/** GET /metrics on `listen` (loopback unless the operator says otherwise); resolves to the server. */
export async function serveConnectorMetrics(
  metrics: ConnectorMetrics,
  listen: HostPort,
): Promise<{ address: string; port: number; close(): void }> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return { address: bound.address, port: bound.port, close: () => server.close() };
}

/** One origin stream's end: its bytes, and whether it ended cleanly or with an origin error. */
export function recordStreamEnd(
  metrics: ConnectorMetrics | undefined,
  origin: Socket,
  failure: Error | undefined,
): void {
  if (!metrics) return;
  metrics.streamsOpen.dec();
  metrics.bytes.inc({ direction: 'up' }, origin.bytesWritten);
  metrics.bytes.inc({ direction: 'down' }, origin.bytesRead);
  const clean = !failure || (failure as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE';
  metrics.streamsEnded.inc({ reason: clean ? 'closed' : 'origin_error' });
}
