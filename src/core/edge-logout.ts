// `airlock access logout`: ask the edge to revoke the session of a stored token (its sid goes on
// the edge's revocation list), so a copy of the token left anywhere stops working too.
//
// Integration (CLI): const token = await store.get(edgeOrigin, aud);
//   if (token) await revokeAtEdge({ edgeOrigin, token, ca });   // then store.delete(edgeOrigin, aud)
// Resolves true when the edge revoked a live session, false when it was already dead.
import https from 'node:https';
import { DEFAULTS, HEADER, PATH } from '../shared/constants.js';
import { AirlockError, EGRESS_HINT } from '../shared/errors.js';

export interface RevokeOptions {
  edgeOrigin: string;
  token: string;
  ca?: Buffer | string;
}

export function revokeAtEdge({ edgeOrigin, token, ca }: RevokeOptions): Promise<boolean> {
  const url = new URL(PATH.logout, edgeOrigin);
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      {
        method: 'POST',
        headers: { [HEADER.accessToken]: token, accept: 'application/json', 'content-length': 0 },
        timeout: DEFAULTS.connectTimeoutMs,
        ...(ca ? { ca } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          try {
            const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { signed_out?: unknown };
            if (response.statusCode === 200 && typeof answer.signed_out === 'boolean') return resolve(answer.signed_out);
          } catch {
            // reported below
          }
          reject(new AirlockError('EDGE_ERROR', `the edge answered the sign-out with HTTP ${response.statusCode}`));
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', (error: NodeJS.ErrnoException) => {
      reject(new AirlockError('EDGE_UNREACHABLE', `cannot reach ${url.host} to sign out (${error.code ?? error.message}); ${EGRESS_HINT}`));
    });
    request.end();
  });
}
