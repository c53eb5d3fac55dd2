// The OS keychain through keytar, as a token backend: loaded lazily (keytar is an optional native
// module) and probed once, because keytar loads fine on a machine with no Secret Service and
// only fails on use.
import type { Backend } from './token-files.js';

/** The subset of keytar used here; loaded lazily so a missing native module degrades to the file. */
interface Keychain {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
  findCredentials(service: string): Promise<Array<{ account: string; password: string }>>;
}

/** A libsecret call that cannot reach a bus fails fast; a locked keyring may prompt forever. */
const KEYCHAIN_PROBE_TIMEOUT_MS = 3_000;
/** An account no token is stored under: the probe only asks whether the keychain answers. */
const KEYCHAIN_PROBE_ACCOUNT = 'airlock-probe';

/** The keychain's backend for `service`; throws (with why) when keytar is missing or no keychain answers. */
export async function openKeychain(service: string): Promise<Backend> {
  const keychain = await loadKeychain();
  // One account's lookup, not findCredentials: enumerating every item races with another process
  // deleting one, and libsecret then aborts this process (secret_value_get_text on a gone item).
  await withTimeout(keychain.getPassword(service, KEYCHAIN_PROBE_ACCOUNT), KEYCHAIN_PROBE_TIMEOUT_MS);
  return keychainBackend(keychain, service);
}

/** keytar is optional (a native module: its build fails on a machine without libsecret headers). */
const KEYTAR: string = 'keytar';

async function loadKeychain(): Promise<Keychain> {
  // A specifier held in a variable: the build type-checks whether or not keytar is installed.
  const module = (await import(KEYTAR)) as { default?: Keychain } & Partial<Keychain>;
  const keychain = module.default ?? (module as Keychain);
  // uncoded: the caller falls back to the 0600 file and says so (KEYCHAIN_UNAVAILABLE).
  if (typeof keychain.getPassword !== 'function') throw new Error('keytar did not load');
  return keychain;
}

function keychainBackend(keychain: Keychain, service: string): Backend {
  return {
    kind: 'keychain',
    location: service,
    read: async (account) => (await keychain.getPassword(service, account)) ?? undefined,
    write: (account, token) => keychain.setPassword(service, account, token),
    remove: async (account) => {
      await keychain.deletePassword(service, account);
    },
    accounts: async () => (await keychain.findCredentials(service)).map((credential) => credential.account),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    // uncoded: callers report a silent keychain with their own code (KEYCHAIN_UNAVAILABLE).
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
