// What the edge says about itself (docs/architecture.md "Other edge paths"): /healthz to anyone,
// /metrics only to the addresses in `metrics.allow`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { cidrMatcher } from './config/cidr.js';
import { sendJson } from './http/json-answer.js';
import type { AuditLog } from './observability/audit-log.js';
import type { ClockSkewWatch } from './observability/clock-skew.js';
import type { EdgeMetrics } from './observability/metrics.js';
import type { PostgresState } from './state/postgres.js';
import type { ConfigAgreementStatus } from './state/config-agreement.js';
import type { TunnelRegistry } from './tunnels/tunnel-registry.js';
import { clientAddress } from './http/proxy-protocol.js';

export interface StatusDeps {
  registry: TunnelRegistry;
  metrics: EdgeMetrics;
  /** CIDRs that may read /metrics (edge.yaml `metrics.allow`). */
  metricsAllow: string[];
  /** Several edges: the shared store, whose health is the edge's. */
  shared?: PostgresState;
  /** Several edges: whether the others run the same configuration. */
  configAgreement?: { status(): ConfigAgreementStatus };
  audit?: AuditLog;
  /** Several edges: this edge's clock against PostgreSQL's. */
  clockSkew?: ClockSkewWatch;
}

export interface StatusEndpoints {
  health(req: IncomingMessage, res: ServerResponse): Promise<void>;
  metrics(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export function createStatusEndpoints({
  registry,
  metrics,
  metricsAllow,
  shared,
  configAgreement,
  audit,
  clockSkew,
}: StatusDeps): StatusEndpoints {
  const metricsAllowed = cidrMatcher(metricsAllow);
  return {
    async health(_req, res) {
      // Degraded, not down: without the store the edge still serves streams and tokens it can verify.
      const store = shared
        ? { kind: 'postgres', reachable: await shared.healthy(), schemaVersion: shared.schemaVersion }
        : { kind: 'local' };
      const config = configHealth(configAgreement);
      // The audit log: degraded (still 200) while records cannot be written.
      const auditing = audit?.health();
      // Several edges: a clock far from PostgreSQL's makes other edges refuse this one's tokens.
      const clock = clockSkew?.last();
      const degraded =
        store.reachable === false || config?.agrees === false || auditing?.writable === false || clock?.warning;
      sendJson(res, 200, {
        status: degraded ? 'degraded' : 'ok',
        connectorConnections: registry.count(),
        store,
        ...(config ? { config } : {}),
        ...(auditing ? { audit: auditing } : {}),
        ...(clock ? { clock } : {}),
      });
    },
    async metrics(req, res) {
      if (!metricsAllowed(clientAddress(req.socket)))
        return sendJson(res, 403, { error: 'access_denied', message: 'metrics are not served to this address' });
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
    },
  };
}

/** Several edges: this edge's config fingerprint and the live peers whose own differs. */
function configHealth(agreement: StatusDeps['configAgreement']) {
  if (!agreement) return undefined;
  const { fingerprint, differingPeers } = agreement.status();
  return { fingerprint, agrees: differingPeers.length === 0, differingPeers };
}
