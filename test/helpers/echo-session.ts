// An interactive session through the tunnel, as a person at a shell makes one: an 8-byte numbered
// message every 100 ms to the transfer origin's echo mode, each reply kept, so a test can tell
// whether a fault lost, doubled or reordered any, and when bytes flowed again.
import assert from 'node:assert/strict';
import net from 'node:net';

const MAGIC = 0xec40ec40;

export interface EchoSession {
  readonly sent: number;
  readonly echoes: number;
  /** How the local socket ended, if it did: an error code (ECONNRESET) or 'closed'. */
  readonly ended: string | undefined;
  /** When the first reply arrived at or after time `at` (epoch ms): bytes flowing again. */
  firstReplyAfter(at: number): number | undefined;
  /** Waits, at most `timeoutMs`, until every message sent has come back or the socket ended. */
  caughtUp(timeoutMs: number): Promise<void>;
  /** Every reply came back once, in order. */
  inOrder(): boolean;
  stopSending(): void;
  /** Stops sending, waits (bounded) for every reply, closes, and asserts each came back once, in order. */
  finish(): Promise<{ sent: number; echoes: number }>;
  close(): void;
}

export function echoSession(port: number): EchoSession {
  const socket = net.connect(port, '127.0.0.1');
  let ended: string | undefined;
  socket.on('error', (error: NodeJS.ErrnoException) => (ended ??= error.code ?? error.message));
  socket.on('close', () => (ended ??= 'closed'));
  socket.write('E'); // the origin's echo mode
  let received = Buffer.alloc(0);
  const arrivals: number[] = [];
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    arrivals.push(Date.now());
  });
  let sent = 0;
  const ticker = setInterval(() => {
    if (ended) return;
    const message = Buffer.alloc(8);
    message.writeUInt32BE(sent++, 0);
    message.writeUInt32BE(MAGIC, 4);
    socket.write(message);
  }, 100);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const session: EchoSession = {
    get sent() {
      return sent;
    },
    get echoes() {
      return Math.floor(received.length / 8);
    },
    get ended() {
      return ended;
    },
    firstReplyAfter: (at) => arrivals.find((time) => time >= at),
    async caughtUp(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && !ended && received.length < sent * 8) await sleep(50);
    },
    inOrder() {
      for (let index = 0; index < Math.floor(received.length / 8); index++)
        if (received.readUInt32BE(index * 8) !== index || received.readUInt32BE(index * 8 + 4) !== MAGIC) return false;
      return true;
    },
    stopSending: () => clearInterval(ticker),
    async finish() {
      clearInterval(ticker);
      await session.caughtUp(20_000);
      socket.destroy();
      assert.equal(received.length % 8, 0, 'whole messages only');
      const echoes = received.length / 8;
      for (let index = 0; index < echoes; index++) {
        assert.equal(received.readUInt32BE(index * 8), index, `echo ${index} in order, once`);
        assert.equal(received.readUInt32BE(index * 8 + 4), MAGIC);
      }
      return { sent, echoes };
    },
    close() {
      clearInterval(ticker);
      socket.destroy();
    },
  };
  return session;
}
