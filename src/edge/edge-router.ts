// Which part of the edge answers (docs/architecture.md "Other edge paths"): health and metrics,
// the signing keys, discovery, the operators' API, sign-in under /cdn-cgi/access/, connectors at
// /cdn-cgi/tunnel; any other request or upgrade is for an application hostname.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { PATH } from '../shared/constants.js';
import type { Logger } from '../shared/logger.js';
import { gate } from './gateway/app-gate.js';
import type { AppGateway, GatewayDeps } from './gateway/app-gateway.js';
import { sendJson, writeRawResponse } from './http/json-answer.js';
import type { OperatorRoutes } from './admin/operator-routes.js';
import type { SigningKeys } from './tokens/signing-keys.js';
import type { StatusEndpoints } from './status-endpoints.js';
import { handleTunnelUpgrade } from './tunnels/tunnel-endpoint.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface EdgeRoutes {
  /** What the gate and the connectors' endpoint read: the working config, registry, audit, metrics. */
  deps: GatewayDeps;
  gateway: Pick<AppGateway, 'handleUpgrade'>;
  operators: Pick<OperatorRoutes, 'handleRequest' | 'refuseUpgrade'>;
  status: StatusEndpoints;
  listApps: Handler;
  keys: Pick<SigningKeys, 'jwks'>;
  /** The sign-in endpoints once the edge knows its public URL; none on an edge without `idp:`. */
  accessRoutes(): ((req: IncomingMessage, res: ServerResponse) => Promise<boolean>) | undefined;
  log: Logger;
}

export interface EdgeRouter {
  request(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export function createEdgeRouter(routes: EdgeRoutes): EdgeRouter {
  const { deps, log } = routes;

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === PATH.health) return routes.status.health(req, res);
    if (path === PATH.metrics) return routes.status.metrics(req, res);
    const accessRoutes = routes.accessRoutes();
    if (path === PATH.certs && !accessRoutes) return sendJson(res, 200, routes.keys.jwks());
    if (path === PATH.apps && req.method === 'GET') return routes.listApps(req, res);
    if (await routes.operators.handleRequest(req, res)) return;
    if (path.startsWith(PATH.accessPrefix)) {
      if (accessRoutes && (await accessRoutes(req, res))) return;
      // 501 tells a client not to open a browser: there is nothing to sign in to (service tokens only).
      return sendJson(res, 501, {
        error: 'sso_disabled',
        message: 'single sign-on is not configured on this edge; use a service token',
      });
    }
    const result = await gate(req, deps, randomUUID());
    if (result.status !== 200) {
      if (result.body) return sendJson(res, result.status, result.body, result.headers);
      res.writeHead(result.status, result.headers).end();
      return;
    }
    if (req.method === 'HEAD') {
      res.writeHead(200).end();
      return;
    }
    sendJson(res, 426, {
      error: 'upgrade_required',
      message: `${result.app.hostname} carries TCP: connect with \`airlock access tcp --hostname ${result.app.hostname} --url 127.0.0.1:PORT\``,
    });
  }

  return {
    request(req, res) {
      answer(req, res).catch((error: Error) => {
        log.error({ error: error.message }, 'request failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal', message: 'internal error' });
        else res.destroy();
      });
    },
    upgrade(req, socket, head) {
      socket.on('error', () => {});
      const path = (req.url ?? '/').split('?')[0];
      if (path !== PATH.tunnel && routes.operators.refuseUpgrade(req, socket)) return;
      const work =
        path === PATH.tunnel
          ? Promise.resolve(handleTunnelUpgrade(req, socket, deps))
          : routes.gateway.handleUpgrade(req, socket, head);
      work.catch((error: Error) => {
        log.error({ error: error.message }, 'upgrade failed');
        writeRawResponse(socket, 500, {}, { error: 'internal', message: 'internal error' });
      });
    },
  };
}
