// ES256 signing keys for app tokens, persisted as JWK files so tokens survive an edge restart.
//
// Integration (edge server):
//   const keys = await SigningKeys.open(join(stateDir, 'keys'));   // creates the first key if none
//   keys.current()          → the key new tokens are signed with (newest)
//   keys.jwks()             → { keys: [public JWK, …] } for GET /cdn-cgi/access/certs
//   await keys.rotate()     → new current key; the previous one stays published (overlap)
//   await keys.retire(kid)  → stop publishing an old key once its tokens have expired
// `keys` also satisfies VerificationKeys, the lookup verifyAppToken() needs. A connector that
// only has the JWKS builds one with verificationKeysFromJwks().
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { SSO } from '../../shared/constants.js';
import { AirlockError } from '../../shared/errors.js';

/**
 * Extractable, because tokens are signed and checked with node:crypto through KeyObject.from(),
 * which Node 24 deprecates for non-extractable keys (DEP0204); the key is in this process either way.
 */
const IMPORT = { extractable: true } as const;

/** What a verifier needs: the public key for a kid, or undefined when the kid is not ours. */
export interface VerificationKeys {
  publicKey(kid: string): CryptoKey | undefined;
}

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
  createdAt: Date;
}

interface KeyFile {
  createdAt: string;
  jwk: JWK;
}

const KID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const KEY_FILE_SUFFIX = '.jwk.json';

export class SigningKeys implements VerificationKeys {
  /** Other edges' public keys (several edges, src/edge/state/postgres-stores.ts): verified, published, never signed with. */
  private peers = new Map<string, { key: CryptoKey; jwk: JWK }>();

  private constructor(
    private readonly dir: string,
    private keys: SigningKey[],
  ) {}

