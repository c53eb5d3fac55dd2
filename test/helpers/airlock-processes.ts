// Real airlock processes (bin/airlock.js, built to dist/) for the fault suite. Every process's
// output goes to a file in the suite's log directory, which test/security/log-scan.test.ts reads.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/airlock.js');

/** Shared by the whole run when scripts/run-tests.mjs sets AIRLOCK_TEST_LOG_DIR; else one per process. */
let ownDir: string | undefined;
export function suiteLogDir(): string {
  const dir = process.env.AIRLOCK_TEST_LOG_DIR ?? (ownDir ??= mkdtempSync(join(tmpdir(), 'airlock-logs-')));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Records the secrets a test handed out, so the log scan can prove none of them was ever printed. */
export function recordSecrets(...secrets: string[]): void {
  writeFileSync(
    join(suiteLogDir(), `secrets-${process.pid}-${randomBytes(4).toString('hex')}.json`),
    JSON.stringify(secrets),
  );
}

export function logFile(name: string): string {
  return join(suiteLogDir(), `${name}-${process.pid}-${randomBytes(3).toString('hex')}.log`);
}

export interface AirlockProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Signals this process (by its PID only) unless it has already exited. */
  signal(signal: NodeJS.Signals): void;
}

export function spawnAirlock(name: string, args: string[], env: Record<string, string> = {}): AirlockProcess {
  const file = logFile(name);
  const log = createWriteStream(file);
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, AIRLOCK_LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const waiters = new Set<() => void>();
  const onData = (data: Buffer) => {
    log.write(data);
    text += data.toString('utf8');
    if (text.length > 4_000_000) text = text.slice(-2_000_000);
    for (const wake of waiters) wake();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let exitedAlready = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      exitedAlready = true;
      for (const wake of waiters) wake();
      // Let the pipes drain into the log file before it is closed.
      setTimeout(() => log.end(() => resolve({ code, signal })), 50);
    }),
  );
  return {
    name,
    child,
    pid: child.pid!,
    output: () => text,
    exited,
    signal(signal) {
      if (!exitedAlready && child.exitCode === null && child.signalCode === null) process.kill(child.pid!, signal);
    },
    waitFor(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(text);
          if (match) return (done(), resolve(match));
          if (exitedAlready)
            return (done(), reject(new Error(`${name} exited before printing ${pattern}:\n${text.slice(-2000)}`)));
        };
        const timer = setTimeout(
          () => (
            done(),
            reject(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms:\n${text.slice(-2000)}`))
          ),
          timeoutMs,
        );
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Stops a process this test started: SIGTERM, then SIGKILL after graceMs. */
export async function stopProcess(proc: AirlockProcess, graceMs = 3000): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return void (await proc.exited);
  proc.signal('SIGTERM');
  const timer = setTimeout(() => proc.signal('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(timer);
}

/** GET /healthz on the edge: how many connector connections it holds (undefined when down). */
export function edgeConnections(port: number, ca: Buffer): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = https.get(
      { host: '127.0.0.1', port, path: '/healthz', ca, agent: false, timeout: 1000 },
      (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => {
          try {
            resolve((JSON.parse(body) as { connectorConnections: number }).connectorConnections);
          } catch {
            resolve(undefined);
          }
        });
      },
    );
    request.on('error', () => resolve(undefined));
    request.on('timeout', () => request.destroy());
  });
}

/** Polls until check() is true; returns the elapsed ms, or throws after timeoutMs. Bounded in time. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  intervalMs = 50,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
