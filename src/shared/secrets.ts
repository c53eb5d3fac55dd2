// Secrets (tunnel and service-token secrets) are 256-bit random values: a plain SHA-256 is enough
// to store them (no dictionary to guess from), and comparison is constant-time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('hex')}`;
}

/**
 * A stored hash that is known to be weak: the hash of an empty secret or of a well-known placeholder
 * ("password", "changeme", …), or a placeholder of one repeated hex digit. A hash cannot say how
 * random its secret was, so this refuses only what is certainly guessable; real secrets come from
 * newSecret() (256 random bits), which is why plain SHA-256 is enough to store them.
 */
const WEAK_SECRETS = [
  '',
  'password',
  'secret',
  'changeme',
  'change-me',
  'admin',
  'test',
  'token',
  'airlock',
  '123456',
  '12345678',
  'letmein',
  'default',
  'example',
];
const WEAK_HASHES = new Set(WEAK_SECRETS.flatMap((secret) => [secret, secret.toUpperCase()]).map(hashSecret));

export function isWeakSecretHash(storedHash: string): boolean {
  return WEAK_HASHES.has(storedHash.toLowerCase()) || /^sha256:(.)\1{63}$/i.test(storedHash);
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const actual = Buffer.from(hashSecret(secret));
  const expected = Buffer.from(storedHash);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Tunnel token: base64url JSON { t: tunnel id, s: secret }, like cloudflared's tunnel tokens. */
export function encodeTunnelToken(tunnelId: string, secret: string): string {
  return Buffer.from(JSON.stringify({ t: tunnelId, s: secret })).toString('base64url');
}

export function decodeTunnelToken(token: string): { tunnelId: string; secret: string } | undefined {
  if (token.length > 1024) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { t, s } = parsed as { t?: unknown; s?: unknown };
    return typeof t === 'string' && typeof s === 'string' && t && s ? { tunnelId: t, secret: s } : undefined;
  } catch {
    return undefined;
  }
}
