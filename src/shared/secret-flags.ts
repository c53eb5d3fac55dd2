// Secrets the CLI takes (tokens, service-token and client secrets), from where other local users
// cannot read them: an environment variable or a 0600 file. A flag still works, with a warning:
// every local user sees a command line in `ps`.
import { readFileSync, statSync } from 'node:fs';
import { AirlockError } from './errors.js';

export interface SecretSource {
  /** e.g. "--token": its value if the user passed it. */
  flag: string;
  flagValue: string | undefined;
  /** The FILE of the matching "--token-file" flag, if passed. */
  fileValue: string | undefined;
  env: string;
}

export function readSecret(source: SecretSource, warn: (message: string) => void): string | undefined {
  if (source.flagValue !== undefined) {
    warn(
      `airlock: ${source.flag} puts the secret on the command line, where every user of this machine can read it (ps); use ${source.env}=… or ${source.flag}-file FILE (mode 0600) instead.`,
    );
    return source.flagValue;
  }
  if (source.fileValue !== undefined) return readSecretFile(source.fileValue, `${source.flag}-file`);
  const fromEnv = process.env[source.env];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

/** The first line of FILE; refused when group or others may read it (as ssh refuses a key). */
export function readSecretFile(file: string, flag: string): string {
  let mode: number;
  let text: string;
  try {
    mode = statSync(file).mode;
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new AirlockError('BAD_ARGUMENT', `cannot read ${flag} ${file}: ${(error as Error).message}`);
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new AirlockError(
      'BAD_ARGUMENT',
      `${flag} ${file} can be read by other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${file}`,
    );
  }
  const secret = text.split(/\r?\n/)[0]!.trim();
  if (!secret) throw new AirlockError('BAD_ARGUMENT', `${flag} ${file} is empty`);
  return secret;
}
