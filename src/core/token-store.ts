// Where app tokens live between connections (DESIGN.md "Login" step 4): the OS keychain through
// keytar (service `airlock`, account `EDGE|AUD`), or — when no Secret Service is reachable, as on
// headless Linux — a 0600 JSON file under the user's config dir, announced once through warn().
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
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { SSO } from '../shared/constants.js';
import { AirlockError } from '../shared/errors.js';

export type TokenBackend = 'keychain' | 'file';

export interface TokenStoreOptions {
  /** 'auto' (default) tries the keychain and falls back to the file. */
  backend?: 'auto' | TokenBackend;
  /** Keychain service name; tests use their own so they never touch a user's real entries. */
  service?: string;
  /** Fallback file; default $XDG_CONFIG_HOME/airlock/tokens.json (~/.config/airlock/tokens.json). */
  file?: string;
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
  /** Which backend is in use, once known (after the first call). */
  backend(): Promise<TokenBackend>;
}

/** The subset of keytar used here; loaded lazily so a missing native module degrades to the file. */
interface Keychain {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
  findCredentials(service: string): Promise<Array<{ account: string; password: string }>>;
}

interface Backend {
  kind: TokenBackend;
  read(account: string): Promise<string | undefined>;
  write(account: string, token: string): Promise<void>;
  remove(account: string): Promise<void>;
  accounts(): Promise<string[]>;
}

/**
 * How long a token read from the backend is served from memory: a burst of tunnels (ssh and scp,
 * a database pool) asks once, and a sign-out or a new sign-in in another process is seen within
 * seconds.
 */
export const REMEMBER_MS = 10_000;

/** A libsecret call that cannot reach a bus fails fast; a locked keyring may prompt forever. */
const KEYCHAIN_PROBE_TIMEOUT_MS = 3_000;

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

  const backend = () => (chosen ??= chooseBackend(options.backend ?? 'auto', service, file, options.warn ?? (() => {})));
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
    async backend() {
      return (await backend()).kind;
    },
  };
}

/** `EDGE|AUD`, the keychain account of DESIGN.md. */
export function accountFor(edge: string, aud: string): string {
  if (!edge || !aud || aud.includes('|')) throw new AirlockError('BAD_ARGUMENT', `cannot store a token for edge "${edge}" and aud "${aud}"`);
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

async function chooseBackend(wanted: 'auto' | TokenBackend, service: string, file: string, warn: (message: string) => void): Promise<Backend> {
  if (wanted === 'file') return fileBackend(file);
  let reason: string;
  try {
    const keychain = await loadKeychain();
    // Probe once: keytar loads fine on a machine with no Secret Service and only fails on use.
    await withTimeout(keychain.findCredentials(service), KEYCHAIN_PROBE_TIMEOUT_MS);
    return keychainBackend(keychain, service);
  } catch (error) {
    reason = (error as Error).message;
  }
  if (wanted === 'keychain') throw new AirlockError('KEYCHAIN_UNAVAILABLE', `the OS keychain is not reachable: ${reason}`);
  warn(`The OS keychain is not reachable (${reason}); storing sign-in tokens in ${file} (readable only by you) instead.`);
  return fileBackend(file);
}

/** keytar is optional (a native module: its build fails on a machine without libsecret headers). */
const KEYTAR: string = 'keytar';

async function loadKeychain(): Promise<Keychain> {
  // A specifier held in a variable: the build type-checks whether or not keytar is installed.
  const module = (await import(KEYTAR)) as { default?: Keychain } & Partial<Keychain>;
  const keychain = module.default ?? (module as Keychain);
  if (typeof keychain.getPassword !== 'function') throw new Error('keytar did not load');
  return keychain;
}

function keychainBackend(keychain: Keychain, service: string): Backend {
  return {
    kind: 'keychain',
    read: async (account) => (await keychain.getPassword(service, account)) ?? undefined,
    write: (account, token) => keychain.setPassword(service, account, token),
    remove: async (account) => {
      await keychain.deletePassword(service, account);
    },
    accounts: async () => (await keychain.findCredentials(service)).map((credential) => credential.account),
  };
}

function fileBackend(file: string): Backend {
  const load = async (): Promise<Record<string, string>> => {
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as { tokens?: Record<string, string> };
      return parsed.tokens ?? {};
    } catch (error) {
      // A corrupt cache only costs a new sign-in; missing is the normal first run.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error instanceof SyntaxError) return {};
      throw new AirlockError('CONFIG_UNREADABLE', `cannot read the token file ${file}: ${(error as Error).message}`);
    }
  };
  const save = async (tokens: Record<string, string>) => {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await chmod(dirname(file), 0o700);
    const temporary = `${file}.${randomUUID()}.tmp`;
    await writeFile(temporary, JSON.stringify({ tokens }, null, 2), { mode: 0o600 });
    await rename(temporary, file);
  };
  return {
    kind: 'file',
    read: async (account) => (await load())[account],
    write: async (account, token) => save({ ...(await load()), [account]: token }),
    remove: async (account) => {
      const tokens = await load();
      if (!(account in tokens)) return;
      delete tokens[account];
      await save(tokens);
    },
    accounts: async () => Object.keys(await load()),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
