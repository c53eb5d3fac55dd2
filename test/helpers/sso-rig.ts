// A real sign-in stack on 127.0.0.1 for tests: the built-in IdP (oidc-provider) and a small https
// server that serves only createAccessRoutes(), standing in for the edge server.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAccessRoutes, type AccessApp, type AccessRoutesDeps } from '../../src/edge/sign-in/access-routes.js';
import { RevocationList } from '../../src/edge/tokens/revocation-list.js';
import { SigningKeys } from '../../src/edge/tokens/signing-keys.js';
import { OidcRelyingParty } from '../../src/edge/sign-in/oidc-login.js';
import { startIdp, type RunningIdp } from '../../src/idp/provider.js';
import { selfSignedLoopbackCert } from './tls.js';
import { PATH } from '../../src/shared/constants.js';

export const USERS = [
  { email: 'ada@example.com', password: 'ada-password', groups: ['eng'] },
  { email: 'eve@example.com', password: 'eve-password', groups: ['sales'] },
];
export const CLIENT = { clientId: 'airlock-edge', clientSecret: 'rig-client-secret' };

export interface Rig {
  idp: RunningIdp;
  edgeOrigin: string;
  ca: Buffer;
  keys: SigningKeys;
  revoked: RevocationList;
  apps: AccessApp[];
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** Apps: redis.internal (group eng only) and open.internal (everyone). */
export async function startRig(
  options: { idpIssuer?: string } & Pick<AccessRoutesDeps, 'stateStore' | 'startBudget'> = {},
): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-rig-'));
  const { cert, key } = selfSignedLoopbackCert();
  const server = https.createServer({ cert, key });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const edgeOrigin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const idp = await startIdp({
    users: USERS,
    clients: [{ ...CLIENT, redirectUris: [`${edgeOrigin}${PATH.callback}`] }],
  });
  const keys = await SigningKeys.open(join(dir, 'keys'));
  const revoked = await RevocationList.open(join(dir, 'revoked.json'));
  const apps: AccessApp[] = [
    {
      hostname: 'redis.internal',
      aud: 'aud-redis',
      sessionMs: 3_600_000,
      evaluate: (principal) =>
        principal.groups.includes('eng')
          ? { allowed: true, reason: 'group eng' }
          : { allowed: false, reason: 'not in group eng' },
    },
    {
      hostname: 'open.internal',
      aud: 'aud-open',
      sessionMs: 600_000,
      evaluate: () => ({ allowed: true, reason: 'everyone' }),
    },
  ];
  const logs: Array<Record<string, unknown>> = [];
  const issuer = options.idpIssuer ?? idp.issuer;
  const routes = createAccessRoutes({
    publicUrl: edgeOrigin,
    findAppByAud: (aud) => apps.find((app) => app.aud === aud),
    findAppByHostname: (hostname) => apps.find((app) => app.hostname === hostname),
    tokens: { keys, revoked },
    idp: new OidcRelyingParty(
      { issuer, ...CLIENT },
      { redirectUri: `${edgeOrigin}${PATH.callback}`, timeoutSeconds: 3 },
    ),
    log: { info: (fields) => logs.push(fields), warn: (fields) => logs.push(fields) },
    ...(options.stateStore ? { stateStore: options.stateStore } : {}),
    ...(options.startBudget ? { startBudget: options.startBudget } : {}),
  });
  server.on('request', (req, res) => {
    routes(req, res).then(
      (handled) => {
        if (!handled) {
          res.writeHead(404);
          res.end('not an access route');
        }
      },
      (error: unknown) => {
        res.writeHead(500);
        res.end(String(error));
      },
    );
  });
  return {
    idp,
    edgeOrigin,
    ca: cert,
    keys,
    revoked,
    apps,
    logs,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await idp.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
