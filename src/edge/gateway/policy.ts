// Policy evaluation (docs/configuration.md): include (any), require (all), exclude (none).
// Pure: the edge decides on the result, the audit log records the reason.
import type { Principal } from './identity.js';
import { cidrMatcher } from '../config/cidr.js';
import type { Policy, PolicyRule } from '../config/config.js';

export interface Subject {
  principal: Principal;
  ip: string;
}

export interface Decision {
  allowed: boolean;
  /** For the audit log; the user sees only that access was denied. */
  reason: string;
}

export function ruleMatches(rule: PolicyRule, { principal, ip }: Subject): boolean {
  // `everyone` means every signed-in person; machines are let in only by naming their service token.
  if ('everyone' in rule) return principal.kind === 'user';
  if ('serviceToken' in rule)
    return principal.kind === 'service-token' && (rule.serviceToken === '*' || rule.serviceToken === principal.id);
  if ('ip' in rule) return cidrMatcher([rule.ip])(ip);
  if (principal.kind !== 'user') return false;
  if ('email' in rule) return principal.email.toLowerCase() === rule.email.toLowerCase();
  if ('emailDomain' in rule) return principal.email.toLowerCase().endsWith(`@${rule.emailDomain.toLowerCase()}`);
  return principal.groups.includes(rule.group);
}

export function evaluatePolicy(policy: Policy, subject: Subject): Decision {
  const describe = (rule: PolicyRule) => JSON.stringify(rule);
  const excluded = policy.exclude.find((rule) => ruleMatches(rule, subject));
  if (excluded) return { allowed: false, reason: `excluded by ${describe(excluded)}` };
  const missing = policy.require.find((rule) => !ruleMatches(rule, subject));
  if (missing) return { allowed: false, reason: `does not meet require ${describe(missing)}` };
  const included = policy.include.find((rule) => ruleMatches(rule, subject));
  if (!included) return { allowed: false, reason: 'matches no include rule' };
  return { allowed: true, reason: `included by ${describe(included)}` };
}
