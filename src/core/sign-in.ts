// Sign-in for one application on one edge, used by the CLI and the tray app alike: reuse the
// stored app token; else let the edge's organisation session (one per edge, kept beside the app
// tokens) mint one with no browser; else run the browser login (src/core/loopback-login.ts) at the
// edge's sign-in origin, which also hands over the organisation session for the next apps.
import { AirlockError, describeFailure, isAirlockError } from '../shared/errors.js';
import { PATH } from '../shared/constants.js';
import { credentialHeaders, type Credential } from './credentials.js';
import { edgeRequest } from './edge-http.js';
import type { EdgeTarget } from './edge-target.js';
import { loginWithBrowser } from './loopback-login.js';
import {
  appSignInFrom,
  exchangeOrganisationToken,
  ORGANISATION_ACCOUNT,
  type AppSignIn,
} from './organisation-session.js';
import type { TokenStore } from './token-store.js';
import { checkAccess } from './tunnel-dial.js';
import { revokeAtEdge } from './edge-logout.js';

export interface AppSessionOptions {
  target: EdgeTarget;
  store: Pick<TokenStore, 'get' | 'set' | 'delete' | 'clearIssuer'>;
  openBrowser: (url: string) => Promise<boolean>;
  print: (message: string) => void;
  headers?: Record<string, string>;
  loginTimeoutMs?: number;
  /** What to run to sign in again after a browser sign-in timed out (default `airlock access login HOST`). */
  retryCommand?: string;
}

export interface AppSession {
  /** For LocalListener: the stored token, if any. */
  credential(): Promise<Credential>;
  /** For LocalListener: the edge said 302; sign in again. */
  onAuthRequired(error: AirlockError): Promise<void>;
  /**
   * For a connection that must not wait on a sign-in no one may be watching: a token from the
   * organisation session when one is good; else the browser sign-in starts in the background (once,
   * its URL printed) and this resolves at once with that URL.
   */
  signInWithoutWaiting(error: AirlockError): Promise<{ signedIn: true } | { signedIn: false; url: string }>;
  /** Makes sure a token the edge accepts is stored, signing in if needed. Returns the token. */
  ensureSignedIn(): Promise<string>;
  /** Ends the organisation session at the edge (best effort) and forgets every token it issued. */
  signOut(): Promise<boolean>;
  aud(): string | undefined;
  /** The edge's sign-in origin, once an app host has named it. */
  signInOrigin(): string | undefined;
  /** How the last sign-in went: 'stored', 'session' (no browser) or 'browser'. */
  lastSignIn(): SignInKind | undefined;
}

export type SignInKind = 'stored' | 'session' | 'browser';

