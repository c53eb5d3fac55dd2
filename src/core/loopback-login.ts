// Native-app sign-in (RFC 8252; docs/architecture.md "Sign-in in brief"): a one-shot http listener on 127.0.0.1:RANDOM,
// the system browser at the edge's PATH.cli, a one-time code back on /callback, and the code +
// PKCE verifier exchanged for an app token over TLS.
//
// Integration (src/core/sign-in.ts and sso-auth.ts, `airlock tunnel login`):
//   const { token, expiresAt, organisation } = await loginWithBrowser({
//     edgeOrigin: signInOrigin, aud, hostname, ca: target.ca, dial: target,
//     openBrowser: async (url) => { try { await open(url); return true; } catch { return false; } },
//     print: (message) => console.error(message),
//   });
// edgeOrigin is the edge's sign-in origin (from the app host's 302); `organisation` is the session
// that mints the edge's other app tokens (src/core/organisation-session.ts).
// Errors: LOGIN_TIMEOUT (nobody finished in time), LOGIN_FAILED (the edge refused the code),
// EDGE_UNREACHABLE / TLS_FAILED (the token request could not be made).
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULTS, PATH, SSO } from '../shared/constants.js';
import { AirlockError } from '../shared/errors.js';
import { dialByName, edgeRequest, type EdgeDial } from './edge-http.js';

export interface LoopbackLoginOptions {
  /** https://SIGNIN[:port]: the edge's sign-in origin, where the browser goes and the code is traded. */
  edgeOrigin: string;
  aud: string;
  /** The application, for messages and the browser page. */
  hostname: string;
  /** Extra CA to trust for the edge (development); the system store otherwise. */
  ca?: Buffer | string;
  /** Where to send the token request: the resource's edge target (its --edge address); else by name. */
  dial?: EdgeDial;
  /** Opens the system browser; false (or a throw) means headless: the URL is printed instead. */
  openBrowser: (url: string) => Promise<boolean>;
  print: (message: string) => void;
  timeoutMs?: number;
  /** What to run to try again, for the timeout message (default `airlock access login HOSTNAME`). */
  retryCommand?: string;
  /** Told the sign-in page's URL as soon as it exists, so an app can show it (not only a terminal). */
  onUrl?: (url: string) => void;
  /** Cancels the sign-in: it rejects with LOGIN_CANCELLED and the loopback listener closes. */
  signal?: AbortSignal;
}

export interface LoginResult {
  token: string;
  expiresAt: Date;
  /** The organisation session this sign-in started: it mints the edge's other app tokens. */
  organisation?: { token: string; expiresAt: Date };
}

export async function loginWithBrowser(options: LoopbackLoginOptions): Promise<LoginResult> {
  const timeoutMs = options.timeoutMs ?? SSO.loopbackTimeoutMs;
  const state = randomBytes(32).toString('base64url');
  const codeVerifier = randomBytes(32).toString('base64url');
  const codeChallenge = createHash('sha256').update(codeVerifier).digest('base64url');

  const server = http.createServer();
  server.requestTimeout = 30_000;
  // RFC 8252 §8.3: the loopback IP literal, not "localhost", which may resolve elsewhere or to ::1 only.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, DEFAULTS.localHost, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const redirectUrl = `http://${DEFAULTS.localHost}:${port}${SSO.loopbackCallbackPath}`;
  const loginUrl = new URL(PATH.cli, options.edgeOrigin);
  loginUrl.search = new URLSearchParams({
    aud: options.aud,
    redirect_url: redirectUrl,
    state,
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
  }).toString();

  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<LoginResult>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(
          new AirlockError(
            'LOGIN_TIMEOUT',
            `sign-in timed out after ${describeDuration(timeoutMs)}; run \`${options.retryCommand ?? `airlock access login ${options.hostname}`}\` to try again`,
          ),
        );
      }, timeoutMs);
      onAbort = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new AirlockError('LOGIN_CANCELLED', `the sign-in to ${options.hostname} was cancelled`));
      };
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });

      server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
        const refusal = refuseRequest(req, state);
        if (refusal) return page(res, refusal.status, refusal.title, refusal.message);
        if (settled)
          return page(
            res,
            409,
            'Sign-in already finished',
            'This sign-in has already finished. You may close this tab.',
          );
        settled = true;
        clearTimeout(timer);
        const query = new URL(req.url!, redirectUrl).searchParams;
        if (query.get('error')) {
          const denied = query.get('error') === 'access_denied';
          const message = denied
            ? `your account is not allowed to reach ${options.hostname}; ask your administrator for access`
            : `the edge refused the sign-in (${query.get('error')!.slice(0, 64)})`;
          page(
            res,
            403,
            denied ? 'Access denied' : 'Sign-in failed',
            `${message[0]!.toUpperCase()}${message.slice(1)}.`,
          );
          reject(new AirlockError(denied ? 'ACCESS_DENIED' : 'LOGIN_FAILED', message));
          return;
        }
        const code = query.get('code')!;
        exchangeCode(options, code, codeVerifier).then(
          (result) => {
            page(
              res,
              200,
              `Signed in to ${options.hostname}`,
              `Signed in to ${options.hostname} — you may close this tab.`,
            );
            resolve(result);
          },
          (error: AirlockError) => {
            page(res, 502, 'Sign-in failed', `${error.message}`);
            reject(error);
          },
        );
      });

      options.onUrl?.(loginUrl.href);
      void openOrPrint(options, loginUrl.href);
    });
  } finally {
    if (onAbort) options.signal?.removeEventListener('abort', onAbort);
    server.close();
    server.closeIdleConnections();
  }
}

