// Argument parsing on node:util parseArgs, with errors that say which flag is wrong.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AirlockError, describeFailure } from '../shared/errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

export function parse<T extends Options>(argv: string[], options: T, usage: string) {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new AirlockError(
      'BAD_ARGUMENT',
      `${describeParseError(error as NodeJS.ErrnoException, options)}\n\n${usage}`,
    );
  }
}

/** parseArgs' own text, told plainly: which flag, and the nearest real one for a typo. */
function describeParseError(error: NodeJS.ErrnoException, options: Options): string {
  const flag = /'(-[^' ]+)/.exec(error.message)?.[1] ?? '';
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const guess = nearest(flag.replace(/^-+/, ''), [...Object.keys(options), 'help']);
    return `unknown option ${flag}${guess ? `; did you mean --${guess}?` : ''}`;
  }
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return `${flag} needs a value`;
  return error.message.replace(/^.*?: /, '');
}

/** The candidate closest to word (edit distance at most a third of its length, at least 2), if any. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

export function required(value: string | undefined, flag: string, usage: string): string {
  if (value === undefined || value === '') throw new AirlockError('BAD_ARGUMENT', `${flag} is required\n\n${usage}`);
  return value;
}

/** Long-running commands stop cleanly on the first Ctrl-C or SIGTERM and at once on the second. */
export function onShutdown(stop: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    stop(signal).then(
      () => process.exit(0),
      (error: Error) => {
        console.error(`airlock: ${describeFailure(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** --help: the usage on stdout (so `airlock X --help | less` works), ending in exactly one newline. */
export function showUsage(usage: string): void {
  process.stdout.write(`${usage.trimEnd()}\n`);
}

export function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

export { describeFailure } from '../shared/errors.js';
