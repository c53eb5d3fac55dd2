// Secrets the CLI takes (tokens, service-token and client secrets), from where other local users
// cannot read them: an environment variable or a 0600 file. A flag still works, with a warning:
// every local user sees a command line in `ps`.
import { readSecretLine } from './secret-file.js';

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

/** The first line of FILE, under the one rule for secret files (src/shared/secret-file.ts). */
export function readSecretFile(file: string, flag: string): string {
  return readSecretLine(file, flag);
}
