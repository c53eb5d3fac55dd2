// edge.yaml for one of several edges sharing a PostgreSQL, and the chain the multi-edge suites share.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, SERVICE_TOKEN, testPki, TUNNEL, type TestPki } from './chain.js';
import { startPostgres, type RunningPostgres } from './postgres.js';
import { startHaproxy, type RunningHaproxy } from './haproxy.js';
import { airlock, type Running } from './processes.js';
import { startOrigin, type Origin } from './transfer.js';
import { LocalListener } from '../../src/core/local-listener.js';
import { loadEdgeConfig } from '../../src/edge/config/config.js';
import { startEdge, type RunningEdge } from '../../src/edge/edge-server.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';
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

export interface ChainEdge {
  /** A, B, C…, in the order of `ports`. */
  name: string;
  port: number;
  config: string;
  audit: string;
  process: Running;
}

export interface MultiEdgeChain {
  pki: TestPki;
  db: RunningPostgres;
  origin: Origin;
  lb: RunningHaproxy;
  edges: ChainEdge[];
  app: { hostname: string; aud: string; service: string };
  /** The audit records of these edges (every edge by default), oldest first per edge. */
  audit(...of: ChainEdge[]): Record<string, unknown>[];
  /** Starts (again) the edge process of `edge` and waits for it to listen. */
  restart(edge: ChainEdge, args?: string[]): Promise<void>;
  /** A listener on a free loopback port reaching the app through the balancer with the service token. */
  listen(options?: { resume?: boolean }): Promise<{ listener: LocalListener; port: number }>;
  /** Stops what the chain started (continuing any stopped edge first); listeners and connectors are the caller's. */
  stop(): Promise<void>;
}

/**
 * PostgreSQL, the transfer origin, `count` edge processes (each with its audit file and relay
 * listener) and HAProxy in front of the edges numbered in `balanced` (all by default): the set-up
 * the multi-edge suites share. Edges take `edgeArgs` after `--config FILE`.
 */
export async function startMultiEdgeChain(options: {
  hostname: string;
  count: number;
  balanced?: number[];
  edgeArgs?: string[];
}): Promise<MultiEdgeChain> {
  const pki = await testPki();
  const db = await startPostgres();
  const origin = await startOrigin();
  const ports = await Promise.all(Array.from({ length: options.count }, () => freePort()));
  const lb = await startHaproxy((options.balanced ?? ports.map((_, index) => index)).map((index) => ports[index]!));
  const app = {
    hostname: options.hostname,
    aud: randomBytes(16).toString('hex'),
    service: `tcp://127.0.0.1:${origin.port}`,
  };
  const edgeArgs = options.edgeArgs ?? [];
  const edges: ChainEdge[] = [];
  for (const [index, port] of ports.entries()) {
    const yaml = multiEdgeYaml({ pki, port, publicPort: lb.port, pgUrl: db.url, app, relayPort: await freePort() });
    const config = writeConfig(pki, yaml);
    const audit = config.replace(/edge\.yaml$/, 'audit.jsonl');
    writeFileSync(config, `${yaml}audit: { file: ${audit} }\n`);
    const name = String.fromCharCode(65 + index);
    edges.push({ name, port, config, audit, process: airlock(['edge', '--config', config, ...edgeArgs]) });
  }
  await Promise.all(edges.map(({ process }) => process.waitFor(/edge listening/, 30_000)));
  await lb.waitAllUp();
  const auditOf = (edge: ChainEdge): Record<string, unknown>[] =>
    existsSync(edge.audit)
      ? readFileSync(edge.audit, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Record<string, unknown>)
      : [];
  return {
    pki,
    db,
    origin,
    lb,
    edges,
    app,
    audit: (...of) => (of.length > 0 ? of : edges).flatMap(auditOf),
    async restart(edge, args = edgeArgs) {
      edge.process = airlock(['edge', '--config', edge.config, ...args]);
      await edge.process.waitFor(/edge listening/, 30_000);
    },
    async listen({ resume = true } = {}) {
      const port = await freePort();
      const listener = new LocalListener({
        target: resolveEdgeTarget({ hostname: app.hostname, edge: `https://127.0.0.1:${lb.port}`, caFile: pki.ca }),
        local: { host: '127.0.0.1', port },
        credential: async () => ({ kind: 'service-token', ...SERVICE_TOKEN }),
        resume,
      });
      await listener.start();
      return { listener, port };
    },
    async stop() {
      for (const { process } of edges) process.child.kill('SIGCONT');
      await Promise.all(edges.map(({ process }) => process.stop()));
      await lb.stop();
      await origin.close();
      db.destroy();
    },
  };
}

export interface RelayPair {
  pki: TestPki;
  db: RunningPostgres;
  app: { hostname: string; aud: string; service: string };
  edgeA: RunningEdge;
  edgeB: RunningEdge;
  connector: Connector;
  /** Stops the connector, both edges and PostgreSQL (the origin and listeners are the caller's). */
  close(): Promise<void>;
}

/**
 * Two in-process edges on one PostgreSQL with the connector on edge B only, so every stream that
 * reaches edge A is relayed to B: the set-up of the relay suites. Edge A learns where the tunnel
 * is from the directory within two heartbeats; the caller waits for that its own way.
 */
export async function startRelayPair(options: { hostname: string; service: string }): Promise<RelayPair> {
  const pki = await testPki();
  const db = await startPostgres();
  const [portA, portB, relayA, relayB] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const app = { hostname: options.hostname, aud: randomBytes(16).toString('hex'), service: options.service };
  const edge = (port: number, relayPort: number) =>
    startEdge({
      config: loadEdgeConfig(
        writeConfig(pki, multiEdgeYaml({ pki, port, publicPort: portA, pgUrl: db.url, app, relayPort })),
      ),
    });
  const edgeA = await edge(portA, relayA);
  const edgeB = await edge(portB, relayB);
  const connector = edgeConnector(pki, {
    ports: [portB],
    hostname: app.hostname,
    service: app.service,
    connections: 2,
  });
  await connector.waitConnected(2);
  return {
    pki,
    db,
    app,
    edgeA,
    edgeB,
    connector,
    async close() {
      await connector.stop(200);
      await edgeA.close(200);
      await edgeB.close(200);
      db.destroy();
    },
  };
}
