// The access decision for a request on an application hostname (docs/architecture.md "Client ↔
// edge"): route by Host, authenticate, apply the app's policy; every decision audited and counted.
import type { IncomingMessage } from 'node:http';
import { HEADER } from '../../shared/constants.js';
import type { EdgeRefusal } from '../../shared/edge-response.js';
import { hostnameFromHostHeader } from '../../shared/host.js';
import type { Logger } from '../../shared/logger.js';
import { auditField, type AuditLog } from '../observability/audit-log.js';
import { authenticate, type AppTokenVerifier } from './authenticate.js';
import type { AppConfig, EdgeConfig } from '../config/config.js';
import type { FailureLimiter } from './failure-throttle.js';
import { describePrincipal, type Principal } from './identity.js';
import type { EdgeMetrics } from '../observability/metrics.js';
import { evaluatePolicy } from './policy.js';
import type { SessionRenewals } from './session-renewals.js';
import type { Locks } from '../tokens/lock-list.js';
import { loginUrl } from '../sign-in/sign-in-urls.js';
import { clientAddress } from '../http/proxy-protocol.js';

export interface GateDeps {
  config: () => EdgeConfig;
  audit: AuditLog;
  metrics: EdgeMetrics;
  log: Logger;
  verifyAppToken?: AppTokenVerifier;
  /** Failed service-token attempts per address (brute-force limit); none = unlimited. */
  serviceTokenFailures?: FailureLimiter;
  /** A newer session admitted carries its identity's open streams to the app over, at every edge. */
  renewals?: Pick<SessionRenewals, 'seen'>;
  /** Locked identities: refused before their policy is asked. */
  locks?: Pick<Locks, 'lockedFor'>;
}

export type GateResult =
  | { status: 200; app: AppConfig; principal: Principal }
  | { status: 302 | 400 | 403 | 404 | 429; headers: Record<string, string>; body?: EdgeRefusal };

/** What a Host may be: a DNS name or an address (":" for IPv6), at most a DNS name's length. */
const HOST_NAME = /^[a-z0-9.:_-]{1,253}$/;

/** The access decision for a request on an application hostname (used for upgrades and HEAD). */
export async function gate(req: IncomingMessage, deps: GateDeps, streamId: string): Promise<GateResult> {
  const config = deps.config();
  const hostname = hostnameFromHostHeader(req.headers.host);
  const ip = clientAddress(req.socket);
  const record = (decision: 'allow' | 'deny' | 'login', status: number, who: string, reason: string) => {
    // Only a policy decision (allow, 403) follows an established identity; every other refusal is before it.
    const beforeIdentity = decision !== 'allow' && status !== 403;
    deps.audit.write(
      { event: 'access', streamId, who, app: auditField(hostname ?? ''), ip, decision, reason, status },
      { beforeIdentity },
    );
    deps.metrics.decisions.inc({ decision });
  };
  // Refused before any lookup: a Host that is no hostname (e.g. 15 KB of padding) names nothing.
  if (!hostname || !HOST_NAME.test(hostname)) {
    record('deny', 400, 'anonymous', 'the Host header is not a hostname');
    return { status: 400, headers: {}, body: { error: 'bad_request', message: 'the Host header is not a hostname' } };
  }
  const app = config.apps.get(hostname);
  if (!app) {
    record('deny', 404, 'anonymous', 'unknown hostname');
    return refusal(404, { error: 'app_not_found', message: `no application is configured for hostname "${hostname}"` });
  }
  const presentsServiceToken =
    req.headers[HEADER.clientId] !== undefined || req.headers[HEADER.clientSecret] !== undefined;
  const blockedMs = presentsServiceToken ? ((await deps.serviceTokenFailures?.blockedFor(ip)) ?? 0) : 0;
  if (blockedMs > 0) {
    const retryAfter = String(Math.ceil(blockedMs / 1000));
    record(
      'deny',
      429,
      `service-token:${String(req.headers[HEADER.clientId] ?? '').slice(0, 128)}`,
      'too many failed service-token attempts from this address',
    );
    return {
      status: 429,
      headers: { 'retry-after': retryAfter },
      body: {
        error: 'rate_limited',
        message: `too many failed service-token attempts from this address; try again in ${retryAfter} s`,
      },
    };
  }
  const auth = await authenticate(req.headers, app, config, deps.verifyAppToken);
  if (auth.outcome === 'rejected' && presentsServiceToken && (await deps.serviceTokenFailures?.fail(ip))) {
    deps.log.warn({ ip, app: app.hostname }, 'service-token failure limit reached; refusing this address for a while');
  }
  if (auth.outcome !== 'authenticated') {
    record(
      'login',
      302,
      auth.outcome === 'rejected' ? auth.who : 'anonymous',
      auth.outcome === 'rejected' ? auth.reason : 'no credentials',
    );
    return {
      status: 302,
      headers: {
        location: loginUrl(config.publicUrl, app).href,
        [HEADER.accessAud]: app.aud,
        [HEADER.accessDomain]: app.hostname,
        // Why the token was refused, so the client can say so (never the token or its claims).
        ...(auth.outcome === 'rejected' && auth.code ? { [HEADER.tokenRefused]: auth.code } : {}),
      },
    };
  }
  const who = describePrincipal(auth.principal);
  const lock = deps.locks?.lockedFor(who);
  if (lock) {
    record('deny', 403, who, 'locked by an administrator');
    return refusal(403, {
      error: 'access_denied',
      message: `${who} is locked by an administrator${lock.reason ? ` (${lock.reason})` : ''}`,
    });
  }
  const decision = evaluatePolicy(app.policy, { principal: auth.principal, ip });
  if (!decision.allowed) {
    record('deny', 403, who, decision.reason);
    return refusal(403, { error: 'access_denied', message: `${who} is not allowed to reach ${app.hostname}` });
  }
  record('allow', 200, who, decision.reason);
  const { principal } = auth;
  if (principal.kind === 'user' && principal.sessionId && principal.expiresAt)
    deps.renewals?.seen({
      who,
      app: app.hostname,
      sessionId: principal.sessionId,
      expiresAt: principal.expiresAt.getTime(),
    });
  return { status: 200, app, principal };
}

function refusal(status: 403 | 404, body: EdgeRefusal): GateResult {
  return { status, headers: {}, body };
}
