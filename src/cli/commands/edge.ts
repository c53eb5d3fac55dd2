// `airlock edge --config edge.yaml`: runs the edge until SIGTERM, then drains.
import { loadEdgeConfig } from '../../edge/config/config.js';
import { startEdge } from '../../edge/edge-server.js';
import { AirlockError } from '../../shared/errors.js';
import { parseDuration } from '../../shared/contract/duration.js';
import { createLogger } from '../../shared/logger.js';
import { nodeFlagsNotice } from '../../shared/node-flags.js';
import { onShutdown, parse, required, say, showUsage } from '../args.js';
import { applyTestClockOffset, TEST_CLOCK_OFFSET_ENV } from '../test-clock.js';
import { airlockVersion } from '../version.js';

const USAGE = `usage: airlock edge --config edge.yaml [--check] [--drain-timeout 30s]

  --config FILE          the edge configuration (see docs/configuration.md)
  --check                validate the configuration and exit (0 valid, 2 invalid)
  --drain-timeout TIME   how long in-flight streams may finish after SIGTERM`;

export async function edgeCommand(argv: string[]): Promise<void> {
  const { values } = parse(
    argv,
    { config: { type: 'string', short: 'c' }, check: { type: 'boolean' }, 'drain-timeout': { type: 'string' } },
    USAGE,
  );
  if (values.help) return showUsage(USAGE);
  const drainMs = parseDuration(values['drain-timeout'] ?? '30s');
  if (drainMs === undefined)
    throw new AirlockError('BAD_ARGUMENT', `--drain-timeout "${values['drain-timeout']}" is not a duration like 10s`);
  const config = loadEdgeConfig(required(values.config, '--config', USAGE));
  if (values.check) {
    process.stdout.write(
      `${config.source}: valid for airlock ${airlockVersion()} (${config.apps.size} apps, ${config.unpublishedApps.size} awaiting a route, ${config.tunnels.size} tunnels, ${config.serviceTokens.size} service tokens)\n`,
    );
    if (config.state) {
      const { MIGRATIONS, readSchemaVersion } = await import('../../edge/state/postgres.js');
      const version = await readSchemaVersion(config.state.postgres.url, `${config.source}: state.postgres.url`);
      const wanted = MIGRATIONS.length;
      say(
        `shared state: PostgreSQL schema version ${version}${version === wanted ? ' (current)' : version === 0 ? ` (a fresh database: the first edge to start creates the tables, version ${wanted})` : version < wanted ? ` (the edge migrates it to ${wanted} when it starts)` : ` (newer than this edge's ${wanted}: upgrade the edge)`}`,
      );
    }
    return;
  }
  const log = createLogger('edge');
  const clockOffsetMs = applyTestClockOffset();
  if (clockOffsetMs) log.warn({ clockOffsetMs }, `clock shifted for a test (${TEST_CLOCK_OFFSET_ENV})`);
  const notice = nodeFlagsNotice();
  if (notice) log.debug(notice);
  const edge = await startEdge({ config, log });
  // The handler is in place before the ready line: whoever reads that line may signal at once.
  onShutdown(async (signal) => {
    log.info({ signal, drainMs }, 'draining');
    await edge.close(drainMs);
  });
  say(`edge listening on ${edge.address} (${config.publicUrl}), ${config.apps.size} apps; airlock ${airlockVersion()}`);
}