/** Why a request to the loopback listener is not the edge's redirect, or undefined when it is. */
function refuseRequest(
  req: http.IncomingMessage,
  state: string,
): { status: number; title: string; message: string } | undefined {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method !== 'GET' || url.pathname !== SSO.loopbackCallbackPath)
    return { status: 404, title: 'Not found', message: 'Nothing here.' };
  // The edge's redirect is a top-level navigation: no Origin header. A script on some web page
  // (fetch, img, form POST) carries one, or announces a non-navigation fetch mode.
  const origin = req.headers.origin;
  const mode = req.headers['sec-fetch-mode'];
  if ((origin !== undefined && origin !== 'null') || (mode !== undefined && mode !== 'navigate')) {
    return { status: 403, title: 'Refused', message: 'This request did not come from the Airlock sign-in page.' };
  }
  if (url.searchParams.get('state') !== state || !(url.searchParams.get('code') || url.searchParams.get('error'))) {
    return {
      status: 400,
      title: 'Sign-in link mismatch',
      message: 'This link does not belong to the sign-in in progress. Go back to the application and start again.',
    };
  }
  return undefined;
}

async function openOrPrint(options: LoopbackLoginOptions, url: string): Promise<void> {
  let opened = false;
  try {
    opened = await options.openBrowser(url);
  } catch {
    opened = false;
  }
  // xdg-open and friends can "succeed" without showing anything: the URL is always there to copy.
  if (opened)
    options.print(
      `Sign in to ${options.hostname} in the browser window that just opened (or open this URL):\n  ${url}`,
    );
  else options.print(`Open this URL in a browser to sign in to ${options.hostname}:\n  ${url}`);
}

async function exchangeCode(options: LoopbackLoginOptions, code: string, codeVerifier: string): Promise<LoginResult> {
  const url = new URL(PATH.token, options.edgeOrigin);
  const response = await edgeRequest(options.dial ?? dialByName(options.ca), url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ code, code_verifier: codeVerifier }),
  });
  let answer: {
    token?: unknown;
    expires_at?: unknown;
    error_description?: unknown;
    organisation_token?: unknown;
    organisation_expires_at?: unknown;
  };
  try {
    answer = JSON.parse(response.body);
  } catch {
    throw new AirlockError(
      'EDGE_ERROR',
      `the edge answered the token request with HTTP ${response.status} and no JSON`,
    );
  }
  if (response.status !== 200 || typeof answer.token !== 'string' || typeof answer.expires_at !== 'number') {
    const reason = typeof answer.error_description === 'string' ? answer.error_description : `HTTP ${response.status}`;
    throw new AirlockError('LOGIN_FAILED', `the edge refused the sign-in code: ${reason}`);
  }
  const organisation =
    typeof answer.organisation_token === 'string' && typeof answer.organisation_expires_at === 'number'
      ? {
          organisation: {
            token: answer.organisation_token,
            expiresAt: new Date(answer.organisation_expires_at * 1000),
          },
        }
      : {};
  return { token: answer.token, expiresAt: new Date(answer.expires_at * 1000), ...organisation };
}

function page(res: http.ServerResponse, status: number, title: string, message: string): void {
  const escape = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'close',
  });
  res.end(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head>` +
      `<body style="font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:15vh auto"><h1 style="font-size:1.25rem">${escape(title)}</h1><p>${escape(message)}</p></body></html>`,
  );
}

function describeDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} minute${ms === 60_000 ? '' : 's'}`;
  return `${Math.round(ms / 100) / 10} seconds`;
}
