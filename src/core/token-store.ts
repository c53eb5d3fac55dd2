// Where app tokens live between connections (docs/architecture.md "Sign-in in brief"): the OS keychain through
// keytar (service `airlock`, account `EDGE|AUD`), or — when keytar is missing or no Secret Service
// is reachable, as on headless Linux — a 0600 file under the user's config dir (src/core/
// token-files.ts), announced once through warn(): encrypted when the caller gives an encryption
// (the desktop app: Electron's safeStorage), plain JSON otherwise (the CLI). describe() says which.
//
// Integration (CLI / Electron main):
//   const store = createTokenStore({ warn: (message) => console.error(message) });
//   await store.get(edgeOrigin, aud)        → token, or undefined when missing or within 60 s of exp
//   await store.set(edgeOrigin, aud, token)
//   await store.delete(edgeOrigin, aud)     // on a 302 (stale token) and on `airlock access logout`
//   await store.clear(edgeOrigin?)          // logout from every app (of one edge)
// Tokens are never logged. exp is read without verifying the signature: the edge verifies.
// Every new tunnel asks for its token, so a token read is remembered in memory for REMEMBER_MS:
// a keychain read is a D-Bus round trip (1.7 ms p50 with gnome-keyring here), on every
// connection's critical path.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SSO } from '../shared/constants.js';
import { AirlockError } from '../shared/errors.js';
import { openKeychain } from './keychain.js';
import {
  encryptedFileBackend,
  plainFileBackend,
  type Backend,
  type TokenBackend,
  type TokenEncryption,
} from './token-files.js';

export type { TokenBackend, TokenEncryption };

export interface TokenStoreOptions {
  /** 'auto' (default) tries the keychain and falls back to the file. */
  backend?: 'auto' | TokenBackend;
  /** Keychain service name; tests use their own so they never touch a user's real entries. */
  service?: string;
  /** Fallback file; default $XDG_CONFIG_HOME/airlock/tokens.json (~/.config/airlock/tokens.json). */
  file?: string;
  /** When given, the fallback is this file encrypted with it instead (default tokens.enc beside tokens.json). */
  encryption?: TokenEncryption;
  encryptedFile?: string;
  /** For describe(): which OS keychain keytar talks to (default: this machine's). */
  platform?: NodeJS.Platform;
  warn?: (message: string) => void;
  marginMs?: number;
  now?: () => number;
}

export interface TokenStore {
  get(edge: string, aud: string): Promise<string | undefined>;
  set(edge: string, aud: string, token: string): Promise<void>;
  delete(edge: string, aud: string): Promise<void>;
  clear(edge?: string): Promise<void>;
  /**
   * Forgets every token one edge issued (its `iss` claim, the sign-in origin): the organisation
   * session and each app token minted from it, whichever app host it is stored under.
   */
  clearIssuer(issuer: string): Promise<void>;
  /** Every stored token, expired or not (sign out everywhere revokes the sessions behind them). */
  tokens(): Promise<string[]>;
  /** Which backend is in use, once known (after the first call). */
  backend(): Promise<TokenBackend>;
  /** Which store is in use, in words a user can act on (choosing it first if need be). */
  describe(): Promise<TokenStoreDescription>;
}

export interface TokenStoreDescription {
  kind: TokenBackend;
  /** e.g. "the OS keychain (Secret Service: GNOME Keyring, KWallet), service \"airlock\"". */
  detail: string;
}

/**
 * How long a token read from the backend is served from memory: a burst of tunnels (ssh and scp,
 * a database pool) asks once, and a sign-out or a new sign-in in another process is seen within
 * seconds.
 */
export const REMEMBER_MS = 10_000;

