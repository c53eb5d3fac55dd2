// Checks the edge's per-stream assertion (src/shared/stream-assertion.ts) before dialling an origin:
// signed by a key the edge publishes, for this tunnel, this hostname, this service and this stream.
import https from 'node:https';
import { isIP } from 'node:net';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { DEFAULTS, PATH, SSO } from '../shared/constants.js';
import { STREAM_ASSERTION } from '../shared/stream-assertion.js';

/** Unknown kids trigger a refetch (key rotation), but never more often than this. */
const REFRESH_INTERVAL_MS = 5_000;

export interface StreamFacts {
  hostname: string;
  authority: string;
  streamId: string;
}

export class StreamVerifier {
  private keySet: ReturnType<typeof createLocalJWKSet> | undefined;
  private fetchedAt = 0;
  private fetching: Promise<void> | undefined;

  constructor(
    private readonly edgeUrl: string,
    private readonly tunnelId: string,
    private readonly ca?: Buffer,
  ) {}

  /** Resolves to undefined when the stream may be opened, or to the reason it may not. */
  async check(assertion: string | undefined, facts: StreamFacts): Promise<string | undefined> {
    if (!assertion) return 'the edge sent no stream assertion';
    if (assertion.length > SSO.maxTokenBytes) return 'stream assertion too large';
    try {
      if (!this.keySet) await this.refresh();
      let payload;
      try {
        ({ payload } = await jwtVerify(assertion, this.keySet!, this.options()));
      } catch (error) {
        if ((error as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY' || Date.now() - this.fetchedAt < REFRESH_INTERVAL_MS) throw error;
        await this.refresh();
        ({ payload } = await jwtVerify(assertion, this.keySet!, this.options()));
      }
      if (payload.type !== STREAM_ASSERTION.type) return 'stream assertion has the wrong type';
      if (payload.tun !== this.tunnelId) return 'stream assertion is for another tunnel';
      if (payload.host !== facts.hostname) return 'stream assertion is for another hostname';
      if (payload.svc !== facts.authority) return 'stream assertion is for another service';
      if (payload.sid !== facts.streamId) return 'stream assertion is for another stream';
      return undefined;
    } catch (error) {
      return `stream assertion rejected: ${(error as Error).message}`;
    }
  }

  private options() {
    return { algorithms: [SSO.tokenAlgorithm], audience: `tunnel:${this.tunnelId}`, maxTokenAge: `${STREAM_ASSERTION.lifetimeSeconds}s`, clockTolerance: 5 };
  }

  private refresh(): Promise<void> {
    this.fetching ??= fetchJwks(this.edgeUrl, this.ca)
      .then((jwks) => {
        this.keySet = createLocalJWKSet(jwks);
        this.fetchedAt = Date.now();
      })
      .finally(() => (this.fetching = undefined));
    return this.fetching;
  }
}

function fetchJwks(edgeUrl: string, ca?: Buffer): Promise<JSONWebKeySet> {
  const url = new URL(PATH.certs, edgeUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const request = https.get(
      { host, port: url.port || DEFAULTS.edgePort, path: url.pathname, servername: isIP(host) ? '' : host, ...(ca ? { ca } : {}), agent: false, timeout: DEFAULTS.connectTimeoutMs },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
          if (body.length > 64 * 1024) request.destroy(new Error('JWKS too large'));
        });
        response.on('end', () => {
          try {
            if (response.statusCode !== 200) throw new Error(`edge answered ${response.statusCode} for its keys`);
            resolve(JSON.parse(body) as JSONWebKeySet);
          } catch (error) {
            reject(error);
          }
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error('timed out fetching the edge keys')));
    request.on('error', reject);
  });
}
