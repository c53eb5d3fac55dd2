// Revoked sessions (the `sid` claim of app tokens), checked on every connect and persisted as JSON
// in the state dir so a logout survives an edge restart.
//
// Integration (edge server):
//   const revoked = await RevocationList.open(join(stateDir, 'revoked-sessions.json'));
//   verifyAppToken(token, { …, revoked })        // has(sid) is consulted on every verification
//   await revoked.revoke(principal.sessionId, principal.expiresAt)   // logout
// An entry is kept only until the token it revokes would have expired anyway, so the file stays small.
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AirlockError } from '../../shared/errors.js';
import { writePrivateFile } from './signing-keys.js';

/** What a verifier needs from the list; also easy to fake with a Set in tests. */
export interface RevocationCheck {
  has(sessionId: string): boolean;
}

/** The list as the edge uses it: this file-backed one, or PostgresRevocations shared by several edges. */
export interface Revocations extends RevocationCheck {
  revoke(sessionId: string, until: Date): Promise<void>;
  readonly size: number;
  /** Called for each session revoked from now on, here or (shared) at any edge: its open streams end. */
  onRevoked(listener: (sessionId: string) => void): void;
}

interface RevocationFile {
  /** session id → epoch ms after which the entry can be dropped. */
  sessions: Record<string, number>;
}

export class RevocationList implements Revocations {
  private readonly listeners: Array<(sessionId: string) => void> = [];

  private constructor(
    private readonly file: string,
    private readonly entries: Map<string, number>,
    private readonly now: () => number,
  ) {}

  static async open(file: string, options: { now?: () => number } = {}): Promise<RevocationList> {
    const now = options.now ?? Date.now;
    const entries = new Map<string, number>();
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable(file, error);
    }
    if (text !== undefined) {
      try {
        const parsed = JSON.parse(text) as RevocationFile;
        for (const [sessionId, until] of Object.entries(parsed.sessions ?? {})) {
          if (typeof until === 'number' && until > now()) entries.set(sessionId, until);
        }
      } catch (error) {
        // Failing closed here would lock everyone out; failing open would un-revoke: refuse to start.
        throw unreadable(file, error);
      }
    }
    return new RevocationList(file, entries, now);
  }

  has(sessionId: string): boolean {
    const until = this.entries.get(sessionId);
    return until !== undefined && until > this.now();
  }

  get size(): number {
    return this.entries.size;
  }

  onRevoked(listener: (sessionId: string) => void): void {
    this.listeners.push(listener);
  }

  /** Revokes a session until `until` (the token's exp; afterwards the token is dead anyway). */
  async revoke(sessionId: string, until: Date): Promise<void> {
    if (!sessionId) throw new AirlockError('BAD_ARGUMENT', 'cannot revoke an empty session id');
    this.entries.set(sessionId, Math.max(until.getTime(), this.entries.get(sessionId) ?? 0));
    for (const listener of this.listeners) listener(sessionId);
    await this.save();
  }

  /** Drops entries whose tokens have expired; returns how many were dropped. */
  async prune(): Promise<number> {
    let dropped = 0;
    for (const [sessionId, until] of this.entries) {
      if (until <= this.now()) {
        this.entries.delete(sessionId);
        dropped++;
      }
    }
    if (dropped > 0) await this.save();
    return dropped;
  }

  private async save(): Promise<void> {
    const now = this.now();
    const sessions: Record<string, number> = {};
    for (const [sessionId, until] of this.entries) if (until > now) sessions[sessionId] = until;
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    await writePrivateFile(this.file, JSON.stringify({ sessions } satisfies RevocationFile));
  }
}

function unreadable(file: string, error: unknown): AirlockError {
  return new AirlockError(
    'CONFIG_UNREADABLE',
    `revocation list ${file} is unreadable (${(error as Error).message}); fix or remove it (removing un-revokes logged-out sessions)`,
  );
}
