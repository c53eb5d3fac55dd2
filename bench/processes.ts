// Starting and stopping the bench's processes (edge, connector, client, origin, websockify), each
// a separate OS process so its RSS can be read from /proc/PID/status.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NODE_FLAGS } from '../src/shared/node-flags.js';

export const ROOT = new URL('..', import.meta.url).pathname;
const AIRLOCK = join(ROOT, 'bin/airlock.js');

export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
}

const started: Proc[] = [];

/** Spawns a process with its output in logDir/NAME.log; remembered so stopAll() ends exactly it. */
export function start(
  name: string,
  command: string,
  args: string[],
  logDir: string,
  env: NodeJS.ProcessEnv = {},
): Proc {
  const log = openSync(join(logDir, `${name}.log`), 'w');
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', log, log], env: { ...process.env, ...env } });
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const proc = { name, child, pid: child.pid };
  started.push(proc);
  return proc;
}

export function startAirlock(
  name: string,
  args: string[],
  logDir: string,
  env: NodeJS.ProcessEnv = {},
  nodeFlags: string[] = [],
): Proc {
  const extra = process.env.BENCH_NODE_OPTIONS ? process.env.BENCH_NODE_OPTIONS.split(' ') : [];
  // The edge and the connector run as the service files start them (NODE_FLAGS); clients as a
  // user starts `airlock access tcp`, without.
  const deployed = /^(edge|connector)\b/.test(name) ? NODE_FLAGS : [];
  return start(name, process.execPath, [...deployed, ...extra, ...nodeFlags, AIRLOCK, ...args], logDir, env);
}

/** Starts the origin and returns its ports (it prints them as one JSON line). */
export async function startOrigin(
  logDir: string,
): Promise<{ proc: Proc; echo: number; source: number; sink: number; fastSink: number }> {
  const proc = start('origin', process.execPath, ['--import', 'tsx', join(ROOT, 'bench/origin.ts')], logDir);
  const file = join(logDir, 'origin.log');
  for (let i = 0; i < 200; i++) {
    const line = existsSync(file) ? readFileSync(file, 'utf8').split('\n')[0] : '';
    if (line && line.startsWith('{')) return { proc, ...JSON.parse(line) };
    await sleep(50);
  }
  throw new Error('origin did not start');
}

export async function stop(proc: Proc, timeoutMs = 3000): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.child.once('exit', resolve));
  proc.child.kill('SIGTERM');
  const done = await Promise.race([exited.then(() => true), sleep(timeoutMs).then(() => false)]);
  if (!done) {
    proc.child.kill('SIGKILL');
    await exited;
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all(
    started
      .splice(0)
      .reverse()
      .map((proc) => stop(proc)),
  );
}

/** Resident set size in bytes (VmRSS), or NaN once the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * CPU time (user + system) the process and its reaped children have used so far, in seconds
 * (websockify serves each connection in a forked child); NaN once it is gone.
 */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .slice(11, 15)
      .map(Number);
    return fields.reduce((sum, ticks) => sum + ticks, 0) / 100; // utime, stime, cutime, cstime in USER_HZ (100)
  } catch {
    return NaN;
  }
}

/** Samples RSS of each process every intervalMs until stopped; reports baseline and peak. */
export function sampleRss(procs: Proc[], intervalMs = 100) {
  const baseline = new Map(procs.map((p) => [p.name, rssBytes(p.pid)]));
  const peak = new Map(baseline);
  const timer = setInterval(() => {
    for (const p of procs) peak.set(p.name, Math.max(peak.get(p.name)!, rssBytes(p.pid)));
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return procs.map((p) => ({
        name: p.name,
        baselineMB: mb(baseline.get(p.name)!),
        peakMB: mb(peak.get(p.name)!),
        growthMB: mb(peak.get(p.name)! - baseline.get(p.name)!),
      }));
    },
  };
}

export const mb = (bytes: number) => Math.round((bytes / (1024 * 1024)) * 10) / 10;

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Waits until something accepts TCP connections on the port. */
export async function waitForPort(port: number, what: string, proc: Proc, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`${what} exited with code ${proc.child.exitCode}; see its log`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms`);
}

/** Waits until a line of the process's log matches (e.g. a client's "Listening on"). */
export async function waitForLog(proc: Proc, logDir: string, pattern: RegExp, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const file = join(logDir, `${proc.name}.log`);
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null)
      throw new Error(
        `${proc.name} exited with code ${proc.child.exitCode}: ${readFileSync(file, 'utf8').slice(-500)}`,
      );
    if (existsSync(file) && pattern.test(readFileSync(file, 'utf8'))) return;
    await sleep(50);
  }
  throw new Error(`${proc.name} did not get ready within ${timeoutMs} ms`);
}

/** Waits until the edge's /healthz reports at least `count` connector connections. */
export async function waitForConnectors(
  edgePort: number,
  ca: Buffer,
  count: number,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const connected = await new Promise<number>((resolve) => {
      const request = https.get(
        { host: '127.0.0.1', port: edgePort, path: '/healthz', ca, agent: false, timeout: 1000 },
        (response) => {
          let body = '';
          response.on('data', (chunk) => (body += chunk));
          response.on('end', () => resolve(Number(JSON.parse(body).connectorConnections) || 0));
        },
      );
      request.on('error', () => resolve(0));
      request.on('timeout', () => request.destroy());
    });
    if (connected >= count) return;
    await sleep(100);
  }
  throw new Error(`connector did not register ${count} connections with the edge within ${timeoutMs} ms`);
}

export function writeText(file: string, text: string): string {
  writeFileSync(file, text);
  return file;
}
