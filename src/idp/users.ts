// Users (and optionally clients) of the built-in development IdP, read from users.yaml:
//
//   users:
//     - email: ada@example.com
//       password: "scrypt$16384$8$1$<salt>$<hash>"   # from `airlock idp --hash-password`; plain text allowed for dev
//       groups: [engineering, oncall]
//       name: Ada Lovelace                           # optional
//   clients:                                         # optional; --client-id/--client-secret/--redirect-uri add one
//     - clientId: airlock-edge
//       clientSecret: dev-secret
//       redirectUris: [https://edge.example.com/cdn-cgi/access/callback]
//
// Passwords are compared in constant time; an unknown email still costs one scrypt, so timing does
// not reveal which accounts exist. Plain-text passwords are hashed once when the IdP starts
// (withHashedPasswords), so every sign-in costs exactly one scrypt.
import { readSecretFileText } from '../shared/secret-file.js';
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { parse } from 'yaml';
import { z } from 'zod';
import { AirlockError } from '../shared/errors.js';

export interface IdpUser {
  email: string;
  password: string;
  groups: string[];
  name?: string;
}

export interface IdpClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** Default client_secret_basic. private_key_jwt needs `jwks`, the client's public keys. */
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  jwks?: { keys: Array<Record<string, unknown>> };
}

const userSchema = z.object({
  email: z.string().regex(/^[^@\s]+@[^@\s]+$/, 'must be an email address'),
  password: z.string().min(1),
  groups: z.array(z.string().min(1)).default([]),
  name: z.string().optional(),
});
const clientSchema = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  redirectUris: z.array(z.string().url()).min(1),
});
const fileSchema = z.object({
  users: z.array(userSchema).min(1),
  clients: z.array(clientSchema).default([]),
});

export async function loadUsersFile(path: string): Promise<{ users: IdpUser[]; clients: IdpClient[] }> {
  // It holds password hashes and client secrets: the secret-file rule applies.
  return parseUsers(readSecretFileText(path, 'users file'), path);
}

export function parseUsers(text: string, source = 'users.yaml'): { users: IdpUser[]; clients: IdpClient[] } {
  let data: unknown;
  try {
    data = parse(text);
  } catch (error) {
    throw new AirlockError('CONFIG_INVALID', `${source} is not valid YAML: ${(error as Error).message}`);
  }
  const result = fileSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new AirlockError('CONFIG_INVALID', `${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const seen = new Set<string>();
  for (const user of result.data.users) {
    const email = user.email.toLowerCase();
    if (seen.has(email)) throw new AirlockError('CONFIG_INVALID', `${source}: user ${email} is listed twice`);
    seen.add(email);
  }
  return {
    users: result.data.users.map((user) => ({ ...user, email: user.email.toLowerCase() })),
    clients: result.data.clients,
  };
}

// OWASP's scrypt floor (N=2^14, r=8, p=1) is plenty for a development IdP.
const SCRYPT = { N: 16384, r: 8, p: 1, keyLength: 32 } as const;
const HASH_PREFIX = 'scrypt$';

/**
 * Hashes at once: one fewer than libuv's thread pool (4 threads), where the IdP also signs its ID
 * tokens (jose's crypto.sign). Unbounded, 200 sign-ins at once queued their hashes ahead of the
 * token endpoint's signatures, which then took up to 20 s; the rest wait here, in order.
 */
const MAX_CONCURRENT_HASHES = 3;
let hashing = 0;
const waitingToHash: (() => void)[] = [];

async function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  if (hashing < MAX_CONCURRENT_HASHES) hashing++;
  else await new Promise<void>((resolve) => waitingToHash.push(resolve));
  try {
    return await new Promise<Buffer>((resolve, reject) =>
      scryptCallback(password, salt, keyLength, { ...options, maxmem: 64 * 1024 * 1024 }, (error, key) =>
        error ? reject(error) : resolve(key),
      ),
    );
  } finally {
    // The turn passes straight to the next in line, so the count stays right.
    const next = waitingToHash.shift();
    if (next) next();
    else hashing--;
  }
}

/** `scrypt$N$r$p$salt$hash` (base64url), the format users.yaml accepts. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.keyLength, SCRYPT);
  return [HASH_PREFIX + SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(stored: string, attempt: string): Promise<boolean> {
  if (!stored.startsWith(HASH_PREFIX)) {
    // Plain text is for development users.yaml files only; still compared in constant time.
    const digest = (text: string) => scrypt(text, Buffer.alloc(16), 32, SCRYPT);
    return timingSafeEqual(await digest(stored), await digest(attempt));
  }
  const [, n, r, p, salt, hash] = stored.split('$');
  const expected = Buffer.from(hash ?? '', 'base64url');
  if (!n || !r || !p || !salt || expected.length === 0) return false;
  const actual = await scrypt(attempt, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return timingSafeEqual(actual, expected);
}

/** The users with every plain-text password replaced by its scrypt hash: one hash per sign-in, not two. */
export async function withHashedPasswords(users: IdpUser[]): Promise<IdpUser[]> {
  return Promise.all(
    users.map(async (user) =>
      user.password.startsWith(HASH_PREFIX) ? user : { ...user, password: await hashPassword(user.password) },
    ),
  );
}

/** Finds the user and checks the password; the same work is done when the email is unknown. */
export async function authenticate(users: IdpUser[], email: string, password: string): Promise<IdpUser | undefined> {
  const user = users.find((candidate) => candidate.email === email.trim().toLowerCase());
  const matches = await verifyPassword(
    user?.password ?? `${HASH_PREFIX}16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$${'A'.repeat(43)}`,
    password,
  );
  return user && matches ? user : undefined;
}
