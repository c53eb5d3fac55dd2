// Prometheus metrics. A registry per edge (not the global one) so several edges can share a process.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export function createEdgeMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'airlock_edge_' });
  return {
    registry,
    decisions: new Counter({
      name: 'airlock_edge_decisions_total',
      help: 'Access decisions by outcome',
      labelNames: ['decision'] as const,
      registers: [registry],
    }),
    activeStreams: new Gauge({
      name: 'airlock_edge_active_streams',
      help: 'Client streams being relayed',
      registers: [registry],
    }),
    bytes: new Counter({
      name: 'airlock_edge_bytes_total',
      help: 'Bytes relayed',
      labelNames: ['direction'] as const,
      registers: [registry],
    }),
    connectorConnections: new Gauge({
      name: 'airlock_edge_connector_connections',
      help: 'Connector connections held',
      labelNames: ['tunnel'] as const,
      registers: [registry],
    }),
    relayedStreams: new Counter({
      name: 'airlock_edge_relayed_streams_total',
      help: 'Client streams relayed between edges: out (to the edge holding the connector) or in',
      labelNames: ['direction'] as const,
      registers: [registry],
    }),
    auditWritable: new Gauge({
      name: 'airlock_edge_audit_writable',
      help: 'Whether the audit log can be written (1) or writing fails (0)',
      registers: [registry],
    }),
    auditDroppedRecords: new Counter({
      name: 'airlock_edge_audit_dropped_records_total',
      help: 'Audit records lost while the audit log could not be written and its buffer was full',
      registers: [registry],
    }),
    clockSkew: new Gauge({
      name: 'airlock_edge_clock_skew_seconds',
      help: "This edge's clock minus PostgreSQL's (several edges)",
      registers: [registry],
    }),
    // Resumable streams (issue 23)
    streamResumes: new Counter({
      name: 'airlock_edge_stream_resumes_total',
      help: 'Resumes of broken resumable streams, by outcome (resumed, refused)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    resumeReplayedBytes: new Counter({
      name: 'airlock_edge_resume_replayed_bytes_total',
      help: 'Bytes the two ends sent again after a resume, by direction',
      labelNames: ['direction'] as const,
      registers: [registry],
    }),
    streamErrors: new Counter({
      name: 'airlock_edge_stream_errors_total',
      help: 'Streams that could not be opened or ended in error',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
}

export type EdgeMetrics = ReturnType<typeof createEdgeMetrics>;
