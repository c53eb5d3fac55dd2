// The operator side of the edge's admin API: JSON over TLS with the operator credential.
// Refusals come back as AirlockError carrying the edge's own message and its error in details.
import https from 'node:https';
import { DEFAULTS, PATH } from '../../shared/constants.js';
import { AirlockError } from '../../shared/errors.js';
import { portOfUrl } from '../../shared/host.js';
import { transportError } from '../../shared/transport-errors.js';

export interface AdminTarget {
  edgeOrigin: string;
  token: string;
  ca?: Buffer;
}

export function adminRequest<T = Record<string, unknown>>(
  target: AdminTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const url = new URL(`${PATH.adminPrefix}${path}`, target.edgeOrigin);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      {
        method,
        timeout: DEFAULTS.connectTimeoutMs,
        agent: false,
        ...(target.ca ? { ca: target.ca } : {}),
        headers: {
          authorization: `Bearer ${target.token}`,
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('error', reject);
        response.on('end', () => {
          let answer: Record<string, unknown>;
          try {
            answer = JSON.parse(text) as Record<string, unknown>;
          } catch {
            return reject(
              new AirlockError(
                'EDGE_ERROR',
                `the edge answered ${method} ${url.pathname} with HTTP ${response.statusCode} and no JSON`,
              ),
            );
          }
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve(answer as T);
          const message = typeof answer.message === 'string' ? answer.message : `HTTP ${status}`;
          const code =
            answer.error === 'no_policy'
              ? 'NO_POLICY'
              : answer.error === 'route_taken'
                ? 'ROUTE_TAKEN'
                : status === 429
                  ? 'RATE_LIMITED'
                  : status === 401
                    ? 'AUTH_REQUIRED'
                    : status === 403
                      ? 'ACCESS_DENIED'
                      : status === 400
                        ? 'BAD_ARGUMENT'
                        : 'EDGE_ERROR';
          reject(new AirlockError(code, message, { status, error: answer.error }));
        });
      },
    );
    // uncoded: the 'error' handler below turns it into a coded transport error.
    request.on('timeout', () => request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    request.on('error', (error: NodeJS.ErrnoException) => reject(transportError(error, url.origin, portOfUrl(url))));
    request.end(payload);
  });
}
