// Opens one WebSocket tunnel to the edge for one local connection, and turns every way that can
// fail into an AirlockError that says what to do.
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { DEFAULTS, HEADER } from '../shared/constants.js';
import { AirlockError } from '../shared/errors.js';
import { transportError } from '../shared/transport-errors.js';
import { isEdgeRefusal } from '../shared/edge-response.js';
import type { EdgeTarget } from './edge-target.js';
import { edgeConnections, type EdgeConnections } from './edge-connections.js';

export interface DialOptions {
  target: EdgeTarget;
  headers: Record<string, string>;
  timeoutMs?: number;
  /** Ask the edge for a resumable stream (HEADER.resume); a resume carries HEADER.resumeToken instead. */
  resume?: boolean;
}

/** One set of edge connections (TLS context, session, spare) per edge target. */
const connections = new WeakMap<EdgeTarget, EdgeConnections>();

function connectionsFor(target: EdgeTarget): EdgeConnections {
  let found = connections.get(target);
  if (!found) connections.set(target, (found = edgeConnections(target)));
  return found;
}

/** Closes the spare connection kept for this target, if any (a listener that stops). */
export function releaseEdgeConnections(target: EdgeTarget): void {
  connections.get(target)?.close();
  connections.delete(target); // a listener started again on this target gets a fresh set
}

/** An open tunnel: the WebSocket and the TLS socket under it (corked to batch frames). */
export interface OpenTunnel {
  ws: WebSocket;
  socket: Socket;
  /** The edge agreed to carry half-close (HEADER.halfClose): no linger after the local program's FIN. */
  halfClose: boolean;
  /** The edge and connector agreed to a resumable stream (docs/architecture.md "Resumable streams"). */
  resume?: { token: string; windowMs: number; bufferBytes: number };
}

export async function dialTunnel(options: DialOptions): Promise<OpenTunnel> {
  const connections = connectionsFor(options.target);
  const { socket, spare } = connections.take();
  try {
    return await opened(connections, dialOver(socket, options));
  } catch (error) {
    // A spare can be closed by the edge just as it is taken; that is no reason to fail the user's
    // connection. Only a reset is retried (not a timeout, which would double the wait), once, on
    // a connection made for the purpose.
    if (!spare || !(error instanceof AirlockError) || !RETRIED_CAUSES.has(String(error.details.cause))) throw error;
    return opened(connections, dialOver(connections.take({ fresh: true }).socket, options));
  }
}

const RETRIED_CAUSES = new Set(['ECONNRESET', 'EPIPE']);

/** Tells the connection pool whether the edge answered, so no spares are made while it is down. */
async function opened(connections: EdgeConnections, dial: Promise<OpenTunnel>): Promise<OpenTunnel> {
  try {
    const tunnel = await dial;
    connections.report(true);
    return tunnel;
  } catch (error) {
    if (error instanceof AirlockError && error.code === 'EDGE_UNREACHABLE') connections.report(false);
    throw error;
  }
}

function dialOver(
  socket: Socket,
  { target, headers, timeoutMs = DEFAULTS.connectTimeoutMs, resume }: DialOptions,
): Promise<OpenTunnel> {
  return new Promise((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(target.url, {
        headers: {
          ...headers,
          host: target.hostHeader,
          [HEADER.halfClose]: '1',
          ...(resume && !headers[HEADER.resumeToken] ? { [HEADER.resume]: '1' } : {}),
        },
        // TLS is set up by edgeConnections (server name, CA, session resumption); this only uses it.
        createConnection: () => socket,
        perMessageDeflate: false, // TCP payloads are usually compressed or encrypted already
        handshakeTimeout: timeoutMs,
        maxPayload: DEFAULTS.maxFrameBytes,
        skipUTF8Validation: true,
        followRedirects: false,
      } as WebSocket.ClientOptions);
    } catch (error) {
      // e.g. a header value ws refuses: the connection just taken must not stay open unused
      socket.destroy();
      reject(new AirlockError('BAD_ARGUMENT', `cannot open a tunnel: ${(error as Error).message}`));
      return;
    }
    ws.binaryType = 'nodebuffer';
    const fail = (error: AirlockError) => {
      ws.removeAllListeners('open');
      ws.on('error', () => {}); // the handshake is over for us; later errors have no one to tell
      ws.terminate();
      reject(error);
    };
    let halfClose = false;
    let granted: OpenTunnel['resume'];
    ws.once('upgrade', (response) => {
      halfClose = response.headers[HEADER.halfClose] === '1';
      granted = resumeGrant(response);
    });
    ws.once('open', () => {
      ws.removeAllListeners('unexpected-response');
      resolve({ ws, socket, halfClose, ...(granted ? { resume: granted } : {}) });
    });
    ws.once('unexpected-response', (_request, response) => {
      readRefusal(response).then(
        (error) => fail(error),
        () => fail(edgeError(response.statusCode ?? 0, '')),
      );
    });
    ws.once('error', (error) => fail(transportError(error, target.edgeOrigin, target.port)));
  });
}

