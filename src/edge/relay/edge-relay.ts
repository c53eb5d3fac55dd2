// Several edges (docs/scale.md): a client stream that lands on an edge holding no connector of its
// tunnel is relayed to an edge that holds one, over that edge's internal relay listener. The
// request carries a short assertion signed with this edge's key, which every edge of the
// deployment knows (the shared key union) and no other deployment's edge does. Which edge holds
// which tunnel is a directory in PostgreSQL, kept fresh by heartbeats (a dead edge drops out) and
// read into memory, so relays carry on through a database outage.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { CLOCK, DEFAULTS, HEADER, RESUME } from '../../shared/constants.js';
import { AirlockError } from '../../shared/errors.js';
import type { Principal } from '../gateway/identity.js';
import { JwsError, keyObjectFor, signJwsEs256, verifyJwsEs256 } from '../../shared/jws-es256.js';
import type { Logger } from '../../shared/logger.js';
import type { SigningKeys } from '../tokens/signing-keys.js';
import type { PostgresState } from '../state/postgres.js';
import type { TunnelRegistry } from '../tunnels/tunnel-registry.js';

export const RELAY = {
  header: 'airlock-relay-assertion',
  type: 'relay',
  audience: 'airlock-relay',
  lifetimeSeconds: 30,
  /** How often an edge says which tunnels it holds, and how old a word may be before it is ignored. */
  heartbeatMs: 2_000,
  staleMs: 6_000,
  /** Rows of edges silent this long are deleted: no stream can still wait on them. */
  forgetMs: 60 * 60_000,
} as const;

export interface RelayClaims {
  tun: string;
  host: string;
  svc: string;
  sid: string;
  principal: Principal;
}

export function signRelayAssertion(keys: SigningKeys, issuer: string, claims: RelayClaims): string {
  const key = keys.current();
  const now = Math.floor(Date.now() / 1000);
  const principal =
    claims.principal.kind === 'service-token'
      ? { kind: 'service-token', id: claims.principal.id }
      : { kind: 'user', email: claims.principal.email, sub: claims.principal.sub, groups: claims.principal.groups };
  const payload = {
    ...claims,
    principal,
    type: RELAY.type,
    // Single use is per assertion, not per stream: a resumed stream is relayed again under its id.
    jti: randomBytes(16).toString('base64url'),
    iss: issuer,
    aud: RELAY.audience,
    iat: now,
    exp: now + RELAY.lifetimeSeconds,
  };
  return signJwsEs256({ kid: key.kid, typ: 'JWT' }, payload, keyObjectFor(key.privateKey));
}

/** The claims of a relay assertion from an edge of this deployment; throws AirlockError otherwise. */
export function verifyRelayAssertion(
  token: unknown,
  keys: SigningKeys,
  issuer: string,
): RelayClaims & { exp: number; jti?: string } {
  const refuse = (why: string) => new AirlockError('ACCESS_DENIED', `relay refused: ${why}`);
  if (typeof token !== 'string' || token.length > 8192) throw refuse('no relay assertion');
  let payload: Record<string, unknown>;
  try {
    ({ payload } = verifyJwsEs256(token, (kid) => {
      const key = keys.publicKey(kid);
      return key ? keyObjectFor(key) : undefined;
    }));
  } catch (error) {
    throw refuse(error instanceof JwsError ? error.message : 'malformed assertion');
  }
  const now = Math.floor(Date.now() / 1000);
  if (payload.type !== RELAY.type || payload.aud !== RELAY.audience) throw refuse('not a relay assertion');
  if (payload.iss !== issuer) throw refuse('issued by another deployment');
  // Edges' clocks may differ by up to the tolerance (each signs with its own).
  const leeway = CLOCK.toleranceSeconds;
  if (typeof payload.exp !== 'number' || typeof payload.iat !== 'number') throw refuse('expired');
  if (payload.exp + leeway < now) throw refuse('expired');
  if (payload.iat > now + leeway) throw refuse("issued in the future (check the edges' clocks)");
  const { tun, host, svc, sid, principal } = payload as Partial<RelayClaims>;
  const validPrincipal =
    principal &&
    ((principal.kind === 'service-token' && typeof principal.id === 'string') ||
      (principal.kind === 'user' &&
        typeof principal.email === 'string' &&
        typeof principal.sub === 'string' &&
        Array.isArray(principal.groups)));
  if (
    typeof tun !== 'string' ||
    typeof host !== 'string' ||
    typeof svc !== 'string' ||
    typeof sid !== 'string' ||
    !validPrincipal
  )
    throw refuse('incomplete claims');
  // Edges from before jti keep the stream id as the assertion's name.
  const jti = typeof payload.jti === 'string' && payload.jti.length <= 64 ? payload.jti : undefined;
  return { tun, host, svc, sid, principal: principal!, exp: payload.exp, ...(jti ? { jti } : {}) };
}

