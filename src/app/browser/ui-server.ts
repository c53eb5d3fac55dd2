// Browser mode (`airlock ui`): the built renderer on 127.0.0.1 and the UI contract over a local
// WebSocket. Any web page the user visits can reach 127.0.0.1 too, so every request must carry the
// session cookie obtained with the one-time token from the printed URL, the Host header must name
// this loopback server (DNS rebinding) and the WebSocket's Origin must be this server (CSWSH).
// Cookies are not isolated by port, so a listener on another local port can be sent the cookie:
// the API socket also wants a per-session secret that only the page holds. It reaches the page
// once, in the fragment of the redemption redirect (never sent to any server), and the page keeps
// it in sessionStorage (isolated by origin, port included) and offers it as a WebSocket subprotocol.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  UI_SOCKET_PATH,
  dispatch,
  type ApiEvent,
  type ApiService,
  type SocketMessage,
} from '../../shared/contract/api.js';

/** Cookies are not isolated by port: name the cookie after it, so two `airlock ui` runs never clobber each other. */
export function sessionCookieName(port: number): string {
  return `airlock_ui_${port}`;
}
const MAX_MESSAGE_BYTES = 1024 * 1024;
/** The subprotocol the page offers: `${UI_SECRET_PROTOCOL}.${secret}`; the fragment key that delivers it. */
export const UI_SECRET_PROTOCOL = 'airlock-ui';
export const UI_SECRET_FRAGMENT = 'airlock-ui-secret';

export interface UiServerOptions {
  /** The service behind the UI (a ResourceManager), and where its events come from. */
  service: ApiService & {
    on(event: 'event', listener: (event: ApiEvent) => void): unknown;
    off(event: 'event', listener: (event: ApiEvent) => void): unknown;
  };
  /** The built renderer (dist/renderer). */
  staticDir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** The one-time token; random by default (tests pass their own). */
  token?: string;
}

export interface UiServer {
  /** Open this once: it carries the one-time token (printed only when the user asks for it). */
  url: string;
  /** http://127.0.0.1:PORT, without the token. */
  origin: string;
  /** The one-time token, for a launch page that POSTs it (src/app/browser/ui-launch-page.ts). */
  token: string;
  port: number;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  let oneTimeToken: string | undefined = options.token ?? randomBytes(24).toString('base64url');
  /** Session cookie → the page secret handed out with it. */
  const sessions = new Map<string, string>();
  const root = resolve(options.staticDir);
  let port = 0;