export function createTokenStore(options: TokenStoreOptions = {}): TokenStore {
  const service = options.service ?? SSO.keychainService;
  const file = options.file ?? defaultTokenFile();
  const marginMs = options.marginMs ?? SSO.tokenReuseMarginMs;
  const now = options.now ?? Date.now;
  let chosen: Promise<Backend> | undefined;
  const remembered = new Map<string, { token: string; until: number }>();
  // Counts set/delete/clear calls: a read that was under way when one happened must not put its
  // (older) result in memory after it, or a deleted token would come back.
  let writes = 0;

  const { encryption } = options;
  const files: FileBackends = {
    plain: () => plainFileBackend(file),
    ...(encryption
      ? { encrypted: () => encryptedFileBackend(options.encryptedFile ?? defaultEncryptedTokenFile(file), encryption) }
      : {}),
  };
  const backend = () =>
    (chosen ??= chooseBackend(
      options.backend ?? 'auto',
      service,
      files,
      options.warn ?? (() => {}),
      encryption?.label,
    ));
  const usable = (token: string) => {
    const expiresAt = tokenExpiry(token);
    return expiresAt !== undefined && expiresAt - marginMs > now();
  };

  return {
    async get(edge, aud) {
      const account = accountFor(edge, aud);
      const memo = remembered.get(account);
      if (memo && memo.until > now() && usable(memo.token)) return memo.token;
      remembered.delete(account);
      const writesBefore = writes;
      const store = await backend();
      const token = await store.read(account);
      if (token === undefined) return undefined;
      if (!usable(token)) {
        await store.remove(account);
        return undefined;
      }
      if (writes === writesBefore) remembered.set(account, { token, until: now() + REMEMBER_MS });
      return token;
    },
    async set(edge, aud, token) {
      const account = accountFor(edge, aud);
      writes++;
      remembered.delete(account);
      await (await backend()).write(account, token);
      remembered.set(account, { token, until: now() + REMEMBER_MS });
    },
    async delete(edge, aud) {
      const account = accountFor(edge, aud);
      writes++;
      remembered.delete(account);
      await (await backend()).remove(account);
    },
    async clear(edge) {
      writes++;
      for (const account of [...remembered.keys()]) {
        if (edge === undefined || account.startsWith(`${edge}|`)) remembered.delete(account);
      }
      const store = await backend();
      for (const account of await store.accounts()) {
        if (edge === undefined || account.startsWith(`${edge}|`)) await store.remove(account);
      }
    },
    async clearIssuer(issuer) {
      writes++;
      remembered.clear();
      const store = await backend();
      for (const account of await store.accounts()) {
        const token = await store.read(account);
        if (token !== undefined && tokenIssuer(token) === issuer) await store.remove(account);
      }
    },
    async tokens() {
      const store = await backend();
      const tokens: string[] = [];
      for (const account of await store.accounts()) {
        const token = await store.read(account);
        if (token !== undefined) tokens.push(token);
      }
      return tokens;
    },
    async backend() {
      return (await backend()).kind;
    },
    async describe() {
      const chosenBackend = await backend();
      return describeTokenBackend(chosenBackend.kind, chosenBackend.location, {
        platform: options.platform ?? process.platform,
        ...(options.encryption ? { encryption: options.encryption.label } : {}),
      });
    },
  };
}

const KEYCHAIN_NAMES: Partial<Record<NodeJS.Platform, string>> = {
  darwin: 'macOS Keychain',
  win32: 'Windows Credential Manager',
  linux: 'Secret Service: GNOME Keyring, KWallet',
};

/**
 * Pure: a sentence naming a token store, for `airlock access token --where` and the app's Settings.
 * `location` is the keychain service name or the file's path.
 */
export function describeTokenBackend(
  kind: TokenBackend,
  location: string,
  context: { platform: NodeJS.Platform; encryption?: string },
): TokenStoreDescription {
  switch (kind) {
    case 'keychain':
      return {
        kind,
        detail: `the OS keychain (${KEYCHAIN_NAMES[context.platform] ?? 'through keytar'}), service "${location}"`,
      };
    case 'encrypted-file':
      return {
        kind,
        detail: `an encrypted file readable only by you, ${location} (${context.encryption ?? 'key kept by the app'})`,
      };
    case 'file':
      return { kind, detail: `a plain file readable only by you (mode 0600), ${location}` };
  }
}

/** `EDGE|AUD`, the keychain account (docs/sso.md). */
export function accountFor(edge: string, aud: string): string {
  if (!edge || !aud || aud.includes('|'))
    throw new AirlockError('BAD_ARGUMENT', `cannot store a token for edge "${edge}" and aud "${aud}"`);
  return `${edge}|${aud}`;
}

/** exp of a JWT in epoch ms, read without verification; undefined when the token is not a JWT. */
export function tokenExpiry(token: string): number | undefined {
  const { exp } = unverifiedClaims(token);
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
}

/** iss of a JWT, read without verification (to pick what to forget, never to trust). */
export function tokenIssuer(token: string): string | undefined {
  const { iss } = unverifiedClaims(token);
  return typeof iss === 'string' ? iss : undefined;
}

function unverifiedClaims(token: string): Record<string, unknown> {
  try {
    const payload: unknown = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return payload && typeof payload === 'object' ? (payload as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function defaultTokenFile(): string {
  const configHome = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(configHome, 'airlock', 'tokens.json');
}

/** tokens.json → tokens.enc: the encrypted file sits beside the plain one, never in its place. */
function defaultEncryptedTokenFile(plainFile: string): string {
  return plainFile.replace(/(\.json)?$/, '.enc');
}

interface FileBackends {
  plain: () => Backend;
  /** Only when the caller gave an encryption: then it is the fallback. */
  encrypted?: () => Backend;
}

async function chooseBackend(
  wanted: 'auto' | TokenBackend,
  service: string,
  files: FileBackends,
  warn: (message: string) => void,
  encryption: string | undefined,
): Promise<Backend> {
  if (wanted === 'file') return files.plain();
  if (wanted === 'encrypted-file') {
    if (!files.encrypted) throw new AirlockError('BAD_ARGUMENT', 'an encrypted token file needs an encryption');
    return files.encrypted();
  }
  let reason: string;
  try {
    return await openKeychain(service);
  } catch (error) {
    // One line: a module that failed to load appends its require stack.
    reason = (error as Error).message.split('\n')[0]!;
  }
  if (wanted === 'keychain')
    throw new AirlockError('KEYCHAIN_UNAVAILABLE', `the OS keychain is not reachable: ${reason}`);
  const chosen = (files.encrypted ?? files.plain)();
  const how =
    chosen.kind === 'encrypted-file' ? `encrypted (${encryption}) in ${chosen.location}` : `in ${chosen.location}`;
  warn(`The OS keychain is not reachable (${reason}); storing sign-in tokens ${how}, readable only by you, instead.`);
  return chosen;
}