export function createAppSession(options: AppSessionOptions): AppSession {
  const { target, store } = options;
  let app: AppSignIn | undefined;
  let last: SignInKind | undefined;

  const stored = async () => (app ? store.get(target.edgeOrigin, app.aud) : undefined);

  const learn = (error: AirlockError) => {
    app = appSignInFrom(error.details, target.edgeOrigin) ?? app;
  };

  async function probe(credential: Credential): Promise<AirlockError | undefined> {
    try {
      await checkAccess({ target, headers: { ...options.headers, ...credentialHeaders(credential) } });
      return undefined;
    } catch (error) {
      if (!isAirlockError(error) || error.code !== 'AUTH_REQUIRED') throw error;
      learn(error);
      return error;
    }
  }

  /** The organisation session we hold for this edge, traded for this app's token; undefined if none is good. */
  async function fromOrganisationSession(known: AppSignIn): Promise<string | undefined> {
    const session = await store.get(known.signInOrigin, ORGANISATION_ACCOUNT);
    if (!session) return undefined;
    const token = await exchangeOrganisationToken(target, known, session);
    if (!token) await store.delete(known.signInOrigin, ORGANISATION_ACCOUNT); // ended at the edge
    return token;
  }

  function known(): AppSignIn {
    if (!app)
      throw new AirlockError(
        'AUTH_REQUIRED',
        `the edge did not name the application's sign-in (no CF-Access-Aud and login URL) for ${target.hostHeader}`,
      );
    return app;
  }

  /** Forgets the refused token and mints one from the organisation session: no browser. */
  async function loginSilently(): Promise<string | undefined> {
    const current = known();
    await store.delete(target.edgeOrigin, current.aud);
    const minted = await fromOrganisationSession(current);
    if (!minted) return undefined;
    last = 'session';
    await store.set(target.edgeOrigin, current.aud, minted);
    return minted;
  }

  async function loginInBrowser(onUrl?: (url: string) => void): Promise<string> {
    const current = known();
    if ((await signInStatus(target, current)) === 501) {
      throw new AirlockError(
        'AUTH_REQUIRED',
        `${target.hostHeader} needs credentials and its edge has no single sign-on: pass a service token (--service-token-id and --service-token-secret)`,
      );
    }
    const result = await loginWithBrowser({
      edgeOrigin: current.signInOrigin,
      aud: current.aud,
      hostname: target.hostHeader,
      ...(target.ca ? { ca: target.ca } : {}),
      dial: target,
      openBrowser: options.openBrowser,
      print: options.print,
      ...(options.loginTimeoutMs ? { timeoutMs: options.loginTimeoutMs } : {}),
      ...(options.retryCommand ? { retryCommand: options.retryCommand } : {}),
      ...(onUrl ? { onUrl } : {}),
    });
    last = 'browser';
    await store.set(target.edgeOrigin, current.aud, result.token);
    if (result.organisation) await store.set(current.signInOrigin, ORGANISATION_ACCOUNT, result.organisation.token);
    return result.token;
  }

  async function login(): Promise<string> {
    return (await loginSilently()) ?? loginInBrowser();
  }

  /** The browser sign-in started for connections that do not wait for it: its URL, and its end. */
  let background: { url: Promise<string>; done: Promise<string> } | undefined;

  return {
    async credential() {
      const token = await stored();
      return token ? { kind: 'app-token', token } : { kind: 'none' };
    },
    async onAuthRequired(error) {
      learn(error);
      await login();
    },
    async signInWithoutWaiting(error) {
      learn(error);
      if (!background) {
        if (await loginSilently()) return { signedIn: true };
        let announce: (url: string) => void = () => {};
        const url = new Promise<string>((resolve) => (announce = resolve));
        const done = loginInBrowser(announce).finally(() => (background = undefined));
        background = { url, done };
        done.then(
          () => options.print(`Signed in to ${target.hostHeader}: connect again.`),
          (failure: Error) => options.print(`airlock: ${describeFailure(failure)}`),
        );
      }
      const first = await Promise.race([background.url, background.done.then(() => undefined)]);
      return first === undefined ? { signedIn: true } : { signedIn: false, url: first };
    },
    async ensureSignedIn() {
      if (!app) {
        const refusal = await probe({ kind: 'none' });
        if (!refusal)
          throw new AirlockError(
            'EDGE_ERROR',
            `${target.hostHeader} let an anonymous request in: refusing to send a token to it`,
          );
      }
      const token = await stored();
      if (token && !(await probe({ kind: 'app-token', token }))) {
        last = 'stored';
        return token;
      }
      const fresh = await login();
      const stillRefused = await probe({ kind: 'app-token', token: fresh });
      if (stillRefused)
        throw new AirlockError('AUTH_REQUIRED', `the edge did not accept the new token for ${target.hostHeader}`);
      return fresh;
    },
    async signOut() {
      if (!app) await probe({ kind: 'none' }).catch(() => undefined);
      if (!app) return false;
      const { signInOrigin } = app;
      // Either token ends the whole session at the edge: the organisation's if we hold it.
      const token = (await store.get(signInOrigin, ORGANISATION_ACCOUNT)) ?? (await stored());
      const revoked = token
        ? await revokeAtEdge({ edgeOrigin: signInOrigin, token, dial: target }).catch((error: unknown) => {
            // An edge that could not record the sign-out: keep the tokens, so it can be tried again.
            if (isAirlockError(error) && error.code === 'STORE_UNAVAILABLE') throw error;
            return false;
          })
        : false;
      await store.delete(target.edgeOrigin, app.aud);
      await store.delete(signInOrigin, ORGANISATION_ACCOUNT);
      await store.clearIssuer(signInOrigin);
      return revoked;
    },
    aud: () => app?.aud,
    signInOrigin: () => app?.signInOrigin,
    lastSignIn: () => last,
  };
}

/** Status of the native-app entry on the sign-in origin: 501 means the edge has no single sign-on. */
async function signInStatus(target: EdgeTarget, app: AppSignIn): Promise<number> {
  try {
    return (await edgeRequest(target, new URL(PATH.cli, app.signInOrigin))).status;
  } catch {
    return 0; // the login itself will report an unreachable edge
  }
}
