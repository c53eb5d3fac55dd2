// Tests run an edge whose clock is off (AIRLOCK_TEST_CLOCK_OFFSET_MS, docs/scale.md "Clocks"): the
// whole process sees the shifted time, as on a host whose clock drifted. Only the environment sets
// it, never edge.yaml.
export const TEST_CLOCK_OFFSET_ENV = 'AIRLOCK_TEST_CLOCK_OFFSET_MS';

export function applyTestClockOffset(env: NodeJS.ProcessEnv = process.env): number {
  const offsetMs = Number(env[TEST_CLOCK_OFFSET_ENV] ?? 0);
  if (!Number.isFinite(offsetMs) || offsetMs === 0) return 0;
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  class ShiftedDate extends RealDate {
    constructor(...args: ConstructorParameters<DateConstructor> | []) {
      if (args.length === 0) super(realNow() + offsetMs);
      else super(...(args as ConstructorParameters<DateConstructor>));
    }
    static override now(): number {
      return realNow() + offsetMs;
    }
  }
  globalThis.Date = ShiftedDate as DateConstructor;
  return offsetMs;
}
