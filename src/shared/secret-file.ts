// The one rule for every file that holds a secret (tokens, client secrets, the users file of the
// built-in IdP, the edge's TLS key): a regular file, owned by the user running Airlock (or root),
// that neither group nor others may read or write, as ssh insists for a private key. It is opened
// non-blocking and checked on the open descriptor (fstat), so a FIFO cannot hang the reader and a
// file swapped after a check cannot slip through. Node only (the CLI, the connector, the edge, the IdP).
import { AirlockError } from './errors.js';
import { readRegularFile } from './regular-file.js';

/** Far above any token, key or users file; a larger "secret" is not one. */
const MAX_SECRET_FILE_BYTES = 1024 * 1024;

/** Reads a secret file whole after checking it; `what` names it in errors ("--token-file", "connector.yaml tokenFile"). */
export function readSecretFileText(file: string, what: string): string {
  const refuse = (why: string, fix: string) =>
    new AirlockError('SECRET_FILE_UNSAFE', `${what} ${file} ${why}; ${fix}`, { file });
  return readRegularFile(file, what, {
    maxBytes: MAX_SECRET_FILE_BYTES,
    refuse: (problem) =>
      problem === 'too large'
        ? refuse('is too large for a secret', 'point it at the secret alone')
        : refuse('is not a regular file', 'point it at a file holding only the secret'),
    check: (stat) => {
      if (process.platform === 'win32') return;
      const uid = process.getuid?.() ?? 0;
      if (stat.uid !== uid && stat.uid !== 0)
        throw refuse(`is owned by another user (uid ${stat.uid})`, `run chown ${uid} ${file}, or use your own copy`);
      if ((stat.mode & 0o077) !== 0)
        throw refuse(`can be read by other users (mode ${(stat.mode & 0o777).toString(8)})`, `run chmod 600 ${file}`);
    },
  });
}

/** The first line of a secret file (a token or a client secret), refused when empty. */
export function readSecretLine(file: string, what: string): string {
  const secret = readSecretFileText(file, what).split(/\r?\n/)[0]!.trim();
  if (!secret) throw new AirlockError('SECRET_FILE_UNSAFE', `${what} ${file} is empty`, { file });
  return secret;
}
