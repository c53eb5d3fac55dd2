// The measurements: throughput (iperf3 or a Node source/sink), ping-pong latency, connect time,
// many concurrent connections, and a slow reader. Every loop is bounded in count and in time.
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export type Direction = 'up' | 'down';

export function hasCommand(command: string): boolean {
  const paths = (process.env.PATH ?? '').split(':');
  return paths.some((dir) => {
    try {
      return statSync(`${dir}/${command}`).isFile();
    } catch {
      return false;
    }
  });
}

/** Gbit/s for one stream over `seconds`: iperf3 against an iperf3 server behind `port`. */
export function iperf3(port: number, direction: Direction, seconds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const args = [
      '-c',
      '127.0.0.1',
      '-p',
      String(port),
      '-t',
      String(seconds),
      '-P',
      '1',
      '-J',
      ...(direction === 'down' ? ['-R'] : []),
    ];
    const child = spawn('iperf3', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 20) * 1000);
    child.on('close', () => {
      clearTimeout(timer);
      try {
        const report = JSON.parse(out);
        if (report.error) return reject(new Error(`iperf3: ${report.error}`));
        resolve(report.end.sum_received.bits_per_second / 1e9);
      } catch {
        reject(new Error(`iperf3 gave no report: ${out.slice(0, 300)}`));
      }
    });
  });
}

/**
 * Node fallback: 'down' reads from the origin's source, 'up' writes to its sink (rate 0 = as fast
 * as possible) and counts bytes accepted by the socket after the first second (buffers warm up).
 */
export function nodeThroughput(port: number, direction: Direction, seconds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    let bytes = 0;
    let counting = false;
    let startedAt = 0;
    socket.once('connect', () => {
      setTimeout(() => ((counting = true), (startedAt = performance.now())), 1000);
      setTimeout(
        () => {
          const seconds = (performance.now() - startedAt) / 1000;
          socket.destroy();
          resolve((bytes * 8) / seconds / 1e9);
        },
        (seconds + 1) * 1000,
      );
      if (direction === 'down') socket.on('data', (data: Buffer) => counting && (bytes += data.length));
      else {
        const pump = () => {
          while (!socket.destroyed && socket.write(chunk)) if (counting) bytes += chunk.length;
        };
        socket.on('drain', pump);
        pump();
      }
    });
    socket.on('error', reject);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function summarise(samplesUs: number[]) {
  const sorted = [...samplesUs].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: Math.round(percentile(sorted, 50)),
    p99: Math.round(percentile(sorted, 99)),
    max: Math.round(sorted.at(-1) ?? NaN),
  };
}

/** Round trips of `size` bytes through an echo behind `port`; microseconds each (after a warm-up). */
export async function pingPong(
  port: number,
  rounds: number,
  size = 1024,
  warmup = 200,
  timeoutMs = 60_000,
): Promise<number[]> {
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const payload = Buffer.alloc(size, 0x42);
  const samples: number[] = [];
  const deadline = Date.now() + timeoutMs;
  try {
    for (let i = 0; i < warmup + rounds && Date.now() < deadline; i++) {
      const t0 = performance.now();
      await new Promise<void>((resolve, reject) => {
        let got = 0;
        const onData = (data: Buffer) => {
          got += data.length;
          if (got >= size) (done(), resolve());
        };
        const onError = (error: Error) => (done(), reject(error));
        const done = () => socket.off('data', onData).off('error', onError).off('close', onClose);
        const onClose = () => (done(), reject(new Error('closed during ping-pong')));
        socket.on('data', onData).once('error', onError).once('close', onClose);
        socket.write(payload);
      });
      if (i >= warmup) samples.push((performance.now() - t0) * 1000);
    }
  } finally {
    socket.destroy();
  }
  return samples;
}

/** One new connection: connect, send a byte, wait for its echo. Microseconds. */
export function connectOnce(port: number, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    const timer = setTimeout(() => (socket.destroy(), reject(new Error('connect timed out'))), timeoutMs);
    socket.once('connect', () => socket.write('x'));
    socket.once('data', () => {
      clearTimeout(timer);
      resolve((performance.now() - t0) * 1000);
      socket.end();
      socket.destroy();
    });
    socket.once('error', (error) => (clearTimeout(timer), reject(error)));
  });
}

export async function connectTimes(port: number, count: number, warmup = 20): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < warmup + count; i++) {
    const us = await connectOnce(port);
    if (i >= warmup) samples.push(us);
  }
  return samples;
}

/** Opens `count` connections (at most `parallel` connecting at once), each echoing a message. */
export async function openMany(
  port: number,
  count: number,
  parallel = 100,
): Promise<{ sockets: net.Socket[]; errors: string[] }> {
  const sockets: net.Socket[] = [];
  const errors: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
      socket.on('error', (error) => errors.push(error.message));
      sockets.push(socket);
      try {
        await echoRound(socket, 64);
      } catch (error) {
        errors.push((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { sockets, errors };
}

/** Sends `size` bytes and waits for all of them to come back. */
export function echoRound(socket: net.Socket, size: number, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const timer = setTimeout(() => (done(), reject(new Error('echo timed out'))), timeoutMs);
    const onData = (data: Buffer) => {
      got += data.length;
      if (got >= size) (done(), resolve());
    };
    const onClose = () => (done(), reject(new Error('closed before echo')));
    const done = () => (clearTimeout(timer), socket.off('data', onData).off('close', onClose));
    socket.on('data', onData).once('close', onClose);
    socket.write(Buffer.alloc(size, 0x43));
  });
}

/**
 * Slow reader. 'down': this process reads the origin's source at `rate` bytes/s. 'up': this process
 * writes as fast as it may while the origin's sink reads at its fixed rate. Returns bytes moved.
 */
export async function slowReader(
  port: number,
  direction: Direction,
  seconds: number,
  rate = 1024 * 1024,
): Promise<number> {
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const started = Date.now();
  let bytes = 0;
  if (direction === 'down') {
    socket.on('data', (data: Buffer) => {
      bytes += data.length;
      const aheadMs = (bytes / rate) * 1000 - (Date.now() - started);
      if (aheadMs > 0) {
        socket.pause();
        setTimeout(() => socket.resume(), aheadMs);
      }
    });
  } else {
    const chunk = Buffer.alloc(64 * 1024, 0x44);
    const pump = () => {
      while (!socket.destroyed && socket.write(chunk)) bytes += chunk.length;
    };
    socket.on('drain', pump);
    pump();
  }
  await sleep(seconds * 1000);
  socket.destroy();
  return bytes;
}