/**
 * Which edges hold connectors of which tunnels: announced in PostgreSQL, and read back into memory
 * at every heartbeat, so a relay needs no query and keeps working while the database is down
 * (the last word each edge gave stands until the database answers again).
 */
export class TunnelDirectory {
  private readonly timer: NodeJS.Timeout;
  private announced = new Set<string>();
  /** tunnel → the other edges' relay URLs and when (local clock) each was last heard of. */
  private known = new Map<string, { relayUrl: string; seenAt: number }[]>();
  /**
   * Tunnels held at an edge that went silent without saying goodbye (killed, frozen, cut off), within
   * the longest resume window: a connector there may come back to it, or to another edge.
   */
  private silent = new Map<string, number>();
  private forgottenAt = 0;
  private reachable = true;
  /** When the directory was last read (local clock). */
  private readAt = 0;

  constructor(
    private readonly state: PostgresState,
    private readonly edgeId: string,
    private readonly relayUrl: string,
    private readonly registry: TunnelRegistry,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.heartbeat(), RELAY.heartbeatMs);
    this.timer.unref();
    void this.heartbeat();
  }

  /** Relay URLs of the other live edges that hold a connector of `tunnel`, in random order. */
  async peersFor(tunnel: string): Promise<string[]> {
    // A tunnel not heard of yet may have attached elsewhere since the last read: ask once.
    if (!this.known.has(tunnel) && this.reachable) await this.read().catch(() => undefined);
    const now = Date.now();
    // While the directory cannot be read (an outage, or a database that stops answering and so
    // never fails a query) nobody's word can be renewed: keep it, a dead peer just fails its dial.
    const current = this.reachable && now - this.readAt < 2 * RELAY.heartbeatMs;
    const peers = (this.known.get(tunnel) ?? [])
      .filter((peer) => !current || now - peer.seenAt < RELAY.staleMs)
      .map((peer) => peer.relayUrl);
    return shuffle(peers);
  }

  /**
   * Whether an edge that held `tunnel` stopped heartbeating without leaving (a stopping edge
   * deletes its rows): its connectors may still hold streams and come back, so a resume is worth
   * waiting for (docs/architecture.md "Resumable streams").
   */
  heldBySilentEdge(tunnel: string, withinMs: number): boolean {
    const lastHeard = this.silent.get(tunnel);
    return lastHeard !== undefined && Date.now() - lastHeard < withinMs;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.state.pool
      .query('DELETE FROM airlock_tunnel_edges WHERE edge_id = $1', [this.edgeId])
      .catch(() => undefined);
  }

  private async heartbeat(): Promise<void> {
    const held = new Set(
      this.registry
        .all()
        .filter((connection) => !connection.draining)
        .map((connection) => connection.tunnelId),
    );
    try {
      for (const tunnel of held) {
        await this.state.pool.query(
          `INSERT INTO airlock_tunnel_edges (tunnel_id, edge_id, relay_url, heartbeat_at) VALUES ($1, $2, $3, now())
           ON CONFLICT (tunnel_id, edge_id) DO UPDATE SET relay_url = EXCLUDED.relay_url, heartbeat_at = now()`,
          [tunnel, this.edgeId, this.relayUrl],
        );
      }
      const gone = [...this.announced].filter((tunnel) => !held.has(tunnel));
      if (gone.length > 0)
        await this.state.pool.query('DELETE FROM airlock_tunnel_edges WHERE edge_id = $1 AND tunnel_id = ANY($2)', [
          this.edgeId,
          gone,
        ]);
      this.announced = held;
      // Once a minute is plenty for rows that matter only after an hour.
      if (Date.now() - this.forgottenAt > 60_000) {
        this.forgottenAt = Date.now();
        await this.state.pool.query(
          `DELETE FROM airlock_tunnel_edges WHERE heartbeat_at < now() - $1 * interval '1 millisecond'`,
          [RELAY.forgetMs],
        );
      }
      await this.read();
    } catch (error) {
      if (this.reachable)
        this.log.warn({ error: (error as Error).message }, 'tunnel directory: keeping the last known');
      this.reachable = false;
    }
  }

  /**
   * The other edges' entries: live ones, and silent ones young enough for a stream to still wait to
   * resume. Ages come from the database's clock, so edges' clocks need not agree.
   */
  private async read(): Promise<void> {
    const { rows } = await this.state.pool.query<{ tunnel_id: string; relay_url: string; age_ms: number }>(
      `SELECT tunnel_id, relay_url, (extract(epoch FROM now() - heartbeat_at) * 1000)::float8 AS age_ms
       FROM airlock_tunnel_edges WHERE edge_id <> $1 AND heartbeat_at > now() - $2 * interval '1 millisecond'`,
      [this.edgeId, RESUME.maxWindowMs],
    );
    const now = Date.now();
    const known = new Map<string, { relayUrl: string; seenAt: number }[]>();
    const silent = new Map<string, number>();
    for (const row of rows) {
      if (row.age_ms >= RELAY.staleMs) {
        silent.set(row.tunnel_id, Math.max(silent.get(row.tunnel_id) ?? 0, now - row.age_ms));
        continue;
      }
      known.set(row.tunnel_id, [
        ...(known.get(row.tunnel_id) ?? []),
        { relayUrl: row.relay_url, seenAt: now - row.age_ms },
      ]);
    }
    this.known = known;
    this.silent = silent;
    this.reachable = true;
    this.readAt = now;
  }
}

