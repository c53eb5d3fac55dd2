// The one rule for every file that holds a secret (tokens, client secrets, the users file of the
// built-in IdP, the edge's TLS key): a regular file, owned by the user running Airlock (or root),
// that neither group nor others may read or write, as ssh insists for a private key. It is opened
// non-blocking and checked on the open descriptor (fstat), so a FIFO cannot hang the reader and a
// file swapped after a check cannot slip through. Node only (the CLI, the connector, the edge, the IdP).
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { AirlockError } from './errors.js';

/** Far above any token, key or users file; a larger "secret" is not one. */
const MAX_SECRET_FILE_BYTES = 1024 * 1024;

/** Reads a secret file whole after checking it; `what` names it in errors ("--token-file", "connector.yaml tokenFile"). */
export function readSecretFileText(file: string, what: string): string {
  const unsafe = (why: string, fix: string) =>
    new AirlockError('SECRET_FILE_UNSAFE', `${what} ${file} ${why}; ${fix}`, { file });
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new AirlockError('CONFIG_UNREADABLE', `cannot read ${what} ${file}: ${(error as Error).message}`, { file });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw unsafe('is not a regular file', 'point it at a file holding only the secret');
    if (process.platform !== 'win32') {
      const uid = process.getuid?.() ?? 0;
      if (stat.uid !== uid && stat.uid !== 0)
        throw unsafe(`is owned by another user (uid ${stat.uid})`, `run chown ${uid} ${file}, or use your own copy`);
      if ((stat.mode & 0o077) !== 0)
        throw unsafe(`can be read by other users (mode ${(stat.mode & 0o777).toString(8)})`, `run chmod 600 ${file}`);
    }
    if (stat.size > MAX_SECRET_FILE_BYTES) throw unsafe('is too large for a secret', 'point it at the secret alone');
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < stat.size) {
      const n = readSync(fd, buffer, read, stat.size - read, read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The first line of a secret file (a token or a client secret), refused when empty. */
export function readSecretLine(file: string, what: string): string {
  const secret = readSecretFileText(file, what).split(/\r?\n/)[0]!.trim();
  if (!secret) throw new AirlockError('SECRET_FILE_UNSAFE', `${what} ${file} is empty`, { file });
  return secret;
}
