// The client side of tests: an in-process LocalListener bound to 127.0.0.1:0, and socket helpers.
import net from 'node:net';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { LocalListener } from '../../src/core/local-listener.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';
import type { Credential } from '../../src/core/credentials.js';
import { SERVICE_TOKEN, type Chain } from './chain.js';

export async function startClient(
  chain: Chain,
  hostname: string,
  credential: Credential = { kind: 'service-token', ...SERVICE_TOKEN },
) {
  const listener = new LocalListener({
    target: resolveEdgeTarget({ hostname, edge: chain.edgeUrl, caFile: chain.pki.ca }),
    local: { host: '127.0.0.1', port: 0 },
    credential: async () => credential,
  });
  const address = await listener.start();
  return { listener, port: Number(address.split(':').pop()) };
}

/** Downloads everything the transfer server sends ("D"), returning its sha256 and size. */
export async function download(port: number, timeoutMs = 120_000): Promise<{ digest: string; bytes: number }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setTimeout(timeoutMs, () => socket.destroy(new Error('download timed out')));
  await once(socket, 'connect');
  socket.write('D');
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of socket) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { digest: hash.digest('hex'), bytes };
}

/** Uploads `size` random bytes; returns the digest we sent and the one the origin computed. */
export async function upload(
  port: number,
  size: number,
  timeoutMs = 120_000,
): Promise<{ sent: string; received: string }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setTimeout(timeoutMs, () => socket.destroy(new Error('upload timed out')));
  await once(socket, 'connect');
  const header = Buffer.alloc(9);
  header.write('U', 0);
  header.writeBigUInt64BE(BigInt(size), 1);
  socket.write(header);
  const hash = createHash('sha256');
  let reply = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (reply += chunk));
  let left = size;
  while (left > 0) {
    const chunk = randomBytes(Math.min(64 * 1024, left));
    left -= chunk.length;
    hash.update(chunk);
    if (!socket.write(chunk)) await once(socket, 'drain');
  }
  await once(socket, 'end');
  socket.destroy();
  return { sent: hash.digest('hex'), received: reply.trim() };
}

/** Sends random bytes to an echo origin and checks the same bytes come back. */
export async function echoRoundTrip(port: number, size: number): Promise<boolean> {
  const payload = randomBytes(size);
  const socket = net.connect(port, '127.0.0.1');
  socket.setTimeout(60_000, () => socket.destroy(new Error('echo timed out')));
  await once(socket, 'connect');
  socket.write(payload);
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of socket) {
    chunks.push(chunk as Buffer);
    received += (chunk as Buffer).length;
    if (received >= size) break;
  }
  socket.destroy();
  return Buffer.concat(chunks).equals(payload);
}
