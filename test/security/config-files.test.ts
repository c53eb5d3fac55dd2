// Config files (edge.yaml, connector.yaml) are read as secret files are (src/shared/regular-file.ts):
// a device or a FIFO given as --config is refused at once with CONFIG_UNREADABLE, where a plain
// read filled memory from /dev/zero (8.3 GB in 18 s, an attack run) or waited forever on a FIFO.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConnectorConfig } from '../../src/connector/config.js';
import { loadEdgeConfig } from '../../src/edge/config/config.js';
import { airlock } from '../helpers/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'airlock-config-files-'));
const fifo = join(dir, 'config.fifo');
execFileSync('mkfifo', ['-m', '600', fifo]);

const loaders = { 'edge.yaml': loadEdgeConfig, 'connector.yaml': loadConnectorConfig };

for (const [name, load] of Object.entries(loaders)) {
  test(`${name}: /dev/zero is refused as not a regular file, before any byte is read`, () => {
    assert.throws(
      () => load('/dev/zero'),
      (error: Error & { code?: string }) =>
        error.code === 'CONFIG_UNREADABLE' && /not a regular file/.test(error.message),
    );
  });

  test(`${name}: a FIFO is refused at once, not waited on`, () => {
    assert.throws(() => load(fifo), /not a regular file/);
  });

  test(`${name}: a file over 4 MiB is refused by its size`, () => {
    const big = join(dir, `${name}.big`);
    writeFileSync(big, '');
    truncateSync(big, 5 * 1024 * 1024);
    assert.throws(() => load(big), /larger than 4 MiB/);
  });
}

test('`airlock tunnel run --config /dev/zero` and `edge --config FIFO --check` exit at once with the reason', async () => {
  for (const argv of [
    ['tunnel', 'run', '--config', '/dev/zero'],
    ['edge', '--config', fifo, '--check'],
  ]) {
    const run = airlock(argv);
    const status = await run.exited(20_000);
    assert.notEqual(status, 0, run.output());
    assert.match(run.output(), /\[CONFIG_UNREADABLE\] .*not a regular file/);
  }
});
