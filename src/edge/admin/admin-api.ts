// The operators' API under /cdn-cgi/admin/, JSON in and out, Bearer operator credential:
//   GET    whoami                  → { email }
//   POST   logout                  → { signed_out: true } (revokes the presented credential)
//   GET    tunnels                 → { tunnels: [{ name, id, owner, createdAt, connections, routes }] }
//   POST   tunnels {name}          → 201 { tunnel, token } (new) | 200 { tunnel } (already yours)
//   POST   tunnels/NAME/token      → { token } (a new secret: old connectors are refused on reconnect)
//   DELETE tunnels/NAME            → { deleted, routes } (and drops its connector connections)
//   GET    routes                  → { routes: [{ hostname, tunnel, service, owner, source }] }
//   POST   routes {hostname, tunnel, service} → 201 | 200 { route }, or a refusal (route-checks.ts)
//   GET|POST locks, DELETE locks/IDENTITY       → lock-routes.ts
// Each call re-checks the `admins` policy, so removing someone from edge.yaml takes effect at once
// (after a restart) whatever credential they hold. Every call is audited.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HOST_ADMIN, PATH } from '../../shared/constants.js';
import { isAirlockError } from '../../shared/errors.js';
import { encodeTunnelToken } from '../../shared/secrets.js';
import type { AccessApp } from '../sign-in/access-routes.js';
import type { UserPrincipal } from '../tokens/app-token.js';
import { auditField, type AuditLog } from '../observability/audit-log.js';
import { normaliseAddress } from '../config/cidr.js';
import type { EdgeConfig } from '../config/config.js';
import { issueConnectorCredential, verifyConnectorCredential } from '../tunnels/connector-credential.js';
import { evaluatePolicy } from '../gateway/policy.js';
import type { Revocations } from '../tokens/revocation-list.js';
import type { Locks } from '../tokens/lock-list.js';
import { lockRoutes } from './lock-routes.js';
import { checkRoute } from '../tunnels/route-checks.js';
import type { RouteStore, StoredTunnel } from '../tunnels/route-store.js';
import type { SigningKeys } from '../tokens/signing-keys.js';
import type { TunnelRegistry } from '../tunnels/tunnel-registry.js';
import { sendJson, type JsonAnswer } from '../http/json-answer.js';
import { decodePathSegment, readObjectBody } from '../http/request-body.js';
import { clientAddress } from '../http/proxy-protocol.js';

