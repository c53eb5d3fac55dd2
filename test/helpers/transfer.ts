// Checked transfers for the fault and security suites: a deterministic byte pattern that the
// receiver verifies as it arrives (so a cut-off transfer still proves its prefix is intact), and
// a sha256 at both ends of every transfer that completes.
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';

const CHUNK = 64 * 1024;
const BLOCKS = 17;
const base = randomBytes(CHUNK * BLOCKS);

/** Byte `offset..offset+length` of the pattern: 64 KiB chunks, each stamped with its index. */
export function patternAt(offset: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let written = 0;
  while (written < length) {
    const position = offset + written;
    const index = Math.floor(position / CHUNK);
    const chunk = chunkAt(index);
    const from = position % CHUNK;
    const take = Math.min(CHUNK - from, length - written);
    chunk.copy(out, written, from, from + take);
    written += take;
  }
  return out;
}

function chunkAt(index: number): Buffer {
  const chunk = Buffer.from(base.subarray((index % BLOCKS) * CHUNK, ((index % BLOCKS) + 1) * CHUNK));
  chunk.writeUInt32BE(index, 0);
  return chunk;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface OriginRecord {
  kind: 'echo' | 'send' | 'upload';
  bytes: number;
  sha256: string;
  complete: boolean;
}

export interface Origin {
  port: number;
  /** What the origin sent (send mode) or received and echoed (echo mode), per finished connection. */
  records: OriginRecord[];
  connections: number;
  close(): Promise<void>;
}

/**
 * A TCP origin with modes chosen by the first byte the client sends:
 *   'E' — echo everything after it;  'S' + uint64 N (+ uint32 pace ms) — send N pattern bytes, then FIN;
 *   'U' + uint64 N — receive N bytes, answer their sha256, then FIN.
 * With `halfOpen` (the origin keeps its side open after the client's FIN), two more:
 *   'R' — receive until the client's FIN, then answer sha256 (32 bytes) + uint64 count, then FIN;
 *   'H' + uint64 N — send N pattern bytes and FIN, while receiving until the client's FIN.
 * With a pace, the origin sends 256 KiB every `pace` ms (a slow download for drain tests).
 */
export async function startOrigin(options: { dieAfterBytes?: number; halfOpen?: boolean } = {}): Promise<Origin> {
  const sockets = new Set<net.Socket>();
  const records: OriginRecord[] = [];
  let connections = 0;
  const server = net.createServer({ allowHalfOpen: options.halfOpen ?? false }, (socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let header = Buffer.alloc(0);
    const onData = (data: Buffer) => {
      header = Buffer.concat([header, data]);
      if (header[0] === 0x45) {
        socket.off('data', onData);
        const hash = createHash('sha256');
        let bytes = 0;
        const rest = header.subarray(1);
        const take = (chunk: Buffer) => {
          bytes += chunk.length;
          hash.update(chunk);
          socket.write(chunk);
        };
        if (rest.length > 0) take(rest);
        socket.on('data', take);
        socket.on('end', () => {
          records.push({ kind: 'echo', bytes, sha256: hash.digest('hex'), complete: true });
          socket.end();
        });
        return;
      }
      if (header[0] === 0x55 && header.length >= 9) {
        // 'U' + uint64 N: receive N bytes, answer with their sha256 (32 bytes), then FIN.
        socket.off('data', onData);
        const total = Number(header.readBigUInt64BE(1));
        const hash = createHash('sha256');
        let bytes = 0;
        const take = (chunk: Buffer) => {
          const part = chunk.subarray(0, total - bytes);
          hash.update(part);
          bytes += part.length;
          if (bytes === total) {
            socket.off('data', take);
            const digest = hash.digest();
            records.push({ kind: 'upload', bytes, sha256: digest.toString('hex'), complete: true });
            socket.end(digest);
          }
        };
        if (header.length > 9) take(header.subarray(9));
        socket.on('data', take);
        return;
      }
      if (header[0] === 0x52) {
        socket.off('data', onData);
        receiveUntilEnd(socket, header.subarray(1), (bytes, digest) => {
          records.push({ kind: 'upload', bytes, sha256: digest.toString('hex'), complete: true });
          const count = Buffer.alloc(8);
          count.writeBigUInt64BE(BigInt(bytes));
          socket.end(Buffer.concat([digest, count]));
        });
        return;
      }
      if (header[0] === 0x48 && header.length >= 9) {
        socket.off('data', onData);
        receiveUntilEnd(socket, header.subarray(9), (bytes, digest) => {
          records.push({ kind: 'upload', bytes, sha256: digest.toString('hex'), complete: true });
        });
        void sendPattern(socket, Number(header.readBigUInt64BE(1)), 0).then((record) => records.push(record));
        return;
      }
      if (header[0] === 0x53 && header.length >= 13) {
        socket.off('data', onData);
        socket.resume();
        const total = Number(header.readBigUInt64BE(1));
        const pace = header.readUInt32BE(9);
        void sendPattern(socket, total, pace, options.dieAfterBytes).then((record) => records.push(record));
      }
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    records,
    get connections() {
      return connections;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function receiveUntilEnd(socket: net.Socket, first: Buffer, done: (bytes: number, digest: Buffer) => void): void {
  const hash = createHash('sha256');
  let bytes = 0;
  const take = (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  };
  if (first.length > 0) take(first);
  socket.on('data', take);
  socket.once('end', () => done(bytes, hash.digest()));
}

async function sendPattern(
  socket: net.Socket,
  total: number,
  paceMs: number,
  dieAfter?: number,
): Promise<OriginRecord> {
  const hash = createHash('sha256');
  const step = paceMs > 0 ? 256 * 1024 : 1024 * 1024;
  let sent = 0;
  while (sent < total && !socket.destroyed) {
    if (dieAfter !== undefined && sent >= dieAfter) {
      socket.resetAndDestroy();
      return { kind: 'send', bytes: sent, sha256: hash.digest('hex'), complete: false };
    }
    const piece = patternAt(sent, Math.min(step, total - sent));
    hash.update(piece);
    sent += piece.length;
    if (!socket.write(piece)) await drainOrClose(socket);
    if (paceMs > 0) await new Promise((resolve) => setTimeout(resolve, paceMs));
  }
  if (!socket.destroyed) socket.end();
  return { kind: 'send', bytes: sent, sha256: hash.digest('hex'), complete: sent === total && !socket.destroyed };
}

export function drainOrClose(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

export interface DownloadResult {
  bytes: number;
  sha256: string;
  /** Every received byte matched the pattern at its offset. */
  intact: boolean;
  /** The full size arrived and the far end closed. */
  complete: boolean;
  ended: 'end' | 'close' | 'timeout';
}

/** Asks the origin (through whatever listens on port) for `total` bytes and checks each one. */
export function download(
  port: number,
  total: number,
  options: { paceMs?: number; timeoutMs?: number; onProgress?: (bytes: number) => void } = {},
): Promise<DownloadResult> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const hash = createHash('sha256');
    let bytes = 0;
    let intact = true;
    let ended: DownloadResult['ended'] | undefined;
    const request = Buffer.alloc(13);
    request[0] = 0x53;
    request.writeBigUInt64BE(BigInt(total), 1);
    request.writeUInt32BE(options.paceMs ?? 0, 9);
    socket.write(request);
    socket.on('data', (data: Buffer) => {
      if (intact && !patternAt(bytes, data.length).equals(data)) intact = false;
      hash.update(data);
      bytes += data.length;
      options.onProgress?.(bytes);
    });
    const timer = setTimeout(() => finish('timeout'), options.timeoutMs ?? 60_000);
    const finish = (how: DownloadResult['ended']) => {
      if (ended) return;
      ended = how;
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes, sha256: hash.digest('hex'), intact, complete: how === 'end' && bytes === total, ended: how });
    };
    socket.on('end', () => finish('end'));
    socket.on('close', () => finish('close'));
    socket.on('error', () => {});
  });
}

/** Sends `size` random bytes through the echo mode and checks the sha256 of what comes back. */
export async function echoRoundTrip(
  port: number,
  size = 256 * 1024,
  timeoutMs = 10_000,
): Promise<{ sent: string; received: string; bytes: number }> {
  const payload = randomBytes(size);
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const chunks: Buffer[] = [];
  let received = 0;
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`echo of ${size} bytes timed out after ${received} bytes`)),
      timeoutMs,
    );
    socket.on('data', (data: Buffer) => {
      chunks.push(data);
      received += data.length;
      if (received >= size) {
        clearTimeout(timer);
        resolve();
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (received < size) reject(new Error(`connection closed after ${received} of ${size} echoed bytes`));
    });
  });
  socket.write(Buffer.from('E'));
  socket.write(payload);
  try {
    await done;
  } finally {
    socket.destroy();
  }
  return { sent: sha256(payload), received: sha256(Buffer.concat(chunks)), bytes: received };
}

