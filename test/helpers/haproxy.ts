// HAProxy from Debian's packages in TCP mode in front of several edges on loopback, as operators
// run it: round-robin per TCP connection, health-checked every 500 ms (HTTPS GET /healthz).
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './chain.js';
import { run, type Running } from './processes.js';
import { waitUntil } from './airlock-processes.js';

const HAPROXY = '/usr/sbin/haproxy';
export const haproxyMissing = existsSync(HAPROXY) ? undefined : `${HAPROXY} is not installed (Debian package haproxy)`;

export interface RunningHaproxy {
  port: number;
  process: Running;
  /** Runtime API: 'maint' takes backend `index` (0-based) out and cuts its open connections. */
  setServer(index: number, state: 'maint' | 'ready'): Promise<void>;
  /** Waits until the health checks see every backend up (edges started after the balancer). */
  waitAllUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** `sendProxyV2`: each connection to an edge opens with a PROXY v2 header naming the client (docs/scale.md). */
export async function startHaproxy(
  backends: number[],
  options: { sendProxyV2?: boolean } = {},
): Promise<RunningHaproxy> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-haproxy-'));
  const port = await freePort();
  const config = join(dir, 'haproxy.cfg');
  writeFileSync(
    config,
    `global
  maxconn 4096
  stats socket ${join(dir, 'admin.sock')} mode 600 level admin
defaults
  mode tcp
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout tunnel 1h
  # A connection to a dead edge is retried on another before the health check has noticed.
  retries 2
  option redispatch
frontend edges
  bind 127.0.0.1:${port}
  default_backend edges
backend edges
  balance roundrobin
  # As docs/scale.md: an HTTPS check of /healthz, which a stopped edge (SIGSTOP) fails, where a
  # TCP check passes (the kernel still accepts its connections).
  option httpchk
  http-check send meth GET uri /healthz
  http-check expect status 200
  timeout check 1s
${backends.map((backend, index) => `  server edge${index + 1} 127.0.0.1:${backend} check check-ssl verify none inter 500ms fall 2 rise 1${options.sendProxyV2 ? ' send-proxy-v2 check-send-proxy' : ''}`).join('\n')}
`,
  );
  const process = run(HAPROXY, ['-f', config, '-db']);
  await waitUntil('HAProxy to listen', () => canConnect(port), 10_000);
  const admin = (command: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = net.connect(join(dir, 'admin.sock'));
      let answer = '';
      socket.on('data', (data: Buffer) => (answer += data.toString('utf8')));
      socket.once('end', () => resolve(answer));
      socket.once('error', reject);
      socket.end(`${command}\n`);
    });
  return {
    port,
    process,
    async setServer(index, state) {
      await admin(`set server edges/edge${index + 1} state ${state}`);
      if (state === 'maint') await admin(`shutdown sessions server edges/edge${index + 1}`);
    },
    async waitAllUp(timeoutMs = 15_000) {
      await waitUntil(
        'HAProxy to see every edge up',
        async () => {
          const rows = (await admin('show stat')).split('\n').filter((line) => line.startsWith('edges,edge'));
          return rows.length === backends.length && rows.every((line) => line.split(',')[17] === 'UP');
        },
        timeoutMs,
        100,
      );
    },
    stop: () => process.stop(),
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}
