// Programs and origins that note how their TCP connection ended: an orderly end (FIN) or a reset
// (ECONNRESET). A cut transfer must reach both ends as a reset (docs/architecture.md, "An abnormal
// end resets both ends").
import net from 'node:net';
import { patternAt } from './transfer.js';

export interface WatchedDownload {
  bytes: number;
  intact: boolean;
  /** 'fin': the local program read an orderly end; 'reset': ECONNRESET; 'timeout': neither in time. */
  ended: 'fin' | 'reset' | 'other' | 'timeout';
  error?: string;
}

/** A local program downloading `total` pattern bytes through the tunnel, noting how its socket ended. */
export function watchedDownload(
  port: number,
  total: number,
  options: { paceMs?: number; timeoutMs?: number; onProgress?: (bytes: number) => void } = {},
): Promise<WatchedDownload> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let bytes = 0;
    let intact = true;
    let done = false;
    const request = Buffer.alloc(13);
    request[0] = 0x53;
    request.writeBigUInt64BE(BigInt(total), 1);
    request.writeUInt32BE(options.paceMs ?? 0, 9);
    socket.write(request);
    socket.on('data', (data: Buffer) => {
      if (intact && !patternAt(bytes, data.length).equals(data)) intact = false;
      bytes += data.length;
      options.onProgress?.(bytes);
    });
    const finish = (ended: WatchedDownload['ended'], error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes, intact, ended, ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => finish('timeout'), options.timeoutMs ?? 60_000);
    socket.on('end', () => finish('fin'));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      finish(error.code === 'ECONNRESET' ? 'reset' : 'other', error.code ?? error.message),
    );
    socket.on('close', () => finish('other', 'closed without end or error'));
  });
}

export /** How each connection to this origin ended: 'fin' (an orderly end) or the error code (ECONNRESET). */
async function recordingOrigin(): Promise<{
  port: number;
  ends: string[];
  received: number[];
  connections: number;
  close(): Promise<void>;
}> {
  const ends: string[] = [];
  const received: number[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('data', () => connections++);
    let bytes = 0;
    let ended = false;
    const end = (how: string) => {
      if (ended) return;
      ended = true;
      ends.push(how);
      received.push(bytes);
    };
    socket.on('data', (data: Buffer) => (bytes += data.length));
    socket.on('end', () => (end('fin'), socket.end()));
    socket.on('error', (error: NodeJS.ErrnoException) => end(error.code ?? error.message));
    socket.on('close', () => (end('closed'), sockets.delete(socket)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    ends,
    received,
    get connections() {
      return connections;
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