/** Uploads `total` pattern bytes; the origin answers with the sha256 of what it received. */
export function upload(port: number, total: number, timeoutMs = 60_000): Promise<{ sent: string; received: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    const hash = createHash('sha256');
    const header = Buffer.alloc(9);
    header[0] = 0x55;
    header.writeBigUInt64BE(BigInt(total), 1);
    let answer = Buffer.alloc(0);
    const timer = setTimeout(
      () => (socket.destroy(), reject(new Error(`upload of ${total} bytes timed out`))),
      timeoutMs,
    );
    socket.on('data', (data: Buffer) => {
      answer = Buffer.concat([answer, data]);
      if (answer.length >= 32) {
        clearTimeout(timer);
        socket.destroy();
        resolve({ sent: hash.digest('hex'), received: answer.subarray(0, 32).toString('hex') });
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (answer.length < 32) reject(new Error('connection closed before the origin confirmed the upload'));
    });
    void (async () => {
      socket.write(header);
      for (let sent = 0; sent < total && !socket.destroyed;) {
        const piece = patternAt(sent, Math.min(1024 * 1024, total - sent));
        hash.update(piece);
        sent += piece.length;
        if (!socket.write(piece)) await drainOrClose(socket);
      }
    })();
  });
}

export interface EchoResult {
  sent: string;
  received: string;
  bytes: number;
  /** How it ended: every byte came back, the connection closed early, or it ran out of time. */
  ended: 'complete' | 'close' | 'timeout';
}

/**
 * Streams `size` pattern bytes through the echo mode with backpressure, hashing what goes out and
 * what comes back as it flows (nothing is kept, so many large echoes fit in memory at once).
 */
export function echoStream(port: number, size: number, timeoutMs = 60_000): Promise<EchoResult> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    const sentHash = createHash('sha256');
    const receivedHash = createHash('sha256');
    let received = 0;
    let ended: EchoResult['ended'] | undefined;
    const finish = (how: EchoResult['ended']) => {
      if (ended) return;
      ended = how;
      clearTimeout(timer);
      socket.destroy();
      resolve({ sent: sentHash.digest('hex'), received: receivedHash.digest('hex'), bytes: received, ended: how });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.on('data', (data: Buffer) => {
      receivedHash.update(data);
      received += data.length;
      if (received >= size) finish('complete');
    });
    socket.on('close', () => finish('close'));
    void (async () => {
      socket.write(Buffer.from('E'));
      for (let sent = 0; sent < size && !socket.destroyed;) {
        const piece = patternAt(sent, Math.min(256 * 1024, size - sent));
        sentHash.update(piece);
        sent += piece.length;
        if (!socket.write(piece)) await drainOrClose(socket);
      }
    })();
  });
}
