// Clients for the production-shaped suite: checked transfers through a local listener (our client)
// and a bare WebSocket client that speaks the protocol as cloudflared does (no half-close, leaves
// without a close frame), all dialling names pinned to 127.0.0.1.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import WebSocket from 'ws';
import { HEADER } from '../../src/shared/constants.js';
import { drainOrClose, patternAt } from '../helpers/transfer.js';
import tls from 'node:tls';

const PIECE = 1024 * 1024;
/** Every transfer here is bounded in time: a lost FIN or reply fails the test instead of hanging it. */
const TRANSFER_TIMEOUT_MS = 120_000;

function within<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: not within ${TRANSFER_TIMEOUT_MS / 1000} s`)),
      TRANSFER_TIMEOUT_MS,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function writePattern(socket: net.Socket, total: number, hash: ReturnType<typeof createHash>): Promise<void> {
  for (let sent = 0; sent < total && !socket.destroyed;) {
    const piece = patternAt(sent, Math.min(PIECE, total - sent));
    hash.update(piece);
    sent += piece.length;
    if (!socket.write(piece)) await drainOrClose(socket);
  }
}

/**
 * Uploads `total` bytes to the origin's 'R' mode, then half-closes (FIN) and waits for the
 * origin's answer, which it sends only after that FIN: the reply must not be cut short.
 */
export async function uploadThenHalfClose(
  port: number,
  total: number,
): Promise<{ sent: string; received: string; bytes: number; replyAfterFinMs: number }> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  socket.on('error', () => {});
  const hash = createHash('sha256');
  const answer: Buffer[] = [];
  socket.on('data', (data: Buffer) => answer.push(data));
  const ended = once(socket, 'end');
  socket.write(Buffer.from('R'));
  await writePattern(socket, total, hash);
  const finAt = performance.now();
  socket.end();
  await within(ended, "the origin's answer after our FIN");
  const replyAfterFinMs = performance.now() - finAt;
  socket.destroy();
  const reply = Buffer.concat(answer);
  if (reply.length !== 40) throw new Error(`the origin's answer was ${reply.length} bytes, not 40`);
  return {
    sent: hash.digest('hex'),
    received: reply.subarray(0, 32).toString('hex'),
    bytes: Number(reply.readBigUInt64BE(32)),
    replyAfterFinMs,
  };
}

/**
 * The origin's 'H' mode: it sends `total` bytes and half-closes first; this side reads them to
 * the end, then uploads `total` bytes of its own on the same connection and ends.
 */
export async function downloadThenUpload(
  port: number,
  total: number,
): Promise<{ downloaded: number; intact: boolean; uploadedSha: string }> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  socket.on('error', () => {});
  const header = Buffer.alloc(9);
  header[0] = 0x48;
  header.writeBigUInt64BE(BigInt(total), 1);
  let downloaded = 0;
  let intact = true;
  socket.on('data', (data: Buffer) => {
    if (intact && !patternAt(downloaded, data.length).equals(data)) intact = false;
    downloaded += data.length;
  });
  const ended = once(socket, 'end');
  socket.write(header);
  await within(ended, "the origin's download and FIN");
  const hash = createHash('sha256');
  await within(writePattern(socket, total, hash), 'the upload after the origin half-closed');
  socket.end();
  await within(once(socket, 'close'), 'the connection to close');
  return { downloaded, intact, uploadedSha: hash.digest('hex') };
}

/** The TCP connection under each third-party tunnel: a RST is sent on it, below TLS. */
const tcpOf = new WeakMap<WebSocket, net.Socket>();

/** A WebSocket to an app host through the edge on 443, opened as a third-party client does. */
export async function openThirdPartyTunnel(hostname: string, ca: Buffer, token: string): Promise<WebSocket> {
  let tcp: net.Socket | undefined;
  const ws = new WebSocket(`wss://${hostname}/`, {
    headers: { [HEADER.accessToken]: token },
    perMessageDeflate: false,
    createConnection: () => {
      tcp = net.connect({ port: 443, host: '127.0.0.1' });
      return tls.connect({ socket: tcp, servername: hostname, ca, ALPNProtocols: ['http/1.1'] });
    },
  });
  ws.binaryType = 'nodebuffer';
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => {
      tcpOf.set(ws, tcp!);
      resolve();
    });
    ws.once('unexpected-response', (_request, response) =>
      reject(Object.assign(new Error(`HTTP ${response.statusCode}`), { status: response.statusCode })),
    );
    ws.once('error', reject);
  });
  return ws;
}

/** The upgrade status for a token: 101, or the refusal (302 when it does not verify). */
export async function upgradeStatus(hostname: string, ca: Buffer, token: string): Promise<number> {
  try {
    const ws = await openThirdPartyTunnel(hostname, ca, token);
    ws.terminate();
    return 101;
  } catch (error) {
    return (error as { status?: number }).status ?? 0;
  }
}

export type Leave = 'close-frame' | 'fin' | 'rst';

/**
 * Sends 'R' and `total` pattern bytes in 1 MiB messages, then leaves as told: a close frame, a TCP
 * FIN without one (cloudflared), or a TCP RST right after the last write was handed to the kernel.
 */
export async function thirdPartyUpload(ws: WebSocket, total: number, leave: Leave): Promise<{ sent: string }> {
  const socket = tcpOf.get(ws)!;
  const hash = createHash('sha256');
  const send = (data: Buffer) =>
    new Promise<void>((resolve, reject) =>
      ws.send(data, { binary: true }, (error) => (error ? reject(error) : resolve())),
    );
  await send(Buffer.from('R'));
  let pending: Promise<void>[] = [];
  for (let sent = 0; sent < total;) {
    const piece = patternAt(sent, Math.min(PIECE, total - sent));
    hash.update(piece);
    sent += piece.length;
    pending.push(send(piece));
    // Backpressure: a few MiB in flight at most.
    if (pending.length >= 4) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  if (leave === 'close-frame') ws.close(1000);
  else if (leave === 'fin') socket.end();
  else socket.resetAndDestroy();
  return { sent: hash.digest('hex') };
}

/** Asks the origin's 'S' mode for `total` bytes; the origin closes first. */
export async function thirdPartyDownload(
  ws: WebSocket,
  total: number,
): Promise<{ bytes: number; intact: boolean; code: number }> {
  const request = Buffer.alloc(13);
  request[0] = 0x53;
  request.writeBigUInt64BE(BigInt(total), 1);
  let bytes = 0;
  let intact = true;
  ws.on('message', (data: Buffer) => {
    if (intact && !patternAt(bytes, data.length).equals(data)) intact = false;
    bytes += data.length;
  });
  const closed = once(ws, 'close') as Promise<[number]>;
  ws.send(request);
  const [code] = await within(closed, 'the download and the close');
  return { bytes, intact, code };
}

/** sha256 of the first `bytes` of the pattern: what an origin that got a prefix must report. */
export function patternSha(bytes: number): string {
  const hash = createHash('sha256');
  for (let at = 0; at < bytes; at += PIECE) hash.update(patternAt(at, Math.min(PIECE, bytes - at)));
  return hash.digest('hex');
}
