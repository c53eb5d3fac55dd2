// Discovery (docs/configuration.md "Discovery"): GET /cdn-cgi/access/apps lists the apps whose
// policy admits the caller, from its address, with what edge.yaml says to show of them. The
// caller is its organisation session (header or the sign-in host's cookie) or a service token.
// Apps the caller may not reach are never named or counted: every app is evaluated on every
// request, whoever asks, so neither the answer nor its timing says how many others there are.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AUTH_COOKIE, HEADER } from '../../shared/constants.js';
import { describePrincipal, type Principal } from './identity.js';
import { secretMatches } from '../../shared/secrets.js';
import type { AuditLog } from '../observability/audit-log.js';
import type { FailureLimiter } from './failure-throttle.js';
import type { AppDisplay, EdgeConfig } from '../config/config.js';
import { readCookie } from '../http/http-cookies.js';
import { sendJson } from '../http/json-answer.js';
import { verifyOrganisationToken } from '../sign-in/organisation-session.js';
import { evaluatePolicy } from './policy.js';
import type { RevocationCheck } from '../tokens/revocation-list.js';
import type { VerificationKeys } from '../tokens/signing-keys.js';
import { clientAddress } from '../http/proxy-protocol.js';

export interface ListedApp extends AppDisplay {
  hostname: string;
}

export interface AppDirectoryDeps {
  config: () => EdgeConfig;
  issuer: () => string;
  keys: VerificationKeys;
  revoked: RevocationCheck;
  audit: AuditLog;
  /** The same brute-force limit as the app gateway's: discovery is no side door for guessing secrets. */
  serviceTokenFailures: FailureLimiter;
}

export function createAppDirectory(deps: AppDirectoryDeps) {
  /** The caller, or why it is not one. */
  async function caller(req: IncomingMessage): Promise<Principal | string> {
    const config = deps.config();
    const clientId = header(req, HEADER.clientId);
    if (clientId !== undefined || header(req, HEADER.clientSecret) !== undefined) {
      const stored = clientId ? config.serviceTokens.get(clientId) : undefined;
      const secret = header(req, HEADER.clientSecret);
      if (!stored || !secret || !secretMatches(secret, stored.secretHash)) return 'the service token is not valid';
      return { kind: 'service-token', id: clientId! };
    }
    const token = header(req, HEADER.accessToken) ?? readCookie(req.headers, AUTH_COOKIE);
    if (!token) return 'no organisation session';
    try {
      const session = await verifyOrganisationToken(token, {
        issuer: deps.issuer(),
        keys: deps.keys,
        revoked: deps.revoked,
      });
      return { kind: 'user', email: session.email, sub: session.sub, groups: session.groups };
    } catch (error) {
      return `the organisation session is not valid (${(error as Error).message})`;
    }
  }

  return async function listApps(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ip = clientAddress(req.socket);
    const presentsServiceToken =
      req.headers[HEADER.clientId] !== undefined || req.headers[HEADER.clientSecret] !== undefined;
    if (presentsServiceToken && (await deps.serviceTokenFailures.blockedFor(ip)) > 0) {
      deps.audit.write({ event: 'apps', who: 'anonymous', ip, status: 429, listed: 0 }, { beforeIdentity: true });
      return sendJson(res, 429, {
        error: 'rate_limited',
        message: 'too many failed service-token attempts from this address; try again in a minute',
      });
    }
    const who = await caller(req);
    if (typeof who === 'string') {
      if (presentsServiceToken) await deps.serviceTokenFailures.fail(ip);
      deps.audit.write({ event: 'apps', who: 'anonymous', ip, status: 401, listed: 0 }, { beforeIdentity: true });
      return sendJson(res, 401, {
        error: 'auth_required',
        message: `${who}: sign in to this edge first (airlock access login HOST), or pass a service token`,
      });
    }
    const apps: ListedApp[] = [];
    for (const app of deps.config().apps.values()) {
      if (evaluatePolicy(app.policy, { principal: who, ip }).allowed)
        apps.push({ hostname: app.hostname, ...app.display });
    }
    apps.sort((a, b) => a.hostname.localeCompare(b.hostname));
    deps.audit.write({ event: 'apps', who: describePrincipal(who), ip, status: 200, listed: apps.length });
    sendJson(res, 200, { apps });
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value ? value : undefined;
}
