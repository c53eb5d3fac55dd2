// The edge ↔ connector liveness check on real HTTP/2 sessions over loopback TCP. A small proxy
// between the two ends can swallow the server's PING answers, standing in for a pong that queues
// behind megabytes of data on a busy session.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { answersPing, watchLiveness } from '../../src/shared/http2-liveness.js';

const PING = 0x6;
const ACK = 0x1;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

interface Pair {
  client: http2.ClientHttp2Session;
  /** Starts (true) or stops (false) a stream of DATA from the server to the client. */
  serverSends(on: boolean): void;
}

/** An h2c server, a proxy in front of it (which drops the server's PING ACKs when asked), and a connected client. */
async function pair(options: { dropPongs: boolean }): Promise<Pair> {
  let sending = false;
  let pump: NodeJS.Timeout | undefined;
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200 });
    stream.on('error', () => {});
    pump = setInterval(() => {
      if (sending && !stream.destroyed) stream.write(Buffer.alloc(4096));
    }, 20);
  });
  server.on('session', (session) => session.on('error', () => {}));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy = net.createServer((inbound) => {
    const outbound = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    inbound.on('error', () => {});
    outbound.on('error', () => {});
    inbound.pipe(outbound);
    let pending = Buffer.alloc(0);
    outbound.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 9) {
        const length = pending.readUIntBE(0, 3);
        if (pending.length < 9 + length) break;
        const frame = pending.subarray(0, 9 + length);
        pending = pending.subarray(9 + length);
        const isPong = frame[3] === PING && (frame[4]! & ACK) === ACK;
        if (!(isPong && options.dropPongs)) inbound.write(frame);
      }
    });
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const client = http2.connect(`http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`);
  client.on('error', () => {});
  await new Promise((resolve) => client.once('remoteSettings', resolve));
  const request = client.request({ ':path': '/' });
  request.on('error', () => {});
  request.resume();
  cleanups.push(() => {
    clearInterval(pump);
    client.destroy();
    proxy.close();
    server.close();
  });
  return { client, serverSends: (on) => void (sending = on) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a session destroyed in the tick its check comes due is never pinged (no ERR_HTTP2_INVALID_SESSION)', async () => {
  const { client } = await pair({ dropPongs: false });
  const uncaught: unknown[] = [];
  const record = (error: unknown) => uncaught.push(error);
  process.on('uncaughtException', record);
  try {
    // Timers with the same deadline fire in the order they were set: this destroy runs first.
    setTimeout(() => client.destroy(), 100);
    watchLiveness(client, 100);
    await sleep(400);
  } finally {
    process.off('uncaughtException', record);
  }
  assert.deepEqual(uncaught, []);
});

test('a session receiving data is kept although its pongs never arrive', async () => {
  const { client, serverSends } = await pair({ dropPongs: true });
  serverSends(true);
  watchLiveness(client, 100);
  await sleep(1_000);
  assert.equal(client.destroyed, false, 'ten intervals of data without a single pong');
});

test('a session that receives nothing, not even a pong, is destroyed', async () => {
  const { client, serverSends } = await pair({ dropPongs: true });
  serverSends(true);
  watchLiveness(client, 100);
  await sleep(300);
  serverSends(false);
  const stopped = Date.now();
  while (!client.destroyed && Date.now() - stopped < 3_000) await sleep(20);
  assert.equal(client.destroyed, true, 'destroyed once silent for an interval after its ping');
});

test('an idle session whose peer answers pings is kept', async () => {
  const { client } = await pair({ dropPongs: false });
  watchLiveness(client, 50);
  await sleep(600);
  assert.equal(client.destroyed, false);
});

test('answersPing: a session busy with data shows life even when its pong is held back', async () => {
  const { client, serverSends } = await pair({ dropPongs: true });
  serverSends(true);
  assert.equal(await answersPing(client, 1_000), true);
  serverSends(false);
  await sleep(100);
  assert.equal(await answersPing(client, 300), false, 'silent and no pong: not alive');
  client.destroy();
  assert.equal(await answersPing(client, 300), false, 'a destroyed session is not pinged');
});
