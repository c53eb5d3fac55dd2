// The real thing the UI specs run against: redis-server behind a real edge and connector, with
// the built-in IdP (oidc-provider) signing users in. One place for what three specs start.
import { existsSync } from 'node:fs';
import { freePort, startChain, type Chain, type ChainApp } from '../../test/helpers/chain.js';
import { startRedis } from '../../test/helpers/origins.js';
import type { Running } from '../../test/helpers/processes.js';
import { startIdp, type RunningIdp } from '../../src/idp/provider.js';
import type { IdpUser } from '../../src/idp/users.js';
import { PATH } from '../../src/shared/constants.js';

export const redisMissing = existsSync('/usr/bin/redis-server')
  ? undefined
  : 'redis-server is not installed (Debian package redis-server)';

export const ADA = { email: 'ada@example.com', password: 'ada-password', groups: ['eng'] };

export interface SsoChain {
  chain: Chain;
  idp: RunningIdp;
  redis: { port: number; process: Running };
  close(): Promise<void>;
}

/** `apps` is given the redis origin's service URL (tcp://127.0.0.1:PORT). */
export async function startSsoChain(
  apps: (service: string) => ChainApp[],
  users: IdpUser[] = [ADA],
): Promise<SsoChain> {
  const redis = await startRedis();
  const edgePort = await freePort();
  const secret = 'e2e-idp-secret';
  const idp = await startIdp({
    users,
    clients: [
      { clientId: 'edge', clientSecret: secret, redirectUris: [`https://127.0.0.1:${edgePort}${PATH.callback}`] },
    ],
  });
  const chain = await startChain(apps(`tcp://127.0.0.1:${redis.port}`), {
    listenPort: edgePort,
    extraYaml: `idp: { issuer: "${idp.issuer}", clientId: edge, clientSecret: ${secret} }\n`,
  });
  return {
    chain,
    idp,
    redis,
    async close() {
      await chain.close();
      await idp.close();
      await redis.process.stop();
    },
  };
}
