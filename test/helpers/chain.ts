// Builds a real chain on loopback for tests: dev certs, an edge, a connector and origins.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { writeDevCertificates } from '../../src/cli/demo/dev-certs.js';
import { parseEdgeConfig, type EdgeConfig } from '../../src/edge/config/config.js';
import { startEdge, type RunningEdge, type EdgeOptions } from '../../src/edge/edge-server.js';
import { Connector, type ConnectorOptions } from '../../src/connector/connector.js';
import { encodeTunnelToken, hashSecret, newSecret } from '../../src/shared/secrets.js';

export interface TestPki {
  dir: string;
  ca: string;
  cert: string;
  key: string;
}

let pkiPromise: Promise<TestPki> | undefined;

/** One throwaway CA per test process: generating keys is the slowest part of a chain. */
export function testPki(): Promise<TestPki> {
  pkiPromise ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-test-'));
    const paths = await writeDevCertificates(join(dir, 'certs'), {
      dns: ['localhost', '*.airlock.test', 'edge.airlock.test'],
      ips: ['127.0.0.1', '::1'],
    });
    return { dir, ...paths };
  })();
  return pkiPromise;
}

export interface ChainApp {
  hostname: string;
  service: string;
  policy?: string;
  /** More keys of the app, each line indented as `    key: value`. */
  extra?: string;
}

export const SERVICE_TOKEN = { id: 'ci-bot', secret: 'x'.repeat(43) };
export const TUNNEL = { id: 'test-tunnel', secret: newSecret() };

/** edge.yaml text for the given apps; every app is served by TUNNEL and admits SERVICE_TOKEN by default. */
export function edgeYaml(pki: TestPki, apps: ChainApp[], extra = '', listenPort = 0): string {
  const appLines = apps
    .map(
      (app) => `  - hostname: ${app.hostname}
    aud: ${randomBytes(16).toString('hex')}
    tunnel: ${TUNNEL.id}
    service: ${app.service}
${app.extra ? `${app.extra}\n` : ''}    policy:
${app.policy ?? `      include: [{ serviceToken: ${SERVICE_TOKEN.id} }]`}`,
    )
    .join('\n');
  return `listen: 127.0.0.1:${listenPort}
tls: { cert: ${pki.cert}, key: ${pki.key} }
stateDir: ${join(pki.dir, `state-${randomBytes(4).toString('hex')}`)}
apps:
${appLines || '  []'}
tunnels:
  - { id: ${TUNNEL.id}, secretHash: "${hashSecret(TUNNEL.secret)}" }
serviceTokens:
  - { id: ${SERVICE_TOKEN.id}, secretHash: "${hashSecret(SERVICE_TOKEN.secret)}" }
${extra}`;
}

export interface Chain {
  pki: TestPki;
  config: EdgeConfig;
  configFile: string;
  edge: RunningEdge;
  edgeUrl: string;
  connector: Connector;
  tunnelToken: string;
  close(): Promise<void>;
}

export async function startChain(
  apps: ChainApp[],
  options: {
    connector?: Partial<ConnectorOptions>;
    edge?: Partial<EdgeOptions>;
    extraYaml?: string;
    listenPort?: number;
  } = {},
): Promise<Chain> {
  const pki = await testPki();
  const configFile = join(mkdtempSync(join(pki.dir, 'edge-')), 'edge.yaml');
  writeFileSync(configFile, edgeYaml(pki, apps, options.extraYaml, options.listenPort));
  const config = parseEdgeConfig((await import('node:fs')).readFileSync(configFile, 'utf8'), configFile);
  const edge = await startEdge({ config, ...options.edge });
  const edgeUrl = config.publicUrl;
  const tunnelToken = encodeTunnelToken(TUNNEL.id, TUNNEL.secret);
  const connector = new Connector({
    edgeUrl,
    token: tunnelToken,
    ca: (await import('node:fs')).readFileSync(pki.ca),
    rules: apps
      .map((app) => ({ hostname: app.hostname, service: app.service }))
      .concat([{ service: 'http_status:404' } as never]),
    connections: 2,
    backoff: { baseMs: 50, maxMs: 500 },
    ...options.connector,
  });
  connector.start();
  await connector.waitConnected(options.connector?.connections ?? 2);
  return {
    pki,
    config,
    configFile,
    edge,
    edgeUrl,
    connector,
    tunnelToken,
    async close() {
      await connector.stop(500);
      await edge.close(500);
    },
  };
}

/** A TCP echo server on 127.0.0.1:0. */
export async function startEchoServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A port nothing listens on, for a process that binds it later. Chosen below Linux's ephemeral range
 * (32768-60999), so neither port-0 listeners nor the source ports of other tests' outgoing
 * connections can take it between this check and the real bind.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const server = net.createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (bound) {
      await new Promise((resolve) => server.close(resolve));
      return port;
    }
  }
  throw new Error('no free port found below the ephemeral range');
}
