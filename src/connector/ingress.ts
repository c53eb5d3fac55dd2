// Ingress rules: which origins this connector may dial, by application hostname. Pure.
// The last rule is the catch-all; `http_status:NNN` refuses (docs/configuration.md).
import { formatHostPort, parseServiceUrl, type HostPort } from '../shared/host.js';

export interface IngressRule {
  hostname?: string;
  service: string;
}

export type IngressDecision = { allowed: true; origin: HostPort } | { allowed: false; reason: string };

function hostnameMatches(pattern: string, hostname: string): boolean {
  if (pattern.startsWith('*.')) return hostname.endsWith(pattern.slice(1)) && hostname.length > pattern.length - 1;
  return pattern === hostname;
}

/** The edge asks for `authority` (host:port) on behalf of `hostname`; both must agree with a rule. */
export function resolveIngress(rules: IngressRule[], hostname: string, authority: string): IngressDecision {
  const rule = rules.find(
    (candidate) => candidate.hostname === undefined || hostnameMatches(candidate.hostname, hostname),
  );
  if (!rule) return { allowed: false, reason: `no ingress rule for ${hostname}` };
  const origin = parseServiceUrl(rule.service);
  if (!origin) return { allowed: false, reason: `ingress refuses ${hostname} (${rule.service})` };
  const requested = parseServiceUrl(`tcp://${authority}`);
  if (!requested || formatHostPort(requested) !== formatHostPort(origin)) {
    return { allowed: false, reason: `service ${authority} is not in this connector's ingress rules for ${hostname}` };
  }
  return { allowed: true, origin };
}

/** Problems with a rule list, as "ingress[i].field: problem" lines. */
export function checkIngressRules(rules: IngressRule[]): string[] {
  const problems: string[] = [];
  if (rules.length === 0) problems.push('ingress: needs at least one rule');
  rules.forEach((rule, index) => {
    const isLast = index === rules.length - 1;
    if (!parseServiceUrl(rule.service) && !/^http_status:\d{3}$/.test(rule.service)) {
      problems.push(`ingress[${index}].service: must be tcp://host:port or http_status:NNN, got "${rule.service}"`);
    }
    if (isLast && rule.hostname !== undefined)
      problems.push(
        `ingress[${index}]: the last rule must be a catch-all without hostname (e.g. service: http_status:404)`,
      );
    if (!isLast && rule.hostname === undefined)
      problems.push(`ingress[${index}]: only the last rule may omit hostname`);
  });
  return problems;
}
