// The error catalogue is the one list of codes a user can meet: every code the source can raise or
// send is declared there, and every declared code is explained in docs/troubleshooting.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError, toErrorBody } from '../../src/shared/contract/api.js';
import {
  ERROR_CATALOGUE,
  describeErrorCode,
  isErrorCode,
  type ErrorKind,
} from '../../src/shared/contract/error-catalogue.js';
import { AirlockError } from '../../src/shared/errors.js';

const root = new URL('../..', import.meta.url).pathname;
const troubleshooting = readFileSync(join(root, 'docs/troubleshooting.md'), 'utf8');

/** Every .ts/.tsx file under a folder of the repository, with its text. */
function sources(folder: string): Array<{ file: string; text: string }> {
  return readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.tsx?$/.test(file))
    .map((file) => ({ file: join(folder, file), text: readFileSync(join(root, folder, file), 'utf8') }));
}

/** How each kind of code is written in the source: the literal is the first group. */
const USES: Array<{ kinds: ErrorKind[]; pattern: RegExp; folders: string[] }> = [
  { kinds: ['airlock'], pattern: /new AirlockError\(\s*'([A-Za-z_]+)'/g, folders: ['src'] },
  // ApiError carries an AirlockError's code or one of the API's own.
  { kinds: ['airlock', 'api'], pattern: /new ApiError\(\s*'([A-Za-z_]+)'/g, folders: ['src'] },
  // Envelopes written by hand: the Electron shell, the preload, the browser-mode client.
  { kinds: ['airlock', 'api'], pattern: /error: \{ code: '([A-Za-z_]+)'/g, folders: ['src'] },
  // The `error` member of the edge's JSON answers, and the error the sign-in hands the native app.
  { kinds: ['edge'], pattern: /\berror: '([a-z_]+)'/g, folders: ['src/edge'] },
  { kinds: ['edge'], pattern: /'error', '([a-z_]+)'/g, folders: ['src/edge'] },
];

/** `file: CODE (kind)` for each code the text uses that the catalogue does not declare as one of `kinds`. */
function undeclared(file: string, text: string, use: (typeof USES)[number]): string[] {
  return [...text.matchAll(use.pattern)]
    .map((match) => match[1]!)
    .filter((code) => !use.kinds.includes(describeErrorCode(code)?.kind as ErrorKind))
    .map((code) => `${file}: ${code} (${use.kinds.join(' or ')})`);
}

function undeclaredInTree(): string[] {
  return USES.flatMap((use) =>
    use.folders.flatMap((folder) => sources(folder).flatMap(({ file, text }) => undeclared(file, text, use))),
  );
}

test('every code the source raises or sends is declared in the catalogue, as its kind', () => {
  assert.deepEqual(undeclaredInTree(), []);
});

test('the scan finds the codes it checks (it is not passing because it matches nothing)', () => {
  const found = USES.map((use) =>
    use.folders
      .flatMap((folder) => sources(folder))
      .reduce((count, { text }) => count + [...text.matchAll(use.pattern)].length, 0),
  );
  for (const [index, count] of found.entries())
    assert.ok(count > 0, `pattern ${USES[index]!.pattern} matched nothing in ${USES[index]!.folders.join(', ')}`);
});

test('an undeclared code is reported, whichever way it is written', () => {
  const hostile = [
    "throw new AirlockError('NOT_A_CODE', 'x');",
    "throw new AirlockError(\n  'ALSO_NOT_A_CODE',\n  'x');",
    "throw new ApiError('NOPE', 'x');",
    "return { ok: false, error: { code: 'NOPE', message: 'x' } };",
    "sendJson(res, 400, { error: 'not_declared', message: 'x' });",
    "target.searchParams.set('error', 'not_declared');",
  ].join('\n');
  const reported = USES.flatMap((use) => undeclared('hostile.ts', hostile, use));
  assert.deepEqual(reported, [
    'hostile.ts: NOT_A_CODE (airlock)',
    'hostile.ts: ALSO_NOT_A_CODE (airlock)',
    'hostile.ts: NOPE (airlock or api)',
    'hostile.ts: NOPE (airlock or api)',
    'hostile.ts: not_declared (edge)',
    'hostile.ts: not_declared (edge)',
  ]);
});

test('a code of another kind is reported too: an edge refusal is no AirlockError code', () => {
  const use = USES[0]!;
  assert.deepEqual(undeclared('mixed.ts', "new AirlockError('access_denied', 'x')", use), [
    'mixed.ts: access_denied (airlock)',
  ]);
});

/** Declared codes without a table row `| \`CODE\` | meaning | what to do |` in the text. */
function undocumented(docs: string): string[] {
  return Object.keys(ERROR_CATALOGUE).filter(
    (code) => !new RegExp(`^\\| \`${code}\` \\| [^|]+\\| [^|]+\\|$`, 'm').test(docs),
  );
}

test('every declared code has a row in docs/troubleshooting.md, with words beside it', () => {
  assert.deepEqual(undocumented(troubleshooting), []);
});

test('a code whose row is missing from the docs is reported', () => {
  assert.deepEqual(undocumented(troubleshooting.replace(/^\| `NO_CONNECTOR` \|.*$/m, '')), ['NO_CONNECTOR']);
  assert.deepEqual(undocumented(troubleshooting.replace(/^(\| `no_connector` \|)[^|]*\|[^|]*\|$/m, '$1')), [
    'no_connector',
  ]);
});

test('every entry says what happened and what to do, in one line each', () => {
  for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
    assert.ok(entry.meaning.length > 10 && !entry.meaning.includes('\n'), `${code}: meaning`);
    assert.ok(entry.action.length > 4 && !entry.action.includes('\n'), `${code}: action`);
  }
});

test('codes keep their spelling: upper case for the client and app, the wire spelling for edge refusals', () => {
  for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
    assert.match(code, entry.kind === 'edge' ? /^[a-z]+(_[a-z]+)*$/ : /^[A-Z]+(_[A-Z]+)*$/, code);
  }
});

test('isErrorCode takes the codes the window may show, not edge refusals or other strings', () => {
  assert.equal(isErrorCode('EDGE_UNREACHABLE'), true);
  assert.equal(isErrorCode('DISCONNECTED'), true);
  assert.equal(isErrorCode('access_denied'), false);
  assert.equal(isErrorCode('ENOENT'), false);
  assert.equal(isErrorCode('toString'), false);
  assert.equal(isErrorCode(undefined), false);
});

test('the API envelope carries declared codes only: an undeclared one travels as FAILED, with its message', () => {
  assert.deepEqual(toErrorBody(new AirlockError('PORT_IN_USE', 'taken')), { code: 'PORT_IN_USE', message: 'taken' });
  assert.deepEqual(toErrorBody(new ApiError('CONFLICT', 'same name', { name: 'taken' })), {
    code: 'CONFLICT',
    message: 'same name',
    fields: { name: 'taken' },
  });
  assert.deepEqual(toErrorBody(Object.assign(new Error('no such file'), { code: 'ENOENT' })), {
    code: 'FAILED',
    message: 'no such file',
  });
  assert.deepEqual(toErrorBody('plain'), { code: 'FAILED', message: 'plain' });
});
