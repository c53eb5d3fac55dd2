// Where sign-in tokens go when the OS keychain cannot be used: a file readable only by the user
// (0600 in a 0700 directory, replaced atomically), holding `{ tokens: { "EDGE|AUD": TOKEN } }`.
// In plain JSON for the CLI; inside the desktop app, encrypted as a whole with a key the caller
// keeps (Electron's safeStorage: macOS Keychain, Windows DPAPI, the Secret Service or KWallet).
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AirlockError } from '../shared/errors.js';

export type TokenBackend = 'keychain' | 'encrypted-file' | 'file';

/** One place tokens are kept, by account (`EDGE|AUD`). */
export interface Backend {
  kind: TokenBackend;
  /** The file, or the keychain service name. */
  location: string;
  read(account: string): Promise<string | undefined>;
  write(account: string, token: string): Promise<void>;
  remove(account: string): Promise<void>;
  accounts(): Promise<string[]>;
}

/** Encrypts the token file; decrypt throws when the data was not encrypted with the same key. */
export interface TokenEncryption {
  encrypt(plain: string): Buffer;
  decrypt(data: Buffer): string;
  /** What keeps the key, for messages: e.g. "Electron safeStorage, key in GNOME Keyring". */
  label: string;
}

export function plainFileBackend(file: string): Backend {
  return jsonFileBackend(
    'file',
    file,
    (json) => json,
    (data) => data.toString('utf8'),
  );
}

export function encryptedFileBackend(file: string, encryption: TokenEncryption): Backend {
  return jsonFileBackend(
    'encrypted-file',
    file,
    (json) => encryption.encrypt(json),
    (data) => encryption.decrypt(data),
  );
}

/** Data that cannot be read back (corrupt, or encrypted with another key) only costs a sign-in. */
class Unreadable extends Error {}

function jsonFileBackend(
  kind: 'file' | 'encrypted-file',
  file: string,
  encode: (json: string) => string | Buffer,
  decode: (data: Buffer) => string,
): Backend {
  const load = async (): Promise<Record<string, string>> => {
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch (error) {
      // Missing is the normal first run.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new AirlockError('CONFIG_UNREADABLE', `cannot read the token file ${file}: ${(error as Error).message}`);
    }
    try {
      let json: string;
      try {
        json = decode(data);
      } catch (error) {
        throw new Unreadable((error as Error).message);
      }
      const parsed = JSON.parse(json) as { tokens?: unknown };
      return parsed.tokens && typeof parsed.tokens === 'object' ? (parsed.tokens as Record<string, string>) : {};
    } catch (error) {
      if (error instanceof Unreadable || error instanceof SyntaxError) return {};
      throw error;
    }
  };
  const save = async (tokens: Record<string, string>) => {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await chmod(dirname(file), 0o700);
    const temporary = `${file}.${randomUUID()}.tmp`;
    await writeFile(temporary, encode(JSON.stringify({ tokens }, null, 2)), { mode: 0o600 });
    await rename(temporary, file);
  };
  return {
    kind,
    location: file,
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