/** The 101's resume grant: a token and `WINDOW_MS,BUFFER_BYTES`, or nothing (plain protocol). */
function resumeGrant(response: IncomingMessage): OpenTunnel['resume'] {
  const token = response.headers[HEADER.resumeToken];
  const limits = /^(\d+),(\d+)$/.exec(String(response.headers[HEADER.resume] ?? ''));
  if (typeof token !== 'string' || !limits) return undefined;
  return { token, windowMs: Number(limits[1]), bufferBytes: Number(limits[2]) };
}

/**
 * GET on the application URL without an upgrade: the cheap way to learn at start-up whether the
 * credentials are accepted. 426 (Upgrade Required) means yes; refusals carry a JSON reason.
 */
export function checkAccess({ target, headers, timeoutMs = DEFAULTS.connectTimeoutMs }: DialOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = https.request({
      method: 'GET',
      host: target.host,
      port: target.port,
      path: '/',
      servername: target.servername,
      ...(target.ca ? { ca: target.ca } : {}),
      headers: { ...headers, host: target.hostHeader },
      timeout: timeoutMs,
      agent: false,
    });
    // uncoded: ETIMEDOUT becomes a coded transport error in the 'error' handler.
    request.on('timeout', () => request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    request.on('error', (error) => reject(transportError(error, target.edgeOrigin, target.port)));
    request.on('response', (response) => {
      if (response.statusCode === 426 || response.statusCode === 200) {
        response.resume();
        resolve();
      } else readRefusal(response).then(reject, reject);
    });
    request.end();
  });
}

async function readRefusal(response: IncomingMessage): Promise<AirlockError> {
  const status = response.statusCode ?? 0;
  if (status === 302) {
    const refused = response.headers[HEADER.tokenRefused];
    return new AirlockError('AUTH_REQUIRED', 'the edge asks for a sign-in for this application', {
      loginUrl: response.headers.location,
      aud: response.headers[HEADER.accessAud],
      // TOKEN_EXPIRED, TOKEN_REVOKED or TOKEN_INVALID: why the token sent was refused, if one was.
      ...(typeof refused === 'string' && /^TOKEN_[A-Z]+$/.test(refused) ? { tokenRefused: refused } : {}),
    });
  }
  let body = '';
  for await (const chunk of response) {
    body += chunk;
    if (body.length > 4096) break; // a refusal is a sentence, not a download
  }
  let message = '';
  let refusal: string | undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (isEdgeRefusal(parsed)) ({ message, error: refusal } = parsed);
  } catch {
    message = body.trim().slice(0, 200);
  }
  const retryAfter = Number(response.headers['retry-after']);
  return edgeError(status, message, Number.isFinite(retryAfter) ? retryAfter : undefined, refusal);
}

function edgeError(status: number, message: string, retryAfterSeconds?: number, refusal?: string): AirlockError {
  const said = message ? `: ${message}` : '';
  // A 429 for too many open streams of one identity is a limit on connections, not on this address.
  if (status === 429 && refusal === 'too_many_streams')
    return new AirlockError('EDGE_ERROR', `the edge answered HTTP ${status}${said}`, { status });
  switch (status) {
    case 429:
      return new AirlockError(
        'RATE_LIMITED',
        `the edge refuses this address for now${said}${retryAfterSeconds === undefined ? '' : ` (Retry-After: ${retryAfterSeconds} s)`}`,
        { status, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) },
      );
    case 403:
      return new AirlockError('ACCESS_DENIED', `the edge refused access${said}`, { status });
    case 410:
      return new AirlockError('RESUME_REFUSED', `the edge cannot resume this connection${said}`, { status });
    case 404:
      return new AirlockError('APP_NOT_FOUND', `the edge does not serve this hostname${said}`, { status });
    case 502:
      return new AirlockError('ORIGIN_FAILED', `the edge could not reach the service${said}`, { status });
    case 503:
      // Retry-After: the edge expects the connector back (a resume worth waiting for).
      return new AirlockError('NO_CONNECTOR', `the service is offline${said}`, {
        status,
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      });
    default:
      return new AirlockError('EDGE_ERROR', `the edge answered HTTP ${status}${said}`, { status });
  }
}
