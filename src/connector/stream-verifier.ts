// Checks the edge's per-stream assertion (src/shared/stream-assertion.ts) before dialling an origin:
// signed by a key the edge publishes, for this tunnel, this hostname, this service and this stream.
import https from 'node:https';
import { isIP } from 'node:net';
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JSONWebKeySet } from 'jose';
import { CLOCK, DEFAULTS, PATH, SSO } from '../shared/constants.js';
import { dialHostOfUrl, portOfUrl } from '../shared/host.js';
import { STREAM_ASSERTION } from '../shared/stream-assertion.js';
import { JwsError, verifyJwsEs256 } from '../shared/jws-es256.js';

/** Seconds of clock difference between edge and connector that are tolerated. */
const CLOCK_TOLERANCE_S = CLOCK.toleranceSeconds;

/** Unknown kids trigger a refetch (key rotation), but never more often than this. */
const REFRESH_INTERVAL_MS = 5_000;

export interface StreamFacts {
  hostname: string;
  authority: string;
  streamId: string;
}

export class StreamVerifier {
  private keys: Map<string, KeyObject> | undefined;
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
      if (!this.keys) await this.refresh();
      let payload;
      try {
        ({ payload } = verifyJwsEs256(assertion, (kid) => this.keys!.get(kid)));
      } catch (error) {
        if (
          !(error instanceof JwsError) ||
          error.code !== 'ERR_JWKS_NO_MATCHING_KEY' ||
          Date.now() - this.fetchedAt < REFRESH_INTERVAL_MS
        )
          throw error;
        await this.refresh();
        ({ payload } = verifyJwsEs256(assertion, (kid) => this.keys!.get(kid)));
      }
      const stale = timeProblem(payload, Math.floor(Date.now() / 1000));
      if (stale) return `stream assertion rejected: ${stale}`;
      if (payload.aud !== `tunnel:${this.tunnelId}`) return 'stream assertion rejected: it is for another tunnel (aud)';
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

  private refresh(): Promise<void> {
    this.fetching ??= fetchJwks(this.edgeUrl, this.ca)
      .then((jwks) => {
        this.keys = publicKeys(jwks);
        this.fetchedAt = Date.now();
      })
      .finally(() => (this.fetching = undefined));
    return this.fetching;
  }
}

function fetchJwks(edgeUrl: string, ca?: Buffer): Promise<JSONWebKeySet> {
  const url = new URL(PATH.certs, edgeUrl);
  const host = dialHostOfUrl(url);
  return new Promise((resolve, reject) => {
    const request = https.get(
      {
        host,
        port: portOfUrl(url),
        path: url.pathname,
        servername: isIP(host) ? '' : host,
        ...(ca ? { ca } : {}),
        agent: false,
        timeout: DEFAULTS.connectTimeoutMs,
      },
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

/** The ES256 keys of a JWKS by kid; other kinds of key are not ours to use and are skipped. */
function publicKeys(jwks: JSONWebKeySet): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const jwk of jwks.keys ?? []) {
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.kid !== 'string') continue;
    if ((jwk.alg && jwk.alg !== SSO.tokenAlgorithm) || (jwk.use && jwk.use !== 'sig')) continue;
    try {
      keys.set(
        jwk.kid,
        createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } as JsonWebKey, format: 'jwk' }),
      );
    } catch {
      // One unusable key (not a point on the curve) must not cost the others.
    }
  }
  return keys;
}

/** exp, iat (at most the assertion's lifetime ago, not in the future) and nbf, each with tolerance. */
export function timeProblem(payload: Record<string, unknown>, now: number): string | undefined {
  const { exp, iat, nbf } = payload;
  if (typeof exp !== 'number' || typeof iat !== 'number') return 'exp and iat are required';
  if (now - CLOCK_TOLERANCE_S >= exp) return 'it has expired (exp)';
  if (iat > now + CLOCK_TOLERANCE_S) return 'it was issued in the future (iat)';
  if (now - iat > STREAM_ASSERTION.lifetimeSeconds + CLOCK_TOLERANCE_S) return 'it is too old (iat)';
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + CLOCK_TOLERANCE_S))
    return 'it is not valid yet (nbf)';
  return undefined;
}
