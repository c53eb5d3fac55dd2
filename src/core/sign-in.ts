// Sign-in for one application on one edge: reuse the stored token, or run the browser login
// (src/core/loopback-login.ts) when the edge answers 302, then store the new token.
// Used by the CLI and the tray app alike.
import { AirlockError, isAirlockError } from '../shared/errors.js';
import { credentialHeaders, type Credential } from './credentials.js';
import type { EdgeTarget } from './edge-target.js';
import { loginWithBrowser } from './loopback-login.js';
import type { TokenStore } from './token-store.js';
import { checkAccess } from './tunnel-dial.js';
import { revokeAtEdge } from './edge-logout.js';
import https from 'node:https';
import { DEFAULTS, PATH } from '../shared/constants.js';

export interface AppSessionOptions {
  target: EdgeTarget;
  store: TokenStore;
  openBrowser: (url: string) => Promise<boolean>;
  print: (message: string) => void;
  headers?: Record<string, string>;
  loginTimeoutMs?: number;
}

export interface AppSession {
  /** For LocalListener: the stored token, if any. */
  credential(): Promise<Credential>;
  /** For LocalListener: the edge said 302; sign in again. */
  onAuthRequired(error: AirlockError): Promise<void>;
  /** Makes sure a token the edge accepts is stored, signing in if needed. Returns the token. */
  ensureSignedIn(): Promise<string>;
  /** Revokes the session at the edge (best effort) and forgets the token. */
  signOut(): Promise<boolean>;
  aud(): string | undefined;
}

export function createAppSession(options: AppSessionOptions): AppSession {
  const { target, store } = options;
  let aud: string | undefined;

  const stored = async () => (aud ? store.get(target.edgeOrigin, aud) : undefined);

  async function probe(credential: Credential): Promise<AirlockError | undefined> {
    try {
      await checkAccess({ target, headers: { ...options.headers, ...credentialHeaders(credential) } });
      return undefined;
    } catch (error) {
      if (!isAirlockError(error) || error.code !== 'AUTH_REQUIRED') throw error;
      if (typeof error.details.aud === 'string') aud = error.details.aud;
      return error;
    }
  }

  async function login(): Promise<string> {
    if (!aud) throw new AirlockError('AUTH_REQUIRED', `the edge did not name the application (no CF-Access-Aud header) for ${target.hostHeader}`);
    if ((await edgeStatus(target, PATH.cli)) === 501) {
      throw new AirlockError('AUTH_REQUIRED', `${target.hostHeader} needs credentials and its edge has no single sign-on: pass a service token (--service-token-id and --service-token-secret)`);
    }
    await store.delete(target.edgeOrigin, aud);
    const { token } = await loginWithBrowser({
      edgeOrigin: target.edgeOrigin,
      aud,
      hostname: target.hostHeader,
      ...(target.ca ? { ca: target.ca } : {}),
      openBrowser: options.openBrowser,
      print: options.print,
      ...(options.loginTimeoutMs ? { timeoutMs: options.loginTimeoutMs } : {}),
    });
    await store.set(target.edgeOrigin, aud, token);
    return token;
  }

  return {
    async credential() {
      const token = await stored();
      return token ? { kind: 'app-token', token } : { kind: 'none' };
    },
    async onAuthRequired(error) {
      if (typeof error.details.aud === 'string') aud = error.details.aud;
      await login();
    },
    async ensureSignedIn() {
      if (!aud) {
        const refusal = await probe({ kind: 'none' });
        if (!refusal) throw new AirlockError('EDGE_ERROR', `${target.hostHeader} let an anonymous request in: refusing to send a token to it`);
      }
      const token = await stored();
      if (token && !(await probe({ kind: 'app-token', token }))) return token;
      const fresh = await login();
      const stillRefused = await probe({ kind: 'app-token', token: fresh });
      if (stillRefused) throw new AirlockError('AUTH_REQUIRED', `the edge did not accept the new token for ${target.hostHeader}`);
      return fresh;
    },
    async signOut() {
      if (!aud) await probe({ kind: 'none' }).catch(() => undefined);
      if (!aud) return false;
      const token = await stored();
      const revoked = token ? await revokeAtEdge({ edgeOrigin: target.edgeOrigin, token, ...(target.ca ? { ca: target.ca } : {}) }).catch(() => false) : false;
      await store.delete(target.edgeOrigin, aud);
      return revoked;
    },
    aud: () => aud,
  };
}

/** Status of a GET on the edge itself (not on the app): used to learn whether sign-in exists. */
function edgeStatus(target: EdgeTarget, path: string): Promise<number> {
  const url = new URL(path, target.edgeOrigin);
  return new Promise((resolve) => {
    const request = https.get(
      {
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port,
        path: url.pathname,
        servername: target.servername,
        ...(target.ca ? { ca: target.ca } : {}),
        agent: false,
        timeout: DEFAULTS.connectTimeoutMs,
      },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(0)); // the login itself will report an unreachable edge
  });
}
