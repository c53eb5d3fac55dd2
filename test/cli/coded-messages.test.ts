// Every failure the CLI prints carries a code from the catalogue, and every code has its row in
// docs/troubleshooting.md (test/shared/error-catalogue.test.ts checks the rows). Two checks: a scan
// of the code the CLI runs (src/cli, src/core, bin) for errors and `airlock:` lines without a code,
// which fails when someone adds one; and the CLI itself, run into a range of failures, printing
// nothing but `airlock: [CODE] …` for each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeErrorCode } from '../../src/shared/contract/error-catalogue.js';
import { airlock } from '../helpers/processes.js';

const root = new URL('../..', import.meta.url).pathname;
const troubleshooting = readFileSync(join(root, 'docs/troubleshooting.md'), 'utf8');

/** The sources the `airlock` command runs: the CLI, the client engine it prints the errors of, its launcher. */
function cliSources(): Array<{ file: string; text: string }> {
  const files = ['src/cli', 'src/core'].flatMap((folder) =>
    readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
      .filter((file) => /\.tsx?$/.test(file))
      .map((file) => join(folder, file)),
  );
  return [...files, 'bin/airlock.js'].map((file) => ({ file, text: readFileSync(join(root, file), 'utf8') }));
}

/**
 * `file:line: what` for each message that could reach the user without a code:
 * - an Error (or TypeError, …) that is not an AirlockError, unless a comment starting
 *   `uncoded:` on the line above says why it never reaches the user as it is;
 * - an `airlock: ` line printed with neither a `[CODE]` nor describeFailure() (which adds one).
 */
export function uncodedMessages(file: string, text: string): string[] {
  const lines = text.split('\n');
  const found: string[] = [];
  lines.forEach((line, index) => {
    if (/^\s*(\/\/|\*)/.test(line)) return;
    const justified = /\/\/ uncoded: \S/.test(lines[index - 1] ?? '') || /\/\/ uncoded: \S/.test(line);
    for (const match of line.matchAll(/\bnew ((?:[A-Z][A-Za-z]*)?Error)\(/g)) {
      if (match[1] !== 'AirlockError' && !justified) found.push(`${file}:${index + 1}: new ${match[1]} without a code`);
    }
    for (const match of line.matchAll(/['"`]airlock: (?!(warning: )?\[[A-Z_]+\] |\$\{describeFailure\()/g))
      found.push(`${file}:${index + 1}: "airlock: …" printed without [CODE] (column ${match.index! + 1})`);
  });
  return found;
}

test('the CLI raises and prints no message without a code (the scan of src/cli, src/core and bin)', () => {
  assert.deepEqual(
    cliSources().flatMap(({ file, text }) => uncodedMessages(file, text)),
    [],
  );
});

test('the scan reports each way an uncoded message can be written, and lets coded ones pass', () => {
  const hostile = [
    "throw new Error('the edge said no');",
    'reject(new TypeError(`bad ${x}`));',
    'process.stderr.write(`airlock: could not start\\n`);',
    "console.error('airlock: ' + message);",
    '// uncoded: the handler below wraps it',
    "request.destroy(new Error('timed out'));",
    "throw new AirlockError('BAD_ARGUMENT', 'x');",
    'process.stderr.write(`airlock: [BAD_ARGUMENT] unknown command\\n`);',
    'say(`airlock: ${describeFailure(error)}`);',
    "// a comment may say new Error('x') or 'airlock: x'",
  ].join('\n');
  assert.deepEqual(uncodedMessages('hostile.ts', hostile), [
    'hostile.ts:1: new Error without a code',
    'hostile.ts:2: new TypeError without a code',
    'hostile.ts:3: "airlock: …" printed without [CODE] (column 22)',
    'hostile.ts:4: "airlock: …" printed without [CODE] (column 15)',
  ]);
});

/** A bare home: no tokens, no profiles, no tunnels. */
const home = () => mkdtempSync(join(tmpdir(), 'airlock-coded-'));

test('the CLI run into failures prints each as `airlock: [CODE] …`, a code with its troubleshooting row', async () => {
  const dir = home();
  const badEdge = join(dir, 'edge.yaml');
  writeFileSync(badEdge, 'listen: 127.0.0.1:0\napps: {}\n');
  const failures: string[][] = [
    ['frobnicate'],
    ['acess', 'tcp'],
    ['access', 'tcp', '--hostnme', 'db.example.test'],
    ['access', 'tcp', '--hostname'],
    ['access', 'tcp', '--hostname', 'db.example.test', '--url', '127.0.0.1:99999'],
    ['access', 'list'],
    ['access', 'token', '--app', 'db.example.test'],
    ['access', 'profiles', '--forget', 'db.example.test'],
    ['access', 'logout', 'db.example.test', '--hostname', 'other.example.test'],
    ['access', 'ssh-config'],
    ['service', 'install', '--dry-run'],
    ['service', 'install', '--platform', 'beos'],
    ['edge', '--config', badEdge, '--check'],
    ['edge', '--config', join(dir, 'missing.yaml'), '--check'],
    ['tunnel', 'run'],
    ['admin', 'locks'],
    ['admin'],
  ];
  // Three at a time: each is a Node start-up, on a machine others share.
  for (let next = 0; next < failures.length; next += 3) {
    const batch = failures
      .slice(next, next + 3)
      .map((argv) => ({ argv, run: airlock(argv, { XDG_CONFIG_HOME: dir }) }));
    for (const { argv, run } of batch) await check(argv, run);
  }
  async function check(argv: string[], run: ReturnType<typeof airlock>): Promise<void> {
    const status = await run.exited(60_000);
    const shown = `airlock ${argv.join(' ')} →\n${run.output()}`;
    assert.notEqual(status, 0, shown);
    const lines = run
      .output()
      .split('\n')
      .filter((line) => line.startsWith('airlock:'));
    assert.ok(lines.length > 0, `no airlock: line: ${shown}`);
    for (const line of lines) {
      const code = /^airlock: \[([A-Z_]+)\] \S/.exec(line)?.[1];
      assert.ok(code, `uncoded: ${shown}`);
      assert.equal(describeErrorCode(code)?.kind, 'airlock', `${code} is not in the catalogue: ${shown}`);
      assert.match(troubleshooting, new RegExp(`^\\| \`${code}\` \\|`, 'm'), `${code} has no row`);
      assert.notEqual(code, 'UNEXPECTED', `a failure the CLI should name: ${shown}`);
    }
  }
});

test('`airlock admin --help` lists the admin commands (it said "unknown command")', async () => {
  const run = airlock(['admin', '--help'], { XDG_CONFIG_HOME: home() });
  assert.equal(await run.exited(60_000), 0, run.output());
  assert.match(run.output(), /usage: airlock admin COMMAND/);
  assert.match(run.output(), /admin lock\|unlock\|locks/);
});
