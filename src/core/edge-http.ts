// One https request to a URL of this edge: the sign-in origin's endpoints or an app host's
// /authorized. With --edge, the request goes to that address (as tunnels do) under the URL's own
// Host and TLS server name, so an edge reached by address still proves it owns the name.
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { DEFAULTS } from '../shared/constants.js';
import { dialHostOfUrl, portOfUrl } from '../shared/host.js';
import { transportError } from '../shared/transport-errors.js';
import type { EdgeTarget } from './edge-target.js';

export interface EdgeResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface EdgeRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

/** Answers the edge sends here are small (JSON, a page): anything longer is cut, never buffered. */
const MAX_BODY_CHARS = 64 * 1024;

/** How to reach the edge: its address when --edge named one, and the CA to trust. */
export type EdgeDial = Pick<EdgeTarget, 'explicitEdge' | 'host' | 'port' | 'servername' | 'ca'>;

/** Dial each URL's own host (DNS), trusting `ca` besides the system store. */
export function dialByName(ca?: Buffer | string): EdgeDial {
  return { explicitEdge: false, host: '', port: 0, servername: '', ...(ca ? { ca: Buffer.from(ca) } : {}) };
}

export function edgeRequest(target: EdgeDial, url: URL, init: EdgeRequestInit = {}): Promise<EdgeResponse> {
  const name = dialHostOfUrl(url);
  const host = target.explicitEdge ? target.host : name;
  const port = target.explicitEdge ? target.port : portOfUrl(url);
  return new Promise((resolve, reject) => {
    const request = https.request({
      method: init.method ?? 'GET',
      host,
      port,
      path: `${url.pathname}${url.search}`,
      servername: isIP(name) ? (target.explicitEdge ? target.servername : '') : name,
      ...(target.ca ? { ca: target.ca } : {}),
      headers: {
        host: url.host,
        ...init.headers,
        ...(init.body !== undefined ? { 'content-length': String(Buffer.byteLength(init.body)) } : {}),
      },
      timeout: init.timeoutMs ?? DEFAULTS.connectTimeoutMs,
      agent: false,
    });
    // uncoded: ETIMEDOUT becomes a coded transport error in the 'error' handler.
    request.on('timeout', () => request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    request.on('error', (error: NodeJS.ErrnoException) => reject(transportError(error, url.origin, port)));
    request.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (body.length < MAX_BODY_CHARS) body += chunk.slice(0, MAX_BODY_CHARS - body.length);
      });
      response.on('error', (error: NodeJS.ErrnoException) => reject(transportError(error, url.origin, port)));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    request.end(init.body);
  });
}

/** The value of one cookie a response sets (Set-Cookie), if it sets it to something. */
export function responseCookie(response: EdgeResponse, name: string): string | undefined {
  for (const line of response.headers['set-cookie'] ?? []) {
    const [pair = ''] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name && pair.slice(eq + 1).trim()) return pair.slice(eq + 1).trim();
  }
  return undefined;
}
