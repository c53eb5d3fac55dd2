// May this hostname be routed to this tunnel and service? Pure: the admin API asks, the route
// store records. Every refusal has its own error code and a message that says what to do.
import { randomBytes } from 'node:crypto';
import type { EdgeRefusalCode } from '../../shared/contract/error-catalogue.js';
import { DNS_HOSTNAME, parseHostPort } from '../../shared/host.js';
import type { EdgeConfig } from '../config/config.js';
import type { StoredRoute, StoredTunnel } from './route-store.js';

export interface RouteRequest {
  hostname: unknown;
  service: unknown;
}

export type RouteRefusal = {
  status: 400 | 403 | 404 | 409;
  error: Extract<
    EdgeRefusalCode,
    'bad_hostname' | 'bad_service' | 'bad_port' | 'outside_domains' | 'no_policy' | 'route_taken'
  >;
  message: string;
};

export type RouteCheck = { ok: true; hostname: string; service: string } | ({ ok: false } & RouteRefusal);

export function checkRoute(
  request: RouteRequest,
  tunnel: Pick<StoredTunnel, 'id' | 'name'>,
  context: {
    config: Pick<EdgeConfig, 'domains' | 'apps' | 'unpublishedApps'>;
    routes: readonly StoredRoute[];
    tunnelName(id: string): string | undefined;
    owner: string;
  },
): RouteCheck {
  const refuse = (status: RouteRefusal['status'], error: RouteRefusal['error'], message: string): RouteCheck => ({
    ok: false,
    status,
    error,
    message,
  });
  const hostname = typeof request.hostname === 'string' ? request.hostname.trim().toLowerCase().replace(/\.$/, '') : '';
  if (!DNS_HOSTNAME.test(hostname))
    return refuse(400, 'bad_hostname', `"${String(request.hostname).slice(0, 253)}" is not a DNS hostname`);

  const service = serviceProblem(request.service);
  if ('problem' in service) return refuse(400, service.error, service.problem);

  const { config } = context;
  if (!config.domains.some((domain) => hostname === domain || hostname.endsWith(`.${domain}`))) {
    const served =
      config.domains.length > 0
        ? `it serves ${config.domains.join(', ')}`
        : 'it serves no domains yet (add `domains:` to edge.yaml)';
    return refuse(403, 'outside_domains', `${hostname} is not under a domain this edge serves: ${served}`);
  }

  const fromFile = config.apps.get(hostname);
  if (fromFile)
    return refuse(
      409,
      'route_taken',
      `${hostname} is already served by tunnel ${fromFile.tunnel} (set in edge.yaml); it is never taken over`,
    );
  const existing = context.routes.find((route) => route.hostname === hostname);
  if (existing && existing.tunnelId !== tunnel.id) {
    const other = context.tunnelName(existing.tunnelId) ?? existing.tunnelId;
    return refuse(
      409,
      'route_taken',
      `${hostname} is already routed to tunnel ${other} (owner ${existing.owner}); it is never taken over: delete that tunnel first`,
    );
  }

  if (!config.unpublishedApps.has(hostname)) {
    return refuse(
      404,
      'no_policy',
      `${hostname} has no access policy, and nothing is published unprotected. Add it to edge.yaml under apps: and restart the edge:\n\n${policySnippet(hostname, context.owner)}`,
    );
  }
  return { ok: true, hostname, service: service.url };
}

/** The YAML an operator pastes under `apps:`; the policy admits only the operator until edited. */
export function policySnippet(hostname: string, email: string): string {
  return [
    `  - hostname: ${hostname}`,
    `    aud: ${randomBytes(32).toString('hex')}`,
    '    policy:',
    `      include: [{ email: ${email} }]`,
  ].join('\n');
}

type ServiceCheck =
  { url: string } | { problem: string; error: Extract<RouteRefusal['error'], 'bad_service' | 'bad_port'> };

function serviceProblem(value: unknown): ServiceCheck {
  const text = typeof value === 'string' ? value.trim() : '';
  const shown = String(value).slice(0, 200);
  const match = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[^:[\]/\s@]+):(\d{1,6})$/.exec(text);
  if (!match)
    return {
      problem: `service must be tcp://HOST:PORT (e.g. tcp://127.0.0.1:6379), got "${shown}"`,
      error: 'bad_service',
    };
  const port = Number(match[2]);
  if (!(port >= 1 && port <= 65535))
    return { problem: `service port must be from 1 to 65535, got ${port}`, error: 'bad_port' };
  if (!parseHostPort(text)) return { problem: `service must be tcp://HOST:PORT, got "${shown}"`, error: 'bad_service' };
  return { url: text };
}