function shuffle<T>(items: T[]): T[] {
  for (let index = items.length - 1; index > 0; index--) {
    const other = Math.floor(Math.random() * (index + 1));
    [items[index], items[other]] = [items[other]!, items[index]!];
  }
  return items;
}

/** Opens the relay WebSocket to a peer edge; resolves with it open, rejects with why it could not. */
export function dialRelay(
  relayUrl: string,
  assertion: string,
  ca?: Buffer,
  headers: Record<string, string> = {},
  onResponse?: (headers: IncomingMessage['headers']) => void,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(relayUrl, {
      headers: { ...headers, [RELAY.header]: assertion, [HEADER.halfClose]: '1' },
      ...(ca ? { ca } : {}),
      perMessageDeflate: false,
      handshakeTimeout: DEFAULTS.connectTimeoutMs,
      maxPayload: DEFAULTS.maxFrameBytes,
      skipUTF8Validation: true,
    });
    ws.binaryType = 'nodebuffer';
    ws.once('upgrade', (response) => onResponse?.(response.headers));
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_request, response) => {
      ws.terminate();
      const status = response.statusCode;
      // 410: the connector there no longer holds the resumed stream, which is final.
      const code = status === 503 ? 'NO_CONNECTOR' : status === 410 ? 'RESUME_REFUSED' : 'ORIGIN_FAILED';
      reject(new AirlockError(code, `the relay edge answered HTTP ${status}`));
    });
    ws.once('error', (error) =>
      reject(new AirlockError('ORIGIN_FAILED', `the relay edge is unreachable: ${error.message}`)),
    );
  });
}

export interface RelayDialerDeps {
  /** The relay URLs of the live edges holding the tunnel, in random order. */
  peersFor(tunnel: string): Promise<string[]>;
  keys: SigningKeys;
  issuer: () => string;
  /** edge.yaml `relay.ca`: the CA of the other edges' relay listeners, if not a public one. */
  ca?: Buffer;
  log: Logger;
}

/** Relays a stream to an edge that holds the app's tunnel: the first that answers, or undefined. */
export function createRelayDialer({ peersFor, keys, issuer, ca, log }: RelayDialerDeps) {
  return async (
    app: { tunnel: string; hostname: string; serviceAuthority: string },
    principal: Principal,
    streamId: string,
    headers?: Record<string, string>,
    onResponse?: (headers: IncomingMessage['headers']) => void,
  ): Promise<WebSocket | undefined> => {
    const peers = await peersFor(app.tunnel);
    const assertion = signRelayAssertion(keys, issuer(), {
      tun: app.tunnel,
      host: app.hostname,
      svc: app.serviceAuthority,
      sid: streamId,
      principal,
    });
    for (const peer of peers) {
      try {
        return await dialRelay(peer, assertion, ca, headers, onResponse);
      } catch (error) {
        // A refused resume is the answer: another edge would only be asked in vain.
        if (error instanceof AirlockError && error.code === 'RESUME_REFUSED') throw error;
        log.warn({ peer, error: (error as Error).message }, 'relay to another edge failed; trying the next');
      }
    }
    return undefined;
  };
}