export interface AdminDeps {
  /** edge.yaml as loaded, not merged with the store: file apps, apps awaiting a route, admins, domains. */
  config: () => EdgeConfig;
  store: RouteStore;
  keys: SigningKeys;
  revoked: Revocations;
  /** Locked identities; absent, the locks endpoints answer 404. */
  locks?: Locks;
  registry: TunnelRegistry;
  audit: AuditLog;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The pseudo-application an operator signs in to: the `admins` policy, and a credential, not an app token. */
export function adminLoginApp(deps: Pick<AdminDeps, 'config' | 'keys'>): AccessApp | undefined {
  const config = deps.config();
  if (!config.admins) return undefined;
  const admins = config.admins;
  const edgeOrigin = new URL(config.publicUrl).origin;
  return {
    hostname: `${new URL(config.publicUrl).host} (tunnel administration)`,
    aud: HOST_ADMIN.loginAud,
    sessionMs: HOST_ADMIN.credentialMs,
    evaluate: (principal, { ip }) =>
      evaluatePolicy(admins, { principal: { ...principal, kind: 'user' }, ip: normaliseAddress(ip) }),
    issue: (identity) => issueConnectorCredential({ edgeOrigin, keys: deps.keys }, identity),
  };
}

type Answer = { status: number; body: JsonAnswer; target?: string };

export function createAdminApi(deps: AdminDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { store } = deps;

  async function authenticate(req: IncomingMessage): Promise<{ principal: UserPrincipal } | Answer> {
    const config = deps.config();
    const edgeOrigin = new URL(config.publicUrl).origin;
    if (!config.admins) {
      return {
        status: 403,
        body: {
          error: 'no_admins',
          message: 'this edge has no `admins:` policy in edge.yaml: nobody may publish hostnames through it',
        },
      };
    }
    const bearer = /^Bearer ([\x21-\x7e]+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    if (!bearer)
      return {
        status: 401,
        body: {
          error: 'login_required',
          message: `no operator credential; run \`airlock tunnel login --edge ${edgeOrigin}\``,
        },
      };
    let principal: UserPrincipal;
    try {
      principal = await verifyConnectorCredential(bearer, { edgeOrigin, keys: deps.keys, revoked: deps.revoked });
    } catch (error) {
      if (!isAirlockError(error)) throw error;
      return {
        status: 401,
        body: {
          error:
            error.code === 'TOKEN_EXPIRED'
              ? 'credential_expired'
              : error.code === 'TOKEN_REVOKED'
                ? 'credential_revoked'
                : 'login_required',
          message: error.message,
        },
      };
    }
    const decision = evaluatePolicy(config.admins, { principal, ip: clientAddress(req.socket) });
    if (!decision.allowed)
      return {
        status: 403,
        body: {
          error: 'not_admin',
          message: `${principal.email} is not an administrator of this edge (edge.yaml admins:)`,
        },
      };
    return { principal };
  }

  function ownTunnel(name: string, principal: UserPrincipal): StoredTunnel | Answer {
    const tunnel = store.tunnelByName(name);
    if (!tunnel)
      return {
        status: 404,
        body: { error: 'no_tunnel', message: `no tunnel named ${name} on this edge (\`airlock tunnel list\`)` },
        target: name,
      };
    if (tunnel.owner !== principal.email) {
      return {
        status: 403,
        body: {
          error: 'not_owner',
          message: `tunnel ${name} belongs to ${tunnel.owner}; only its owner may change it`,
        },
        target: name,
      };
    }
    return tunnel;
  }

  function describeTunnel(tunnel: StoredTunnel) {
    return {
      name: tunnel.name,
      id: tunnel.id,
      owner: tunnel.owner,
      createdAt: tunnel.createdAt,
      connections: deps.registry.count(tunnel.id),
      routes: store
        .routes()
        .filter((route) => route.tunnelId === tunnel.id)
        .map((route) => route.hostname),
    };
  }

  async function dispatch(req: IncomingMessage, path: string, principal: UserPrincipal): Promise<Answer> {
    const method = req.method ?? 'GET';
    if (path === 'whoami' && method === 'GET') return { status: 200, body: { email: principal.email } };
    const locked = deps.locks && (await lockRoutes(deps.locks, req, path, principal.email));
    if (locked) return locked;
    if (path === 'logout' && method === 'POST') {
      await deps.revoked.revoke(principal.sessionId, principal.expiresAt);
      return { status: 200, body: { signed_out: true } };
    }
    if (path === 'tunnels' && method === 'GET')
      return { status: 200, body: { tunnels: store.tunnels().map(describeTunnel) } };
    if (path === 'tunnels' && method === 'POST') {
      const { name } = await readObjectBody(req);
      if (typeof name !== 'string' || !NAME.test(name))
        return {
          status: 400,
          body: { error: 'bad_name', message: 'tunnel name must be 1-128 letters, digits, ".", "_" or "-"' },
        };
      const existing = store.tunnelByName(name);
      if (existing) {
        const own = ownTunnel(name, principal);
        if ('status' in own) return { ...own, status: 409 };
        return { status: 200, body: { tunnel: describeTunnel(existing), created: false }, target: name };
      }
      const { tunnel, secret } = await store.createTunnel(name, principal.email);
      return {
        status: 201,
        body: { tunnel: describeTunnel(tunnel), created: true, token: encodeTunnelToken(tunnel.id, secret) },
        target: name,
      };
    }
    const tunnelPath = /^tunnels\/([^/]+)(\/token)?$/.exec(path);
    if (tunnelPath) {
      const name = decodePathSegment(tunnelPath[1]!, 'the tunnel name');
      const own = ownTunnel(name, principal);
      if ('status' in own) return own;
      if (tunnelPath[2] && method === 'POST') {
        const secret = await store.rotateSecret(own.id);
        return {
          status: 200,
          body: { tunnel: describeTunnel(own), token: encodeTunnelToken(own.id, secret) },
          target: name,
        };
      }
      if (!tunnelPath[2] && method === 'DELETE') {
        const routes = await store.deleteTunnel(own.id);
        for (const connection of deps.registry.all()) if (connection.tunnelId === own.id) connection.session.destroy();
        return { status: 200, body: { deleted: name, routes: routes.map((route) => route.hostname) }, target: name };
      }
    }
    if (path === 'routes' && method === 'GET') {
      const config = deps.config();
      const fromFile = [...config.apps.values()].map((app) => ({
        hostname: app.hostname,
        tunnel: app.tunnel,
        service: `tcp://${app.serviceAuthority}`,
        owner: '',
        source: 'edge.yaml',
      }));
      const stored = store.routes().map((route) => ({
        hostname: route.hostname,
        tunnel: store.tunnelById(route.tunnelId)?.name ?? route.tunnelId,
        service: route.service,
        owner: route.owner,
        createdAt: route.createdAt,
        // False when the app left edge.yaml: the route then publishes nothing.
        live: config.unpublishedApps.has(route.hostname),
        source: 'operator',
      }));
      return { status: 200, body: { routes: [...fromFile, ...stored] } };
    }
    if (path === 'routes' && method === 'POST') {
      const body = await readObjectBody(req);
      const target = String(body.hostname ?? '').slice(0, 253);
      const own = ownTunnel(String(body.tunnel ?? ''), principal);
      if ('status' in own) return { ...own, target };
      const check = checkRoute({ hostname: body.hostname, service: body.service }, own, {
        config: deps.config(),
        routes: store.routes(),
        tunnelName: (id) => store.tunnelById(id)?.name,
        owner: principal.email,
      });
      if (!check.ok) return { status: check.status, body: { error: check.error, message: check.message }, target };
      const existing = store.route(check.hostname);
      const route = {
        hostname: check.hostname,
        tunnelId: own.id,
        service: check.service,
        owner: principal.email,
        createdAt: existing?.createdAt ?? new Date().toISOString(),
      };
      if (existing?.service !== route.service) await store.putRoute(route);
      return {
        status: existing ? 200 : 201,
        body: { route: { hostname: route.hostname, tunnel: own.name, service: route.service, owner: route.owner } },
        target,
      };
    }
    return { status: 404, body: { error: 'not_found', message: `no admin endpoint ${method} ${path}` } };
  }

  return async (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!.slice(PATH.adminPrefix.length);
    const action = auditField(`${req.method} ${path.replace(/^(tunnels\/|locks\/)[^/]+/, '$1NAME')}`);
    const ip = clientAddress(req.socket);
    let answer: Answer;
    let who = 'anonymous';
    try {
      const auth = await authenticate(req);
      if ('principal' in auth) {
        who = auth.principal.email;
        answer = await dispatch(req, path, auth.principal);
      } else answer = auth;
    } catch (error) {
      // Every request leaves its audit record, even one that failed in a way nobody planned for.
      answer =
        isAirlockError(error) && error.code === 'BAD_ARGUMENT'
          ? { status: 400, body: { error: 'bad_request', message: error.message } }
          : { status: 500, body: { error: 'internal', message: 'internal error' } };
    }
    const decision = answer.status < 400 ? 'allow' : 'deny';
    const reason =
      'message' in answer.body && typeof answer.body.message === 'string' ? answer.body.message.split('\n')[0]! : 'ok';
    deps.audit.write(
      {
        event: 'admin',
        who,
        ip,
        action,
        target: answer.target ?? '',
        decision,
        reason,
        status: answer.status,
      },
      { beforeIdentity: who === 'anonymous' && decision === 'deny' },
    );
    sendJson(res, answer.status, answer.body);
  };
}
