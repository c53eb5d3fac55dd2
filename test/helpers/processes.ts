// Child processes for tests: the airlock CLI and real servers (sshd, redis-server), each stopped
// by its own PID when the test ends, with bounded waits on their output.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const AIRLOCK_BIN = fileURLToPath(new URL('../../bin/airlock.js', import.meta.url));

export interface Running {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited(timeoutMs?: number): Promise<number | null>;
  /** Sends `signal`, then SIGKILL if the process is still there after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export function run(command: string, args: string[], options: SpawnOptions = {}): Running {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    output: () => output,
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = output.match(pattern);
          if (match) {
            cleanup();
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `timed out after ${timeoutMs} ms waiting for ${pattern} in output of ${command} ${args.join(' ')}:\n${output}`,
            ),
          );
        }, timeoutMs);
        const onExit = () =>
          setTimeout(() => {
            if (!output.match(pattern)) {
              cleanup();
              reject(new Error(`${command} exited (${child.exitCode}) before printing ${pattern}:\n${output}`));
            }
          }, 50);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    async exited(timeoutMs = 15_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${command} still running after ${timeoutMs} ms:\n${output}`)),
          timeoutMs,
        );
      });
      try {
        return await Promise.race([exit, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async stop(signal = 'SIGTERM', graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

export function airlock(args: string[], env: NodeJS.ProcessEnv = {}): Running {
  return run(process.execPath, [AIRLOCK_BIN, ...args], { env: { ...process.env, AIRLOCK_NO_BROWSER: '1', ...env } });
}

/** Runs a command to completion (bounded) and returns its exit code and output. */
export async function runToEnd(
  command: string,
  args: string[],
  options: SpawnOptions & { timeoutMs?: number; input?: string } = {},
) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk));
  child.stdin?.on('error', () => {}); // a program that exits without reading its input
  child.stdin?.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

export function hasCommand(path: string): boolean {
  return existsSync(path);
}
