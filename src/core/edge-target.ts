// Where the client dials for a hostname: https://HOSTNAME:443 as cloudflared does, or an explicit
// edge URL (development) that serves the hostname by its Host header.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { AirlockError } from '../shared/errors.js';
import { DEFAULTS } from '../shared/constants.js';
import { dialHostOfUrl } from '../shared/host.js';

export interface EdgeTarget {
  /** wss:// URL actually dialled. */
  url: string;
  /** Where every connection for this target goes: the edge's address and port (443 by default). */
  host: string;
  port: number;
  /** True when --edge named the edge: sign-in requests then go to this address too (see edgeRequestTarget). */
  explicitEdge: boolean;
  /** Host header: the application's hostname (the edge routes by it). */
  hostHeader: string;
  /** TLS server name (SNI) of the edge itself, never the app's: '' for an IP address (no SNI). */
  servername: string;
  /** https:// base of the edge, for login and token endpoints. */
  edgeOrigin: string;
  ca?: Buffer;
}

export interface EdgeTargetOptions {
  hostname: string;
  edge?: string;
  caFile?: string;
}

export function resolveEdgeTarget({ hostname, edge, caFile }: EdgeTargetOptions): EdgeTarget {
  if (!/^[a-z0-9.-]+$/i.test(hostname) || hostname.length > 253) {
    throw new AirlockError('BAD_ARGUMENT', `"${hostname}" is not a valid hostname`);
  }
  let base: URL;
  try {
    base = new URL(edge ?? `https://${hostname}:${DEFAULTS.edgePort}`);
  } catch {
    throw new AirlockError('BAD_ARGUMENT', `--edge "${edge}" is not a URL (expected e.g. https://edge.example.com)`);
  }
  if (base.protocol !== 'https:' && base.protocol !== 'wss:') {
    throw new AirlockError('BAD_ARGUMENT', `--edge must be an https:// URL (TLS is always verified), got "${edge}"`);
  }
  const port = base.port ? Number(base.port) : DEFAULTS.edgePort;
  const edgeHost = dialHostOfUrl(base);
  const servername = isIP(edgeHost) ? '' : edgeHost;
  let ca: Buffer | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile);
    } catch (error) {
      throw new AirlockError('BAD_ARGUMENT', `cannot read --ca file ${caFile}: ${(error as Error).message}`);
    }
  }
  return {
    url: `wss://${base.hostname}:${port}/`,
    host: edgeHost,
    port,
    explicitEdge: edge !== undefined,
    hostHeader: hostname,
    servername,
    edgeOrigin: `https://${base.hostname}:${port}`,
    ...(ca ? { ca } : {}),
  };
}
