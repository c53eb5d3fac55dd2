// The chain as separate processes on loopback: `airlock edge`, `airlock tunnel run` and
// `airlock access tcp`, built from the same dev PKI and credentials as test/helpers/chain.ts.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { edgeYaml, freePort, testPki, SERVICE_TOKEN, TUNNEL, type ChainApp, type TestPki } from './chain.js';
import {
  edgeConnections,
  logFile,
  recordSecrets,
  spawnAirlock,
  waitUntil,
  type AirlockProcess,
} from './airlock-processes.js';
import { encodeTunnelToken } from '../../src/shared/secrets.js';

export interface ProcessChain {
  pki: TestPki;
  ca: Buffer;
  configFile: string;
  auditFile: string;
  port: number;
  edgeUrl: string;
  tunnelToken: string;
  /** `env`: more environment for the process (e.g. NODE_OPTIONS for a test hook). */
  startEdge(options?: { env?: Record<string, string> }): Promise<AirlockProcess>;
  startConnector(options?: {
    connections?: number;
    configYaml?: string;
    drainTimeout?: string;
    env?: Record<string, string>;
  }): Promise<AirlockProcess>;
  /** A local listener for hostname, with the service token, or with an app token when given. */
  /** `resume: false` passes --no-resume (the plain protocol, as cloudflared speaks it). */
  startAccess(
    hostname: string,
    options?: { appToken?: string; resume?: boolean; env?: Record<string, string> },
  ): Promise<{ proc: AirlockProcess; port: number }>;
  connections(): Promise<number | undefined>;
}

/** Writes edge.yaml for `apps` on a fixed free port (so a restart comes back on it). */
export async function processChain(
  apps: ChainApp[],
  options: { limits?: string; drainTimeout?: string } = {},
): Promise<ProcessChain> {
  const pki = await testPki();
  const port = await freePort();
  const dir = mkdtempSync(join(pki.dir, 'proc-'));
  const configFile = join(dir, 'edge.yaml');
  const auditFile = logFile('audit').replace(/\.log$/, '.jsonl');
  const extra = `audit: { file: ${auditFile} }\n${options.limits ?? ''}`;
  writeFileSync(configFile, edgeYaml(pki, apps, extra).replace('listen: 127.0.0.1:0', `listen: 127.0.0.1:${port}`));
  const ca = readFileSync(pki.ca);
  const edgeUrl = `https://127.0.0.1:${port}`;
  const tunnelToken = encodeTunnelToken(TUNNEL.id, TUNNEL.secret);
  recordSecrets(tunnelToken, TUNNEL.secret, SERVICE_TOKEN.secret);
  return {
    pki,
    ca,
    configFile,
    auditFile,
    port,
    edgeUrl,
    tunnelToken,
    async startEdge({ env = {} } = {}) {
      const edge = spawnAirlock(
        'edge',
        ['edge', '--config', configFile, '--drain-timeout', options.drainTimeout ?? '10s'],
        env,
      );
      await edge.waitFor(/edge listening on/);
      return edge;
    },
    async startConnector({ connections = 4, configYaml, drainTimeout = '10s', env = {} } = {}) {
      let args: string[];
      if (configYaml) {
        const file = join(dir, `connector-${Date.now()}.yaml`);
        writeFileSync(
          file,
          `edge: ${edgeUrl}\nca: ${pki.ca}\ntoken: ${tunnelToken}\nconnections: ${connections}\n${configYaml}`,
        );
        args = ['tunnel', 'run', '--config', file, '--drain-timeout', drainTimeout];
      } else {
        const origin = apps[0]!.service;
        args = [
          'tunnel',
          'run',
          '--edge',
          edgeUrl,
          '--url',
          origin,
          '--ca',
          pki.ca,
          '--connections',
          String(connections),
          '--drain-timeout',
          drainTimeout,
        ];
      }
      // The token travels in the environment, never on the command line (where ps would show it).
      return spawnAirlock('connector', args, { AIRLOCK_TUNNEL_TOKEN: tunnelToken, ...env });
    },
    async startAccess(hostname, { appToken, resume = true, env = {} } = {}) {
      const localPort = await freePort();
      // Credentials travel in the environment, never on the command line.
      const proc = spawnAirlock(
        'access',
        [
          'access',
          'tcp',
          '--hostname',
          hostname,
          '--url',
          `127.0.0.1:${localPort}`,
          '--edge',
          edgeUrl,
          '--ca',
          pki.ca,
          ...(resume ? [] : ['--no-resume']),
        ],
        {
          ...(appToken
            ? { AIRLOCK_TOKEN: appToken }
            : { AIRLOCK_SERVICE_TOKEN_ID: SERVICE_TOKEN.id, AIRLOCK_SERVICE_TOKEN_SECRET: SERVICE_TOKEN.secret }),
          ...env,
        },
      );
      await proc.waitFor(/Listening on/);
      return { proc, port: localPort };
    },
    connections: () => edgeConnections(port, ca),
  };
}

/** Waits until the edge holds `count` connector connections. */
export function waitForConnections(chain: ProcessChain, count: number, timeoutMs = 10_000): Promise<number> {
  return waitUntil(`${count} connector connections`, async () => (await chain.connections()) === count, timeoutMs);
}
