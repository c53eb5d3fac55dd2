// Would the installed service start? The systemd unit runs as a fresh DynamicUser (launchd as
// "nobody"), which is never the owner or group of the files: it reaches them only through the
// "other" permission bits. And PrivateTmp=yes gives the unit an empty /tmp and /var/tmp. A unit
// whose node or airlock sits in /tmp, under /root or in a 0700/0750 home fails at every start
// with a bare "permission denied" in the journal; this says so before anything is written.
// Mode bits, not access(2): `service install` runs as root, who may read everything.
import { realpathSync, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';

export interface ServiceFile {
  path: string;
  /** What the service does with it: runs it (node) or reads it (airlock's scripts, the CA). */
  use: 'execute' | 'read';
  /** How the user fixes a problem with this file, one clause. */
  fix: string;
}

/** The mode of a path (after symlinks), or undefined when it does not exist. */
export type ModeOf = (path: string) => number | undefined;

const OTHER_READ = 0o004;
const OTHER_EXECUTE = 0o001;

/** The paths the unit gives an empty private directory in place of (systemd.exec(5), PrivateTmp=). */
export const PRIVATE_TMP_DIRS = ['/tmp', '/var/tmp'];

/**
 * One sentence per file the service could not use, naming the path, why and the fix; empty when
 * the service would start. privateTmp: the unit has PrivateTmp=yes (systemd only).
 */
export function serviceStartProblems(
  files: readonly ServiceFile[],
  options: { privateTmp: boolean; modeOf: ModeOf },
): string[] {
  const problems: string[] = [];
  // One sentence per cause and fix: the files of one package behind one closed directory are one problem.
  const seen = new Set<string>();
  const report = (cause: string, text: string, fix: string) => {
    if (seen.has(`${cause}\n${fix}`)) return;
    seen.add(`${cause}\n${fix}`);
    problems.push(`${text}: ${fix}`);
  };
  for (const file of files) {
    const hidden = options.privateTmp
      ? PRIVATE_TMP_DIRS.find((dir) => file.path === dir || file.path.startsWith(`${dir}/`))
      : undefined;
    if (hidden) {
      report(
        hidden,
        `${file.path} is under ${hidden}, which the unit's PrivateTmp=yes replaces with an empty directory`,
        file.fix,
      );
      continue;
    }
    const blocked = unreachableFor(file, options.modeOf);
    if (blocked) report(blocked.cause, `the service's user (DynamicUser=yes) cannot ${blocked.text}`, file.fix);
  }
  return problems;
}

/** Why a user who is neither owner nor group cannot use the file, or undefined when it can. */
function unreachableFor(file: ServiceFile, modeOf: ModeOf): { cause: string; text: string } | undefined {
  const parts = file.path.split(sep).filter(Boolean);
  for (let depth = 0; depth < parts.length; depth++) {
    const dir = `${sep}${parts.slice(0, depth).join(sep)}`;
    const mode = modeOf(dir);
    if (mode !== undefined && (mode & OTHER_EXECUTE) === 0)
      return { cause: dir, text: `enter ${dir} (mode ${octal(mode)}), so it cannot ${file.use} ${file.path}` };
  }
  const mode = modeOf(file.path);
  if (mode === undefined) return { cause: file.path, text: `${file.use} ${file.path}: it does not exist` };
  const needed = file.use === 'execute' ? OTHER_EXECUTE : OTHER_READ;
  if ((mode & needed) === 0) return { cause: file.path, text: `${file.use} ${file.path} (mode ${octal(mode)})` };
  return undefined;
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

/** The real file system's modes, following symlinks as the kernel does when it opens the path. */
export const modeOnDisk: ModeOf = (path) => {
  try {
    return statSync(path).mode;
  } catch {
    return undefined;
  }
};

/** The path with every symlink resolved (the kernel checks the directories of the real path too). */
export function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** What the connector service loads of an airlock package: bin/airlock.js, then dist/ and node_modules. */
export function packageFilesOf(airlockBin: string): string[] {
  const root = dirname(dirname(airlockBin));
  return [airlockBin, join(root, 'dist', 'cli', 'main.js'), join(root, 'package.json')];
}
