// A newer session for an identity and app carries that identity's open streams over (docs/security.md
// "What ends when"): seen here when a sign-in issues a token or a token is presented, and, with
// several edges, announced to the others, since the edge holding a stream may not be the one the
// user signed in at. Only a later expiry is ever announced, each once per edge (bounded).
import type { Logger } from '../../shared/logger.js';
import type { OpenStreams } from './open-streams.js';

export interface SessionRenewal {
  /** describePrincipal() of the user: their email. */
  who: string;
  /** The app's hostname. */
  app: string;
  sessionId: string;
  /** Epoch ms the session expires at. */
  expiresAt: number;
}

/** How many (session, app) pairs an edge remembers having announced; past it the oldest is forgotten. */
const MAX_ANNOUNCED = 10_000;

export class SessionRenewals {
  private readonly announced = new Map<string, number>();

  constructor(
    private readonly openStreams: OpenStreams,
    /** Several edges: tells the others (PostgreSQL NOTIFY). A lost announcement ends a stream at its old expiry. */
    private readonly publish?: (renewal: SessionRenewal) => Promise<void>,
    private readonly log?: Logger,
  ) {}

  /** A session seen at this edge: streams here carry over now, the other edges' once announced. */
  seen(renewal: SessionRenewal): void {
    this.apply(renewal);
    if (!this.publish) return;
    const key = `${renewal.sessionId}\n${renewal.app}`;
    if ((this.announced.get(key) ?? 0) >= renewal.expiresAt) return;
    this.announced.delete(key);
    this.announced.set(key, renewal.expiresAt);
    if (this.announced.size > MAX_ANNOUNCED) this.announced.delete(this.announced.keys().next().value!);
    this.publish(renewal).catch((error: Error) =>
      this.log?.warn({ error: error.message, app: renewal.app }, 'session renewal not announced to the other edges'),
    );
  }

  /** A renewal seen here or announced by another edge; returns how many streams here it carried over. */
  apply({ who, app, sessionId, expiresAt }: SessionRenewal): number {
    const carried = this.openStreams.renew(who, app, sessionId, expiresAt);
    if (carried > 0)
      this.log?.info(
        { event: 'streams-carried-over', who, app, streams: carried },
        'a newer session carries open streams over',
      );
    return carried;
  }
}

/** The announcement's payload, checked: another edge wrote it, but a malformed one is dropped, not trusted. */
export function parseRenewal(payload: string): SessionRenewal | undefined {
  try {
    const { who, app, sessionId, expiresAt } = JSON.parse(payload) as Partial<SessionRenewal>;
    if (typeof who !== 'string' || typeof app !== 'string' || typeof sessionId !== 'string') return undefined;
    if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) return undefined;
    return { who, app, sessionId, expiresAt };
  } catch {
    return undefined;
  }
}
