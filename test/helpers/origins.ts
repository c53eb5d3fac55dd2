// Real origin servers for tests, on 127.0.0.1 high ports: sshd and redis-server from Debian, and
// small Node servers for exact-byte transfers.
import { mkdtempSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { freePort } from './chain.js';
import { run, runToEnd, type Running } from './processes.js';

export async function startRedis(): Promise<{ port: number; process: Running }> {
  const port = await freePort();
  const process = run('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'yes',
  ]);
  await process.waitFor(/Ready to accept connections/);
  return { port, process };
}

/** A throwaway sshd on 127.0.0.1 that accepts one generated key for the current user. */
export async function startSshd(): Promise<{ port: number; process: Running; keyFile: string; user: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-sshd-'));
  chmodSync(dir, 0o700);
  const port = await freePort();
  await runToEnd('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  await runToEnd('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
  const { stdout: publicKey } = await runToEnd('cat', [join(dir, 'client_key.pub')]);
  writeFileSync(join(dir, 'authorized_keys'), publicKey, { mode: 0o600 });
  mkdirSync('/run/sshd', { recursive: true });
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'StrictModes no',
      'LogLevel VERBOSE',
    ].join('\n') + '\n',
  );
  const process = run('/usr/sbin/sshd', ['-D', '-e', '-f', config]);
  await process.waitFor(/Server listening on 127\.0\.0\.1/);
  return { port, process, keyFile: join(dir, 'client_key'), user: (await runToEnd('id', ['-un'])).stdout.trim() };
}

/**
 * Sends `bytes` random bytes to each connection (hashing as it goes), then closes.
 * Uploads: reads an 8-byte length, then that many bytes, and answers with their sha256 in hex.
 */
export async function startTransferServer(
  bytes: number,
): Promise<{ port: number; sentDigests: string[]; close(): Promise<void> }> {
  const sentDigests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.once('data', (first: Buffer) => {
      if (first[0] === 0x44 /* D: download */) return sendRandom(socket, bytes, sentDigests);
      receiveUpload(socket, first.subarray(1));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    sentDigests,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function sendRandom(socket: net.Socket, total: number, digests: string[]): void {
  const hash = createHash('sha256');
  let left = total;
  const pump = () => {
    while (left > 0) {
      const chunk = randomBytes(Math.min(64 * 1024, left));
      left -= chunk.length;
      hash.update(chunk);
      if (!socket.write(chunk)) return void socket.once('drain', pump);
    }
    digests.push(hash.digest('hex'));
    socket.end();
  };
  pump();
}

function receiveUpload(socket: net.Socket, initial: Buffer): void {
  const hash = createHash('sha256');
  let header = Buffer.alloc(0);
  let expected = -1;
  let received = 0;
  const take = (chunk: Buffer) => {
    if (expected < 0) {
      header = Buffer.concat([header, chunk]);
      if (header.length < 8) return;
      expected = Number(header.readBigUInt64BE(0));
      chunk = header.subarray(8);
    }
    hash.update(chunk);
    received += chunk.length;
    if (received >= expected) socket.end(hash.digest('hex'));
  };
  take(initial);
  socket.on('data', take);
}
