#!/usr/bin/env node
// Runs every suite (node:test under test/, Playwright under e2e/ when present) and ends with
// one plain line "N passed, N failed, N skipped" that totals them all. Exit code 1 on any failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

// keytar is tested against a real Secret Service: on headless Linux, re-run inside a private D-Bus
// session with an unlocked gnome-keyring (scripts/with-keyring.sh) when both are installed.
const onPath = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
if (process.platform === 'linux' && !process.env.DBUS_SESSION_BUS_ADDRESS && !process.env.AIRLOCK_TESTS_NO_KEYRING) {
  if (onPath('dbus-run-session') && onPath('gnome-keyring-daemon')) {
    console.log(
      'Running the suites inside a private D-Bus session with gnome-keyring (a real Secret Service for keytar).',
    );
    const child = spawnSync(join(root, 'scripts/with-keyring.sh'), [process.execPath, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, AIRLOCK_TESTS_NO_KEYRING: '1' },
    });
    process.exit(child.status ?? 1);
  }
  console.log(
    'No dbus-run-session/gnome-keyring-daemon: keychain tests will skip (apt-get install dbus gnome-keyring).',
  );
}
const only = process.argv.slice(2);
const totals = { passed: 0, failed: 0, skipped: 0 };

function testFiles(dir) {
  return readdirSync(join(root, dir), { recursive: true })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => join(dir, file))
    .filter((file) => only.length === 0 || only.some((part) => file.includes(part)))
    .sort();
}

// Every log and audit file the suites write goes here; the log scan runs last, over all of them.
const LOG_SCAN = 'test/security/log-scan.test.ts';
const logDir = mkdtempSync(join(tmpdir(), 'airlock-test-logs-'));

function runNodeTests() {
  const files = testFiles('test');
  const scan = files.includes(LOG_SCAN);
  const rest = files.filter((file) => file !== LOG_SCAN);
  if (rest.length > 0) runNodeFiles('node:test', rest);
  if (scan) runNodeFiles('node:test log scan', [LOG_SCAN]);
}

function runNodeFiles(suite, files) {
  const countFile = join(mkdtempSync(join(tmpdir(), 'airlock-tests-')), 'counts.json');
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-concurrency=2',
      '--test-timeout=180000',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=./scripts/count-reporter.mjs',
      `--test-reporter-destination=${countFile}`,
      ...files,
    ],
    { cwd: root, stdio: 'inherit', env: { ...process.env, AIRLOCK_TEST_LOG_DIR: logDir } },
  );
  const counts = existsSync(countFile)
    ? JSON.parse(readFileSync(countFile, 'utf8'))
    : { passed: 0, failed: 1, skipped: 0 };
  if (result.status !== 0 && counts.failed === 0) counts.failed = 1; // a crash of the runner itself is a failure
  add(suite, counts);
}

function runPlaywright() {
  if (!existsSync(join(root, 'playwright.config.ts')) || (only.length > 0 && !only.includes('e2e'))) return;
  const jsonFile = join(mkdtempSync(join(tmpdir(), 'airlock-e2e-')), 'results.json');
  const result = spawnSync('npx', ['playwright', 'test', '--reporter=list,json'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_NAME: jsonFile },
  });
  let counts = { passed: 0, failed: 1, skipped: 0 };
  if (existsSync(jsonFile)) {
    const { stats } = JSON.parse(readFileSync(jsonFile, 'utf8'));
    counts = { passed: stats.expected + stats.flaky, failed: stats.unexpected, skipped: stats.skipped };
  }
  if (result.status !== 0 && counts.failed === 0) counts.failed = 1;
  add('playwright', counts);
}

// One formatting for every source file (.prettierrc.json; .prettierignore leaves out docs, data and
// generated files): unformatted files fail the suite, by name.
function runFormatCheck() {
  if (only.length > 0 && !only.includes('format')) return;
  const result = spawnSync('npx', ['prettier', '--check', '--log-level', 'warn', '.'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) console.log('Unformatted files are listed above; `npm run format` formats them.');
  add('prettier', result.status === 0 ? { passed: 1, failed: 0, skipped: 0 } : { passed: 0, failed: 1, skipped: 0 });
}

function add(suite, counts) {
  console.log(`[${suite}] ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  for (const key of Object.keys(totals)) totals[key] += counts[key];
}

runFormatCheck();
runNodeTests();
runPlaywright();
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 ? 1 : 0);
