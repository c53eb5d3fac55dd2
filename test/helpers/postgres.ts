// A throwaway PostgreSQL from Debian's packages, on a loopback port in a temp dir, for the
// multi-edge suites. PostgreSQL refuses to run as root, so under root it runs as the `postgres`
// user (runuser). Stopped by its own pg_ctl when the suite ends.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './chain.js';

const bindir = (() => {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const version = readdirSync(root)
    .filter((name) => existsSync(join(root, name, 'bin', 'pg_ctl')))
    .sort()
    .pop();
  return version ? join(root, version, 'bin') : undefined;
})();

const asRoot = process.getuid?.() === 0;
const postgresUser = (() => {
  if (!asRoot) return undefined;
  try {
    return {
      uid: Number(execFileSync('id', ['-u', 'postgres']).toString()),
      gid: Number(execFileSync('id', ['-g', 'postgres']).toString()),
    };
  } catch {
    return undefined;
  }
})();

export const postgresMissing = !bindir
  ? 'PostgreSQL is not installed (Debian package postgresql)'
  : asRoot && !postgresUser
    ? 'running as root without a postgres user to run PostgreSQL as'
    : undefined;

export interface RunningPostgres {
  url: string;
  port: number;
  /** Stops the server (fast shutdown), keeping its data: for outage tests. */
  stop(): void;
  /** Starts it again on the same port. */
  start(): void;
  /** Stops it for good and removes its files. */
  destroy(): void;
}

function pgCommand(tool: string, args: string[]): void {
  const command = join(bindir!, tool);
  if (postgresUser) execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { stdio: 'ignore' });
  else execFileSync(command, args, { stdio: 'ignore' });
}

export async function startPostgres(): Promise<RunningPostgres> {
  if (postgresMissing) throw new Error(postgresMissing);
  const dir = mkdtempSync(join(tmpdir(), 'airlock-pg-'));
  if (postgresUser) chownSync(dir, postgresUser.uid, postgresUser.gid);
  const data = join(dir, 'data');
  pgCommand('initdb', ['-D', data, '-U', 'airlock', '-A', 'trust', '--no-sync']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const start = () =>
    pgCommand('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '30', 'start']);
  const stop = () => pgCommand('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  start();
  return {
    url: `postgres://airlock@127.0.0.1:${port}/postgres`,
    port,
    stop,
    start,
    destroy() {
      try {
        stop();
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
