// Reading a file a user points Airlock at (a config, a secret): opened non-blocking and checked on
// the open descriptor (fstat), so a FIFO cannot hang the reader, a device (/dev/zero) cannot fill
// its memory, and a file swapped after a check cannot slip through. Node only.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { AirlockError } from './errors.js';

export interface RegularFileRules {
  /** Larger files are refused before any byte is read. */
  maxBytes: number;
  /** The error for a file that is not a regular file, or is larger than maxBytes. */
  refuse: (problem: 'not a regular file' | 'too large') => AirlockError;
  /** Further checks on the open file (ownership, mode); throw `refuse(...)` to refuse it. */
  check?: (stat: Stats) => void;
}

/** The whole file as UTF-8 after the checks; `what` names it in errors ("edge.yaml", "--token-file"). */
export function readRegularFile(file: string, what: string, rules: RegularFileRules): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new AirlockError('CONFIG_UNREADABLE', `cannot read ${what} ${file}: ${(error as Error).message}`, { file });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw rules.refuse('not a regular file');
    rules.check?.(stat);
    if (stat.size > rules.maxBytes) throw rules.refuse('too large');
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

/** Far above any real edge.yaml or connector.yaml. */
const MAX_CONFIG_FILE_BYTES = 4 * 1024 * 1024;

/** A configuration file (edge.yaml, connector.yaml): a regular file of at most 4 MiB. */
export function readConfigFileText(file: string, what: string): string {
  return readRegularFile(file, what, {
    maxBytes: MAX_CONFIG_FILE_BYTES,
    refuse: (problem) =>
      new AirlockError(
        'CONFIG_UNREADABLE',
        problem === 'too large'
          ? `${what} ${file} is larger than ${MAX_CONFIG_FILE_BYTES / 1024 / 1024} MiB; point it at the configuration file`
          : `${what} ${file} is not a regular file (a device or a pipe?); point it at the configuration file`,
        { file },
      ),
  });
}
