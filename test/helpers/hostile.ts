// Raw TLS and hand-built WebSocket frames for the hostile-input suite, and the check every hostile
// test ends with: a legitimate client is still served, byte for byte.
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { dialTunnel } from '../../src/core/tunnel-dial.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';
import { credentialHeaders } from '../../src/core/credentials.js';
import { SERVICE_TOKEN } from './chain.js';
import { sha256 } from './transfer.js';

export interface RawConnection {
  socket: tls.TLSSocket;
  /** Everything received so far. */
  received(): Buffer;
  /** Resolves when the peer has closed (or after timeoutMs, with closed=false). */
  closed(timeoutMs?: number): Promise<boolean>;
  waitFor(predicate: (data: Buffer) => boolean, timeoutMs?: number): Promise<Buffer>;
}

export async function rawConnect(port: number, ca: Buffer, localAddress?: string): Promise<RawConnection> {
  const socket = tls.connect({
    socket: net.connect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) }),
    ca,
    servername: 'localhost',
  });
  socket.on('error', () => {});
  let data = Buffer.alloc(0);
  let isClosed = false;
  const waiters = new Set<() => void>();
  socket.on('data', (chunk: Buffer) => {
    data = Buffer.concat([data, chunk]);
    for (const wake of waiters) wake();
  });
  socket.on('close', () => {
    isClosed = true;
    for (const wake of waiters) wake();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('close', () => reject(new Error('closed during the TLS handshake')));
  });
  const wait = (check: () => boolean, timeoutMs: number) =>
    new Promise<boolean>((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        waiters.delete(run);
        resolve(value);
      };
      const run = () => check() && done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      waiters.add(run);
      run();
    });
  return {
    socket,
    received: () => data,
    closed: (timeoutMs = 5000) => wait(() => isClosed, timeoutMs),
    async waitFor(predicate, timeoutMs = 5000) {
      const ok = await wait(() => predicate(data), timeoutMs);
      if (!ok)
        throw new Error(
          `expected data not received (got ${data.length} bytes: ${JSON.stringify(data.subarray(0, 200).toString('latin1'))})`,
        );
      return data;
    },
  };
}

export function credentials(): Record<string, string> {
  return credentialHeaders({ kind: 'service-token', ...SERVICE_TOKEN });
}

export function upgradeRequest(hostname: string, headers: Record<string, string> = {}, omit: string[] = []): string {
  const all: Record<string, string> = {
    Host: hostname,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
    ...credentials(),
    ...headers,
  };
  for (const name of omit) delete all[name];
  return `GET / HTTP/1.1\r\n${Object.entries(all)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n`;
}

/** The status an edge answers a WebSocket upgrade for `hostname` (service token, plus `headers`) with. */
export async function upgradeStatus(
  port: number,
  ca: Buffer,
  hostname: string,
  headers: Record<string, string>,
  localAddress?: string,
): Promise<number> {
  const connection = await rawConnect(port, ca, localAddress);
  connection.socket.write(upgradeRequest(hostname, headers));
  const data = await connection.waitFor((received) => headEnd(received) >= 0);
  connection.socket.destroy();
  return statusOf(data);
}

export function statusOf(data: Buffer): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(data.toString('latin1'))?.[1] ?? 0);
}

export function headEnd(data: Buffer): number {
  const index = data.indexOf('\r\n\r\n');
  return index < 0 ? -1 : index + 4;
}

/** A client frame (masked, as RFC 6455 §5.3 requires of clients). */
export function frame(
  opcode: number,
  payload: Buffer,
  options: { fin?: boolean; declaredLength?: number } = {},
): Buffer {
  const fin = options.fin ?? true;
  const length = options.declaredLength ?? payload.length;
  let header: Buffer;
  if (length < 126) {
    header = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | length]);
  } else if (length < 65536) {
    header = Buffer.alloc(4);
    header[0] = (fin ? 0x80 : 0) | opcode;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = (fin ? 0x80 : 0) | opcode;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const mask = randomBytes(4);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i]! ^= mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

export const OPCODE = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9 } as const;

/** Parses the server's (unmasked) frames after the HTTP head; returns them in order. */
export function serverFrames(data: Buffer): { opcode: number; payload: Buffer }[] {
  const frames: { opcode: number; payload: Buffer }[] = [];
  let offset = headEnd(data);
  if (offset < 0) return frames;
  while (offset + 2 <= data.length) {
    const opcode = data[offset]! & 0x0f;
    let length = data[offset + 1]! & 0x7f;
    let start = offset + 2;
    if (length === 126) {
      if (start + 2 > data.length) break;
      length = data.readUInt16BE(start);
      start += 2;
    } else if (length === 127) {
      if (start + 8 > data.length) break;
      length = Number(data.readBigUInt64BE(start));
      start += 8;
    }
    if (start + length > data.length) break;
    frames.push({ opcode, payload: data.subarray(start, start + length) });
    offset = start + length;
  }
  return frames;
}

export function closeCode(data: Buffer): number | undefined {
  const close = serverFrames(data).find((f) => f.opcode === OPCODE.close);
  return close && close.payload.length >= 2 ? close.payload.readUInt16BE(0) : undefined;
}

/** A real client (src/core's dialTunnel) sends 256 KiB through the echo app and gets them back intact. */
export async function assertStillServes(
  edgeUrl: string,
  ca: string,
  hostname: string,
  headers = credentials(),
): Promise<void> {
  const { ws } = await dialTunnel({ target: resolveEdgeTarget({ hostname, edge: edgeUrl, caFile: ca }), headers });
  const payload = randomBytes(256 * 1024);
  const chunks: Buffer[] = [];
  let received = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`legitimate client: echo timed out after ${received} bytes`)),
      10_000,
    );
    ws.on('message', (data: Buffer) => {
      chunks.push(data);
      received += data.length;
      if (received >= payload.length) {
        clearTimeout(timer);
        resolve();
      }
    });
    ws.once('close', () => reject(new Error('legitimate client: tunnel closed early')));
    ws.send(Buffer.from('E'));
    ws.send(payload);
  });
  ws.removeAllListeners('close');
  ws.close();
  assert.equal(sha256(Buffer.concat(chunks)), sha256(payload), 'legitimate client: echo intact');
}
