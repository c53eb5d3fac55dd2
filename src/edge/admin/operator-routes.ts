// Everything the edge server needs for operator-published routes, behind three hooks:
// the working config (edge.yaml + route store), the admin API and 503 for unpublished apps, and
// the operator sign-in pseudo-app for the access routes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { HOST_ADMIN, PATH } from '../../shared/constants.js';
import { hostnameFromHostHeader } from '../../shared/host.js';
import type { AccessApp } from '../sign-in/access-routes.js';
import { adminLoginApp, createAdminApi, type AdminDeps } from './admin-api.js';
import type { EdgeConfig } from '../config/config.js';
import { publishedConfig, unpublishedRefusal } from '../tunnels/published-config.js';
import { sendJson, writeRawResponse } from '../http/json-answer.js';
import { RouteStore } from '../tunnels/route-store.js';

export interface OperatorRoutes {
  store: RouteStore;
  /** The config the data plane runs on: the file's apps plus the routes operators made. */
  config: () => EdgeConfig;
  /** Admin API, or 503 for an app nobody has published yet; false when the request is neither. */
  handleRequest(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Writes the 503 for an upgrade to an unpublished app; false otherwise. */
  refuseUpgrade(req: IncomingMessage, socket: Duplex): boolean;
  /** The operator sign-in pseudo-app when aud asks for it and edge.yaml has `admins:`. */
  loginApp(aud: string): AccessApp | undefined;
}

/** `shared`: several edges keep one route store (src/edge/state/postgres-routes.ts) instead of a file each. */
export async function openOperatorRoutes(
  base: EdgeConfig,
  deps: Omit<AdminDeps, 'config' | 'store'>,
  shared?: RouteStore,
): Promise<OperatorRoutes> {
  // Opened first: a damaged file stops the edge before it serves anything (route-store.ts).
  const store = shared ?? (await RouteStore.open(join(base.stateDir, HOST_ADMIN.routeFile)));
  const config = publishedConfig(base, store);
  const api = createAdminApi({ ...deps, config: () => base, store });
  return {
    store,
    config,
    async handleRequest(req, res) {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (path.startsWith(PATH.adminPrefix)) return api(req, res).then(() => true);
      if (path.startsWith('/cdn-cgi/')) return false;
      const refusal = unpublishedRefusal(config(), hostnameFromHostHeader(req.headers.host));
      if (!refusal) return false;
      sendJson(res, 503, refusal);
      return true;
    },
    refuseUpgrade(req, socket) {
      const refusal = unpublishedRefusal(config(), hostnameFromHostHeader(req.headers.host));
      if (!refusal) return false;
      writeRawResponse(socket, 503, {}, refusal);
      return true;
    },
    loginApp: (aud) =>
      aud === HOST_ADMIN.loginAud ? adminLoginApp({ config: () => base, keys: deps.keys }) : undefined,
  };
}