  const allowedHosts = () => [`127.0.0.1:${port}`, `localhost:${port}`];
  const allowedOrigins = () => allowedHosts().map((host) => `http://${host}`);
  const securityHeaders = () => ({
    'Content-Security-Policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "font-src 'self'",
      `connect-src ${allowedHosts()
        .map((host) => `ws://${host}`)
        .join(' ')}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    // The token is in the first URL; never let it leak to another site.
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  });
  const sessionOf = (request: http.IncomingMessage) => {
    const value = cookieValue(request.headers.cookie, sessionCookieName(port));
    return value === undefined ? undefined : [...sessions].find(([session]) => sameSecret(session, value));
  };
  const hasSession = (request: http.IncomingMessage) => sessionOf(request) !== undefined;
  /** The page's secret, offered as a subprotocol: what a replayed cookie alone cannot supply. */
  const offersSecret = (request: http.IncomingMessage, secret: string) =>
    String(request.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .some((offered) => sameSecret(offered.trim(), `${UI_SECRET_PROTOCOL}.${secret}`));
  const refuse = (response: http.ServerResponse, status: number, message: string) => {
    response.writeHead(status, { ...securityHeaders(), 'Content-Type': 'text/plain; charset=utf-8' });
    response.end(`${message}\n`);
  };

  const server = http.createServer(async (request, response) => {
    if (!allowedHosts().includes(request.headers.host ?? ''))
      return refuse(response, 421, 'wrong Host: open the address printed by `airlock ui`');
    const url = new URL(request.url ?? '/', `http://${request.headers.host}`);
    const redeem = (offered: string, viaPost: boolean) => {
      if (!oneTimeToken || !sameSecret(offered, oneTimeToken))
        return refuse(response, 403, 'this link has expired or was already used: run `airlock ui` again for a new one');
      oneTimeToken = undefined;
      const session = randomBytes(32).toString('base64url');
      const secret = randomBytes(32).toString('base64url');
      sessions.set(session, secret);
      const cookie = `${sessionCookieName(port)}=${session}; HttpOnly; SameSite=Strict; Path=/`;
      const next = `/#${UI_SECRET_FRAGMENT}=${secret}`;
      if (!viaPost) {
        response.writeHead(303, { ...securityHeaders(), Location: next, 'Set-Cookie': cookie });
        return response.end();
      }
      // The launch page is a local file (a cross-site POST): a Strict cookie would not ride the
      // redirect of that navigation, so this page moves on from our own origin instead.
      // (To `/?launched`: a refresh to `/#…` from this POST's answer at `/` would change only the fragment.)
      response.writeHead(200, {
        ...securityHeaders(),
        'Content-Type': 'text/html; charset=utf-8',
        'Set-Cookie': cookie,
      });
      return response.end(
        `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=/?launched${next.slice(1)}"><title>Airlock</title><a href="/?launched${next.slice(1)}">Open Airlock</a>`,
      );
    };
    // The launch page posts the token (it never appears in a command line or a URL).
    if (request.method === 'POST' && url.pathname === '/') {
      const body = await readSmallBody(request);
      return redeem(new URLSearchParams(body ?? '').get('token') ?? '', true);
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(response, 405, 'method not allowed');
    const offered = url.searchParams.get('token');
    if (offered !== null) return redeem(offered, false);
    if (!hasSession(request))
      return refuse(
        response,
        401,
        'not signed in to this UI: open the address printed by `airlock ui` (it carries a one-time token)',
      );
    await serveFile(root, url.pathname, response, securityHeaders());
  });

  const sockets = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    // A browser wants the offered subprotocol echoed; it names the secret already checked above.
    handleProtocols: (protocols) => [...protocols].find((name) => name.startsWith(`${UI_SECRET_PROTOCOL}.`)) ?? false,
  });
  server.on('upgrade', (request, socket, head) => {
    const deny = (status: number, reason: string) => {
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    if (!allowedHosts().includes(request.headers.host ?? '')) return deny(421, 'Misdirected Request');
    // The exact origin of the page this request claims to come from: the Host it was sent to.
    const origin = request.headers.origin ?? '';
    if (!allowedOrigins().includes(origin) || origin !== `http://${request.headers.host}`)
      return deny(403, 'Forbidden');
    const session = sessionOf(request);
    if (!session || !offersSecret(request, session[1])) return deny(401, 'Unauthorized');
    if (path !== UI_SOCKET_PATH) return deny(404, 'Not Found');
    sockets.handleUpgrade(request, socket, head, (ws) => serveSocket(ws, options.service));
  });

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  port = (server.address() as AddressInfo).port;
  const token = oneTimeToken!;

  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    origin: `http://127.0.0.1:${port}`,
    token,
    port,
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
    },
  };
}

async function serveFile(
  root: string,
  pathname: string,
  response: http.ServerResponse,
  headers: Record<string, string>,
): Promise<void> {
  let relative: string;
  try {
    relative = decodeURIComponent(pathname);
  } catch {
    relative = '/';
  }
  let path = resolve(join(root, relative));
  if (path !== root && !path.startsWith(root + sep)) path = join(root, 'index.html');
  let file: Buffer;
  try {
    if (!(await stat(path)).isFile()) throw new Error('not a file');
    file = await readFile(path);
  } catch {
    // A single-page app: unknown paths get the app, which shows its own screens.
    path = join(root, 'index.html');
    try {
      file = await readFile(path);
    } catch {
      response.writeHead(500, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      response.end('the UI is not built: run `npm run build:ui`\n');
      return;
    }
  }
  response.writeHead(200, { ...headers, 'Content-Type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream' });
  response.end(file);
}

function serveSocket(ws: WebSocket, service: UiServerOptions['service']): void {
  const send = (message: SocketMessage) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };
  const forward = (event: ApiEvent) => send({ event });
  service.on('event', forward);
  ws.on('close', () => service.off('event', forward));
  ws.on('error', () => ws.terminate());
  ws.on('message', async (data, isBinary) => {
    let request: { id?: unknown; method?: unknown; params?: unknown };
    try {
      if (isBinary) throw new Error('binary');
      request = JSON.parse(String(data));
    } catch {
      ws.close(1003, 'expected JSON text frames');
      return;
    }
    if (typeof request !== 'object' || request === null || typeof request.id !== 'number') {
      ws.close(1008, 'every request needs a numeric id');
      return;
    }
    const result = await dispatch(service, request.method, request.params);
    send({ id: request.id, ...result });
  });
}

/** A form post of a few hundred bytes at most: anything larger is not the launch page. */
async function readSmallBody(request: http.IncomingMessage): Promise<string | undefined> {
  let body = '';
  for await (const chunk of request as AsyncIterable<Buffer>) {
    body += chunk.toString('utf8');
    if (body.length > 1024) return undefined;
  }
  return body;
}
