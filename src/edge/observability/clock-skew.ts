// How far this edge's clock is from PostgreSQL's, which every edge shares: tokens and relay
// assertions that one edge signs are checked against another's clock, so edges that disagree by
// more than CLOCK.toleranceSeconds refuse each other's. Measured every CLOCK.skewCheckMs, halving
// the round trip; reported in /healthz and metrics, and logged when it passes CLOCK.skewWarnMs.
import type { Logger } from '../../shared/logger.js';
import { CLOCK } from '../../shared/constants.js';

export interface ClockSkew {
  /** This edge's clock minus PostgreSQL's, in ms (positive: this edge is ahead). */
  skewMs: number;
  /** When it was measured (ISO, this edge's clock). */
  checkedAt: string;
  /** Beyond CLOCK.skewWarnMs. */
  warning: boolean;
}

export interface ClockSkewWatch {
  last(): ClockSkew | undefined;
  stop(): void;
}

/** The database's clock in ms since the epoch (e.g. `SELECT extract(epoch FROM clock_timestamp()) * 1000`). */
export type DatabaseClock = () => Promise<number>;

/** One measurement: the database's clock against the midpoint of the round trip. */
export async function measureClockSkew(databaseNowMs: DatabaseClock): Promise<number> {
  const sent = Date.now();
  const databaseNow = await databaseNowMs();
  const received = Date.now();
  return Math.round((sent + received) / 2 - databaseNow);
}

export function watchClockSkew(
  databaseNowMs: DatabaseClock,
  options: { log: Logger; onMeasured?: (skewMs: number) => void },
): ClockSkewWatch {
  let last: ClockSkew | undefined;
  const check = async () => {
    try {
      const skewMs = await measureClockSkew(databaseNowMs);
      const warning = Math.abs(skewMs) > CLOCK.skewWarnMs;
      if (warning && !last?.warning)
        options.log.warn(
          { skewMs, toleranceSeconds: CLOCK.toleranceSeconds },
          "this edge's clock differs from PostgreSQL's: tokens from other edges may be refused (synchronise the clocks, e.g. NTP)",
        );
      last = { skewMs, checkedAt: new Date().toISOString(), warning };
      options.onMeasured?.(skewMs);
    } catch {
      // The database is unreachable: its own health check says so; the last figure stands.
    }
  };
  void check();
  const timer = setInterval(() => void check(), CLOCK.skewCheckMs);
  timer.unref();
  return { last: () => last, stop: () => clearInterval(timer) };
}