  /** Loads every key in dir (0700), creating the first one when the directory is empty. */
  static async open(dir: string): Promise<SigningKeys> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    const keys: SigningKey[] = [];
    for (const name of (await readdir(dir)).filter((file) => file.endsWith(KEY_FILE_SUFFIX)).sort()) {
      keys.push(await loadKey(join(dir, name)));
    }
    const signingKeys = new SigningKeys(dir, sortNewestFirst(keys));
    if (keys.length === 0) await signingKeys.rotate();
    return signingKeys;
  }

  /** The key new tokens are signed with: the newest one. */
  current(): SigningKey {
    const key = this.keys[0];
    if (!key) throw new AirlockError('CONFIG_INVALID', `no signing key in ${this.dir}`);
    return key;
  }

  publicKey(kid: string): CryptoKey | undefined {
    return this.keys.find((key) => key.kid === kid)?.publicKey ?? this.peers.get(kid)?.key;
  }

  /** This edge's own public keys, newest first. */
  ownJwks(): JWK[] {
    return this.keys.map((key) => ({ ...key.publicJwk }));
  }

  /** Replaces the other edges' public keys (a malformed or private one is skipped). */
  async setPeerKeys(jwks: JWK[]): Promise<void> {
    const peers = new Map<string, { key: CryptoKey; jwk: JWK }>();
    for (const jwk of jwks) {
      if (
        !jwk.kid ||
        !KID_PATTERN.test(jwk.kid) ||
        jwk.kty !== 'EC' ||
        jwk.d ||
        this.keys.some((key) => key.kid === jwk.kid)
      )
        continue;
      const existing = this.peers.get(jwk.kid);
      peers.set(
        jwk.kid,
        existing ?? { key: (await importJWK(jwk, SSO.tokenAlgorithm, IMPORT)) as CryptoKey, jwk: { ...jwk } },
      );
    }
    this.peers = peers;
  }

  kids(): string[] {
    return this.keys.map((key) => key.kid);
  }

  /** Public keys only, newest first, as published at PATH.certs. */
  jwks(): { keys: JWK[] } {
    return { keys: [...this.ownJwks(), ...[...this.peers.values()].map((peer) => ({ ...peer.jwk }))] };
  }

  /** Creates a new current key. Older keys stay published until retire(), so live tokens keep verifying. */
  async rotate(): Promise<SigningKey> {
    const { privateKey } = await generateKeyPair(SSO.tokenAlgorithm, { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    // The thumbprint (RFC 7638) names the key by its content: stable across restarts, never a URL.
    const kid = await calculateJwkThumbprint(privateJwk);
    const createdAt = new Date(Math.max(Date.now(), (this.keys[0]?.createdAt.getTime() ?? 0) + 1));
    const file: KeyFile = {
      createdAt: createdAt.toISOString(),
      jwk: { ...privateJwk, kid, alg: SSO.tokenAlgorithm, use: 'sig' },
    };
    await writePrivateFile(join(this.dir, `${kid}${KEY_FILE_SUFFIX}`), JSON.stringify(file, null, 2));
    const key = await toSigningKey(file);
    this.keys = sortNewestFirst([key, ...this.keys]);
    return key;
  }

  /** Stops publishing a previous key. The current key cannot be retired: rotate first. */
  async retire(kid: string): Promise<void> {
    if (!KID_PATTERN.test(kid)) throw new AirlockError('BAD_ARGUMENT', `"${kid}" is not a key id`);
    if (this.current().kid === kid) {
      throw new AirlockError('BAD_ARGUMENT', `key ${kid} is the current signing key; rotate before retiring it`);
    }
    if (!this.keys.some((key) => key.kid === kid)) throw new AirlockError('BAD_ARGUMENT', `no signing key ${kid}`);
    await rm(join(this.dir, `${kid}${KEY_FILE_SUFFIX}`), { force: true });
    this.keys = this.keys.filter((key) => key.kid !== kid);
  }
}

/** For verifiers that only see the published JWKS (the connector's defence-in-depth check). */
export async function verificationKeysFromJwks(jwks: { keys: JWK[] }): Promise<VerificationKeys> {
  const byKid = new Map<string, CryptoKey>();
  for (const jwk of jwks.keys) {
    if (!jwk.kid || !KID_PATTERN.test(jwk.kid) || jwk.kty !== 'EC' || jwk.d) continue;
    byKid.set(jwk.kid, (await importJWK(jwk, SSO.tokenAlgorithm, IMPORT)) as CryptoKey);
  }
  return { publicKey: (kid) => byKid.get(kid) };
}

async function loadKey(path: string): Promise<SigningKey> {
  try {
    const file = JSON.parse(await readFile(path, 'utf8')) as KeyFile;
    return await toSigningKey(file);
  } catch (error) {
    throw new AirlockError(
      'CONFIG_UNREADABLE',
      `signing key ${path} is unreadable: ${(error as Error).message}; remove it or restore it from backup`,
    );
  }
}

async function toSigningKey(file: KeyFile): Promise<SigningKey> {
  const { kid } = file.jwk;
  if (!kid || !KID_PATTERN.test(kid) || !file.jwk.d) throw new Error('not an EC private JWK with a kid');
  const privateKey = (await importJWK(file.jwk, SSO.tokenAlgorithm, IMPORT)) as CryptoKey;
  const { d: _private, ...publicJwk } = file.jwk;
  const publicKey = (await importJWK(publicJwk, SSO.tokenAlgorithm, IMPORT)) as CryptoKey;
  const createdAt = new Date(file.createdAt);
  if (Number.isNaN(createdAt.getTime())) throw new Error('createdAt is not a date');
  return { kid, privateKey, publicKey, publicJwk, createdAt };
}

function sortNewestFirst(keys: SigningKey[]): SigningKey[] {
  return [...keys].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || a.kid.localeCompare(b.kid));
}

/** Write-then-rename so a crash never leaves a half-written key; 0600 from the first byte. */
export async function writePrivateFile(path: string, content: string): Promise<void> {
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, content, { mode: 0o600 });
  await rename(temporary, path);
}
