// An edge for the operator tests: admins, domains, one app published by the file and two
// apps awaiting a route, with or without a real IdP.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import https from 'node:https';
import { parseEdgeConfig, type EdgeConfig } from '../../src/edge/config/config.js';
import { startEdge, type RunningEdge } from '../../src/edge/edge-server.js';
import { issueConnectorCredential } from '../../src/edge/tunnels/connector-credential.js';
import { hashSecret, newSecret } from '../../src/shared/secrets.js';
import { testPki, type TestPki } from './chain.js';

export const ADMIN = { email: 'ops@example.com', password: 'ops-password', groups: ['ops'] };
export const OTHER_ADMIN = { email: 'sre@example.com', password: 'sre-password', groups: ['ops'] };
export const USER = { email: 'ada@example.com', password: 'ada-password', groups: ['eng'] };
export const FILE_TUNNEL = { id: 'file-tunnel', secret: newSecret() };

export interface HostEdge {
  pki: TestPki;
  config: EdgeConfig;
  configFile: string;
  stateDir: string;
  auditFile: string;
  edge: RunningEdge;
  edgeUrl: string;
  ca: Buffer;
  /** `issuedAgoMs`: issued that long ago (an expired one must be older than the clock tolerance). */
  credential(who?: { email: string; groups: string[] }, validForMs?: number, issuedAgoMs?: number): Promise<string>;
  close(): Promise<void>;
}

export function hostEdgeYaml(
  pki: TestPki,
  stateDir: string,
  options: { idp?: string; listenPort?: number } = {},
): string {
  return `listen: 127.0.0.1:${options.listenPort ?? 0}
tls: { cert: ${pki.cert}, key: ${pki.key} }
stateDir: ${stateDir}
audit: { file: ${join(stateDir, '..', 'audit.jsonl')} }
${options.idp ?? ''}
domains: [airlock.test]
admins:
  include: [{ group: ops }]
apps:
  - hostname: redis.airlock.test
    aud: ${randomBytes(16).toString('hex')}
    policy:
      include: [{ group: eng }]
  - hostname: pg.airlock.test
    aud: ${randomBytes(16).toString('hex')}
    policy:
      include: [{ group: eng }]
  - hostname: fixed.airlock.test
    aud: ${randomBytes(16).toString('hex')}
    tunnel: ${FILE_TUNNEL.id}
    service: tcp://127.0.0.1:5432
    policy:
      include: [{ group: eng }]
tunnels:
  - { id: ${FILE_TUNNEL.id}, secretHash: "${hashSecret(FILE_TUNNEL.secret)}" }
`;
}

export async function startHostEdge(
  options: { idp?: string; listenPort?: number; stateDir?: string } = {},
): Promise<HostEdge> {
  const pki = await testPki();
  const dir = mkdtempSync(join(pki.dir, 'host-edge-'));
  const stateDir = options.stateDir ?? join(dir, 'state');
  const configFile = join(dir, 'edge.yaml');
  writeFileSync(configFile, hostEdgeYaml(pki, stateDir, options));
  const config = parseEdgeConfig(readFileSync(configFile, 'utf8'), configFile);
  const edge = await startEdge({ config });
  const edgeUrl = config.publicUrl;
  return {
    pki,
    config,
    configFile,
    stateDir,
    auditFile: join(stateDir, '..', 'audit.jsonl'),
    edge,
    edgeUrl,
    ca: readFileSync(pki.ca),
    async credential(who = ADMIN, validForMs, issuedAgoMs) {
      const issued = await issueConnectorCredential(
        { edgeOrigin: new URL(edgeUrl).origin, keys: edge.keys },
        { sub: who.email, ...who },
        validForMs,
        issuedAgoMs ? new Date(Date.now() - issuedAgoMs) : undefined,
      );
      return issued.token;
    },
    close: () => edge.close(200),
  };
}

/** A JSON request to the edge, trusting the test CA. */
export async function edgeJson(
  edge: Pick<HostEdge, 'edgeUrl' | 'ca'>,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; host?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL(path, edge.edgeUrl);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      {
        method,
        ca: edge.ca,
        agent: false,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          ...(options.host ? { host: options.host } : {}),
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          let body: Record<string, unknown> = {};
          try {
            body = JSON.parse(text) as Record<string, unknown>;
          } catch {
            body = { text };
          }
          resolve({ status: response.statusCode ?? 0, body });
        });
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}
