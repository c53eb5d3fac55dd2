import type { Locator } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { createInterface } from 'node:readline';

export interface UiProcess {
  url: string;
  port: number;
  /** The next sign-in URL the process "opened in the browser" (AIRLOCK_E2E_REAL_LOGIN=1). */
  nextLoginUrl(): Promise<string>;
  /** Resolves with the exit code once the process has ended (e.g. after Quit in the page). */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export async function startUiProcess(
  dataFile: string,
  caFile?: string,
  extraEnv: Record<string, string> = {},
): Promise<UiProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'e2e/ui-process.ts'], {
    env: { ...process.env, AIRLOCK_E2E_DATA: dataFile, ...(caFile ? { AIRLOCK_E2E_CA: caFile } : {}), ...extraEnv },
    // The IPC channel only ties the child's life to ours: if the test worker dies, the server exits too.
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const lines = createInterface({ input: child.stdout! });
  const line = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`ui process exited with ${code} before printing its URL`)));
  });
  const { url, port } = JSON.parse(line) as { url: string; port: number };
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  const loginUrls: string[] = [];
  const waiting: Array<(url: string) => void> = [];
  lines.on('line', (text) => {
    const login = (JSON.parse(text) as { login?: string }).login;
    if (!login) return;
    const waiter = waiting.shift();
    if (waiter) waiter(login);
    else loginUrls.push(login);
  });
  return {
    url,
    port,
    exited,
    nextLoginUrl: () => {
      const ready = loginUrls.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
    },
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

// Shared with the node:test suites: a free port, and a plain TCP echo server (something that
// answers but is not an Airlock edge).
export { freePort, startEchoServer } from '../../test/helpers/chain.js';

/** Opens a TCP connection to the local listener, sends a line and waits until the far side closes. */
export function poke(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.setTimeout(15_000, () => socket.destroy());
  });
}

/** Chooses an action from a resource row's "⋯" menu (Test, Copy command, Edit, Shortcut, Remove). */
export async function rowAction(row: Locator, action: string): Promise<void> {
  await row.getByRole('button', { name: /^More actions for / }).click();
  await row.getByRole('menuitem', { name: action, exact: true }).click();
}
