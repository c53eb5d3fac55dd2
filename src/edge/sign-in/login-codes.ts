// One-time login codes for the native app flow (docs/architecture.md "Sign-in in brief"): after the IdP login
// succeeds the edge hands the loopback listener a code; the client trades it, with its PKCE
// verifier, for an app token. Codes are single use, live 60 s and are bound to the challenge.
//
// Integration: access-routes.ts keeps one LoginCodes per edge process.
//   const code = await codes.create({ aud, codeChallenge, redirectUrl, identity });
//   const grant = await codes.exchange(code, codeVerifier);   // throws LOGIN_FAILED, details.reason
// In memory for one edge (a code outliving a restart has no use: it lives 60 s); in PostgreSQL
// when several edges share a sign-in domain, since the code may come back to another edge.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { SSO } from '../../shared/constants.js';
import { AirlockError } from '../../shared/errors.js';
import { MemoryLoginStateStore, type LoginStateStore } from './login-state-store.js';

export interface LoginIdentity {
  sub: string;
  email: string;
  groups: string[];
}

export interface LoginCodeGrant {
  aud: string;
  /** BASE64URL(SHA256(code_verifier)), RFC 7636 §4.2 S256. */
  codeChallenge: string;
  redirectUrl: string;
  identity: LoginIdentity;
  /** The organisation session the sign-in belongs to: the app token joins it, and the client gets a copy. */
  session?: { sessionId: string; expiresAt: Date };
}

export type LoginCodeRejection = 'malformed' | 'unknown-code' | 'replayed' | 'expired' | 'verifier';

interface Entry {
  grant: LoginCodeGrant;
  expiresAt: number;
}

// RFC 7636 §4.1: 43–128 unreserved characters.
const VERIFIER_PATTERN = /^[A-Za-z0-9._~-]{43,128}$/;
const CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** Entries outlive their code by this much, so a late exchange is told "expired", not "unknown". */
const REMEMBER_MS = 60_000;

export class LoginCodes {
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly pending: LoginStateStore<Entry>;
  /** Codes already exchanged, remembered until they would have expired, to name a replay. */
  private readonly used: LoginStateStore<true>;

  /** `store` / `used`: shared stores when several edges serve one sign-in domain; memory otherwise. */
  constructor(
    options: { ttlMs?: number; now?: () => number; store?: LoginStateStore<Entry>; used?: LoginStateStore<true> } = {},
  ) {
    this.ttlMs = options.ttlMs ?? SSO.loginCodeTtlMs;
    this.now = options.now ?? Date.now;
    this.pending = options.store ?? new MemoryLoginStateStore<Entry>({ now: this.now });
    this.used = options.used ?? new MemoryLoginStateStore<true>({ now: this.now });
  }

  async create(grant: LoginCodeGrant): Promise<string> {
    if (!CHALLENGE_PATTERN.test(grant.codeChallenge)) {
      throw new AirlockError('BAD_ARGUMENT', 'code_challenge must be an S256 challenge (43 base64url characters)');
    }
    const code = randomBytes(32).toString('base64url');
    await this.pending.put(hash(code), { grant, expiresAt: this.now() + this.ttlMs }, this.ttlMs + REMEMBER_MS);
    return code;
  }

  /** Consumes the code whatever the outcome, so a wrong verifier cannot be retried against it. */
  async exchange(code: unknown, codeVerifier: unknown): Promise<LoginCodeGrant> {
    if (typeof code !== 'string' || code.length === 0 || code.length > 256)
      throw reject('malformed', 'code is missing or malformed');
    if (typeof codeVerifier !== 'string' || !VERIFIER_PATTERN.test(codeVerifier)) {
      throw reject('malformed', 'code_verifier is missing or not 43–128 unreserved characters (RFC 7636 §4.1)');
    }
    const key = hash(code);
    // Taken, not read: of two edges racing for one code, exactly one gets it.
    const entry = await this.pending.take(key);
    if (!entry) {
      if (await this.used.has(key)) throw reject('replayed', 'this sign-in code was already used');
      throw reject('unknown-code', 'this sign-in code is unknown');
    }
    await this.used.put(key, true, this.ttlMs + REMEMBER_MS);
    if (entry.expiresAt <= this.now()) throw reject('expired', 'this sign-in code has expired (codes live 60 seconds)');
    const expected = Buffer.from(entry.grant.codeChallenge);
    const actual = Buffer.from(createHash('sha256').update(codeVerifier).digest('base64url'));
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
      throw reject('verifier', 'code_verifier does not match the code_challenge of this sign-in');
    }
    return entry.grant;
  }
}

/** S256 challenge of a verifier (RFC 7636 §4.2); shared with the client side in tests. */
export function s256(codeVerifier: string): string {
  return createHash('sha256').update(codeVerifier).digest('base64url');
}

function hash(code: string): string {
  return createHash('sha256').update(code).digest('base64url');
}

function reject(reason: LoginCodeRejection, message: string): AirlockError {
  return new AirlockError('LOGIN_FAILED', `${message}; sign in again`, { reason });
}
