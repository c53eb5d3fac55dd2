// Edges that share a database say which configuration they run (its fingerprint, see
// config/config-fingerprint.ts) and compare it with their peers': an edge started with another
// edge.yaml (an app's aud, a policy) is logged and shown in /healthz instead of failing quietly.
import type { Logger } from '../../shared/logger.js';
import type { PostgresState } from './postgres.js';

export const AGREEMENT = {
  /** How often an edge says its fingerprint and reads its peers'. */
  everyMs: 5_000,
  /** A peer not heard from for this long has stopped. */
  staleMs: 30_000,
} as const;

export interface ConfigAgreementStatus {
  fingerprint: string;
  /** Live peers whose fingerprint differs from this edge's. */
  differingPeers: { edgeId: string; fingerprint: string }[];
}

export class ConfigAgreement {
  private readonly timer: NodeJS.Timeout;
  private differing: ConfigAgreementStatus['differingPeers'] = [];
  private readonly warned = new Set<string>();

  constructor(
    private readonly state: PostgresState,
    private readonly edgeId: string,
    private readonly fingerprint: string,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.compare(), AGREEMENT.everyMs);
    this.timer.unref();
  }

  /** Publishes this edge's fingerprint and reads the peers' (also done every few seconds). */
  async compare(): Promise<void> {
    try {
      await this.state.pool.query(
        `INSERT INTO airlock_edges (edge_id, fingerprint, seen_at) VALUES ($1, $2, now())
         ON CONFLICT (edge_id) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, seen_at = now()`,
        [this.edgeId, this.fingerprint],
      );
      const { rows } = await this.state.pool.query<{ edge_id: string; fingerprint: string }>(
        `SELECT edge_id, fingerprint FROM airlock_edges
         WHERE edge_id <> $1 AND fingerprint <> $2 AND seen_at > now() - $3 * interval '1 millisecond'`,
        [this.edgeId, this.fingerprint, AGREEMENT.staleMs],
      );
      this.differing = rows.map((row) => ({ edgeId: row.edge_id, fingerprint: row.fingerprint }));
      for (const peer of this.differing) {
        const key = `${peer.edgeId} ${peer.fingerprint}`;
        if (this.warned.has(key)) continue;
        this.warned.add(key);
        this.log.warn(
          {
            event: 'config-mismatch',
            fingerprint: this.fingerprint,
            peer: peer.edgeId,
            peerFingerprint: peer.fingerprint,
          },
          'another edge on this database runs a different configuration (apps, policies, tunnels, service tokens, idp or publicUrl differ)',
        );
      }
    } catch (error) {
      this.log.debug({ error: (error as Error).message }, 'could not compare configuration with the other edges');
    }
  }

  status(): ConfigAgreementStatus {
    return { fingerprint: this.fingerprint, differingPeers: this.differing };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.state.pool.query('DELETE FROM airlock_edges WHERE edge_id = $1', [this.edgeId]).catch(() => undefined);
  }
}
