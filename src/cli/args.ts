// Argument parsing on node:util parseArgs, with errors that say which flag is wrong.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AirlockError, isAirlockError } from '../shared/errors.js';

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
    throw new AirlockError('BAD_ARGUMENT', `${(error as Error).message.replace(/^.*?: /, '')}\n\n${usage}`);
  }
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

/**
 * A failure as the CLI prints it after `airlock: `: an AirlockError with its code in brackets, so
 * the user can look it up (docs/troubleshooting.md "Error codes"); anything else by its message.
 */
export function describeFailure(error: Error): string {
  return isAirlockError(error) ? `[${error.code}] ${error.message}` : error.message;
}
