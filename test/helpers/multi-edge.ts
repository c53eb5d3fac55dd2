// edge.yaml for one of several edges sharing a PostgreSQL (the multi-edge suites).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_TOKEN, TUNNEL, type TestPki } from './chain.js';
import { encodeTunnelToken, hashSecret } from '../../src/shared/secrets.js';
import { Connector } from '../../src/connector/connector.js';

export interface MultiEdgeOptions {
  pki: TestPki;
  port: number;
  /** The port users reach the edges at (the load balancer's), for publicUrl. */
  publicPort: number;
  pgUrl: string;
  app: { hostname: string; aud: string; service: string };
  idp?: { issuer: string; clientId: string; clientSecret: string };
  relayPort?: number;
  signIn?: string;
  /** An app with a policy but no route yet, and the admins who may publish it (the admin API). */
  unpublished?: { hostname: string; aud: string };
}

export function multiEdgeYaml(options: MultiEdgeOptions): string {
  const { pki, app } = options;
  return `listen: 127.0.0.1:${options.port}
publicUrl: https://${options.signIn ?? 'auth.airlock.test'}:${options.publicPort}
tls: { cert: ${pki.cert}, key: ${pki.key} }
stateDir: ${mkdtempSync(join(pki.dir, 'multi-edge-state-'))}
state: { postgres: { url: "${options.pgUrl}" } }
${options.relayPort ? `relay: { listen: 127.0.0.1:${options.relayPort}, ca: ${pki.ca} }\n` : ''}${options.idp ? `idp: { issuer: "${options.idp.issuer}", clientId: ${options.idp.clientId}, clientSecret: ${options.idp.clientSecret} }\n` : ''}apps:
  - hostname: ${app.hostname}
    aud: ${app.aud}
    tunnel: ${TUNNEL.id}
    service: ${app.service}
    policy:
      include: [{ emailDomain: example.com }, { serviceToken: ${SERVICE_TOKEN.id} }]
${
  options.unpublished
    ? `  - hostname: ${options.unpublished.hostname}
    aud: ${options.unpublished.aud}
    policy:
      include: [{ serviceToken: ${SERVICE_TOKEN.id} }]
domains: [airlock.test]
admins:
  include: [{ group: ops }]
`
    : ''
}tunnels:
  - { id: ${TUNNEL.id}, secretHash: "${hashSecret(TUNNEL.secret)}" }
serviceTokens:
  - { id: ${SERVICE_TOKEN.id}, secretHash: "${hashSecret(SERVICE_TOKEN.secret)}" }
`;
}

export function writeConfig(pki: TestPki, text: string): string {
  const file = join(mkdtempSync(join(pki.dir, 'multi-edge-')), 'edge.yaml');
  writeFileSync(file, text);
  return file;
}

/**
 * A started connector serving `hostname` → `service`, its connections spread over `ports` (the
 * edges on 127.0.0.1), with the test tunnel's token unless another is given. Not yet awaited.
 */
export function edgeConnector(
  pki: TestPki,
  options: {
    ports: number[];
    hostname: string;
    service: string;
    connections: number;
    token?: string;
    backoff?: { baseMs: number; maxMs: number };
  },
): Connector {
  const urls = options.ports.map((port) => `https://127.0.0.1:${port}`);
  const connector = new Connector({
    edgeUrl: urls[0]!,
    ...(urls.length > 1 ? { edgeUrls: urls } : {}),
    token: options.token ?? encodeTunnelToken(TUNNEL.id, TUNNEL.secret),
    ca: readFileSync(pki.ca),
    rules: [{ hostname: options.hostname, service: options.service }, { service: 'http_status:404' }],
    connections: options.connections,
    backoff: options.backoff ?? { baseMs: 50, maxMs: 500 },
  });
  connector.start();
  return connector;
}
