// What several edges behind one balancer must agree on, as one short hash: the sign-in domain, the
// IdP, each app's hostname, aud, route and policy, the tunnels and service tokens. Edges publish it
// (src/edge/state/config-agreement.ts) so one started with another edge.yaml is noticed.
import { createHash } from 'node:crypto';
import type { EdgeConfig } from './config.js';

export function configFingerprint(config: EdgeConfig): string {
  const byKey = <T>(entries: Iterable<[string, T]>) => [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const shared = {
    publicUrl: config.publicUrl,
    idp: config.idp ? { issuer: config.idp.issuer, clientId: config.idp.clientId } : null,
    apps: byKey(config.apps).map(([, app]) => ({
      hostname: app.hostname,
      aud: app.aud,
      tunnel: app.tunnel,
      service: app.serviceAuthority,
      sessionMs: app.sessionMs,
      policy: app.policy,
    })),
    unpublishedApps: byKey(config.unpublishedApps).map(([, app]) => ({
      hostname: app.hostname,
      aud: app.aud,
      policy: app.policy,
    })),
    admins: config.admins ?? null,
    domains: [...config.domains].sort(),
    tunnels: byKey(config.tunnels).map(([, tunnel]) => [tunnel.id, tunnel.secretHash]),
    serviceTokens: byKey(config.serviceTokens).map(([, token]) => [token.id, token.secretHash]),
  };
  return createHash('sha256').update(JSON.stringify(shared)).digest('hex').slice(0, 16);
}
