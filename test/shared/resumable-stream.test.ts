// The resumable framing and its replay core, over real loopback sockets: round trips, a transport
// broken mid-transfer and replaced, backpressure, the window, and hostile frames.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { once } from 'node:events';
import { test } from 'node:test';
import {
  controlFrame,
  dataHeader,
  FRAME,
  FrameParser,
  PayloadMeter,
  ResumeProtocolError,
} from '../../src/shared/resumable-frames.js';
import { ReplayBuffer } from '../../src/shared/replay-buffer.js';
import { ResumableStream, StreamResetError } from '../../src/shared/resumable-stream.js';

const OPTIONS = { bufferBytes: 4 * 1024 * 1024, windowMs: 5_000, maxFrameBytes: 1024 * 1024 };

/** Two connected TCP sockets on loopback. */
async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const client = net.connect(port, '127.0.0.1');
  await once(client, 'connect');
  const [serverSide] = await accepted;
  server.close();
  return [client, serverSide];
}

async function attachPair(a: ResumableStream, b: ResumableStream): Promise<[net.Socket, net.Socket]> {
  const pair = await socketPair();
  a.attach(pair[0]);
  b.attach(pair[1]);
  return pair;
}

/** Everything `stream` emits until its end, and its sha256. */
function collect(stream: ResumableStream): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  stream.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    hash.update(chunk);
  });
  return new Promise((resolve, reject) => {
    stream.once('end', () => resolve({ bytes, sha256: hash.digest('hex') }));
    stream.once('error', reject);
  });
}

async function writeAll(stream: ResumableStream, data: Buffer, piece = 100_000): Promise<void> {
  for (let at = 0; at < data.length; at += piece) {
    if (!stream.write(data.subarray(at, at + piece))) await once(stream, 'drain');
  }
  stream.end();
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

test('frames survive any chunking: split into single bytes they give the same bytes at the same offsets', () => {
  const payload = randomBytes(300);
  const wire = Buffer.concat([
    dataHeader(2 ** 40 + 7, payload.length),
    payload,
    controlFrame(FRAME.ack, 123),
    controlFrame(FRAME.fin, 2 ** 40 + 307),
  ]);
  const parser = new FrameParser(1024);
  const frames = [...wire].flatMap((byte) => parser.push(Buffer.from([byte])));
  const data = frames.filter((frame) => frame.type === FRAME.data);
  assert.equal(data.length, 300, 'the payload is handed on byte by byte, as it arrives');
  data.forEach((frame, index) => assert.equal(frame.offset, 2 ** 40 + 7 + index));
  assert.deepEqual(Buffer.concat(data.map((frame) => frame.payload)), payload);
  assert.deepEqual(frames.slice(300), [
    { type: FRAME.ack, offset: 123 },
    { type: FRAME.fin, offset: 2 ** 40 + 307 },
  ]);
});

test('a payload in the chunk with its header is handed on as a view of that chunk, not a copy', () => {
  const payload = randomBytes(1000);
  const wire = Buffer.concat([dataHeader(0, 1000), payload, controlFrame(FRAME.ack, 0)]);
  const frames = new FrameParser(1024).push(wire);
  assert.equal(frames.length, 2);
  const data = frames[0] as { payload: Buffer };
  assert.deepEqual(data.payload, payload);
  assert.equal(data.payload.buffer, wire.buffer, 'the same memory as the chunk');
});

test('a data frame larger than the limit is refused from its header, before its payload is buffered', () => {
  const parser = new FrameParser(1024);
  assert.throws(() => parser.push(dataHeader(0, 1025)), ResumeProtocolError);
});

test('an unknown frame type is refused', () => {
  assert.throws(() => new FrameParser(1024).push(Buffer.alloc(13, 9)), /unknown frame type 9/);
});

test('an offset beyond 2^53 is refused', () => {
  const frame = controlFrame(FRAME.ack, 0);
  frame.writeUInt32BE(0xffffffff, 1);
  assert.throws(() => new FrameParser(1024).push(frame), /out of range/);
});

test('the payload meter counts replayed bytes once', () => {
  const meter = new PayloadMeter(1024);
  const payload = randomBytes(100);
  meter.push(Buffer.concat([dataHeader(500, 100), payload, dataHeader(550, 100), payload]));
  assert.equal(meter.bytes, 150);
});

test('the replay buffer drops what is acknowledged and replays from any offset', () => {
  const buffer = new ReplayBuffer();
  buffer.append(Buffer.from('hello '));
  buffer.append(Buffer.from('world'));
  buffer.acknowledge(3);
  assert.equal(buffer.size, 8);
  const replay = [...buffer.from(4)];
  assert.deepEqual(
    replay.map(({ offset, chunk }) => [offset, chunk.toString()]),
    [
      [4, 'o '],
      [6, 'world'],
    ],
  );
  buffer.acknowledge(11);
  assert.equal(buffer.size, 0);
});

test('32 MB each way arrives intact, and both ends finish cleanly', async () => {
  const a = new ResumableStream(OPTIONS);
  const b = new ResumableStream(OPTIONS);
  await attachPair(a, b);
  const up = randomBytes(32 * 1024 * 1024);
  const down = randomBytes(32 * 1024 * 1024);
  const doneA = once(a, 'done');
  const doneB = once(b, 'done');
  const [atB, atA] = await Promise.all([collect(b), collect(a), writeAll(a, up), writeAll(b, down)]);
  assert.equal(atB.sha256, sha256(up));
  assert.equal(atA.sha256, sha256(down));
  await Promise.all([doneA, doneB]);
});

test('a transport broken three times mid-transfer is replaced and no byte is lost or doubled', async () => {
  const a = new ResumableStream(OPTIONS);
  const b = new ResumableStream(OPTIONS);
  let pair = await attachPair(a, b);
  const up = randomBytes(48 * 1024 * 1024);
  const down = randomBytes(24 * 1024 * 1024);
  const results = Promise.all([collect(b), collect(a), writeAll(a, up), writeAll(b, down)]);
  let replayed = 0;
  a.on('attached', (bytes) => (replayed += bytes));
  b.on('attached', (bytes) => (replayed += bytes));
  // Cut at a quarter, a half and three quarters of the upload as b receives it, not after a
  // delay: on a fast machine the whole transfer can finish before a timed cut.
  let receivedAtB = 0;
  const cutAt = [up.length / 4, up.length / 2, (3 * up.length) / 4];
  let cutsDone = 0;
  const allCut = new Promise<void>((resolve) => {
    b.on('data', (chunk: Buffer) => {
      receivedAtB += chunk.length;
      if (cutsDone < cutAt.length && receivedAtB >= cutAt[cutsDone]! && a.attached) {
        cutsDone++;
        pair[0].resetAndDestroy();
        void once(a, 'detached').then(async () => {
          pair = await attachPair(a, b);
          if (cutsDone === cutAt.length) resolve();
        });
      }
    });
  });
  await allCut;
  const [atB, atA] = await results;
  assert.equal(atB.bytes, up.length);
  assert.equal(atB.sha256, sha256(up));
  assert.equal(atA.sha256, sha256(down));
  console.log(`# ${(replayed / 1e6).toFixed(1)} MB replayed over 3 cuts`);
});

test('writes wait while the replay buffer is full and no transport carries them (backpressure)', async () => {
  const a = new ResumableStream({ ...OPTIONS, bufferBytes: 64 * 1024 });
  let accepted = 0;
  for (let index = 0; index < 100; index++) {
    const ok = a.write(Buffer.alloc(16 * 1024));
    accepted++;
    if (!ok) break;
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(a.writableLength > 0, 'writes are held');
  assert.ok(accepted < 100, `write() asked to wait after ${accepted} chunks`);
  a.destroy();
});

test('a stream not resumed within its window fails with a reset', async () => {
  const a = new ResumableStream({ ...OPTIONS, windowMs: 200 });
  const b = new ResumableStream({ ...OPTIONS, windowMs: 200 });
  const pair = await attachPair(a, b);
  const failed = [once(a, 'error'), once(b, 'error')];
  pair[0].resetAndDestroy();
  const [[errorA], [errorB]] = (await Promise.all(failed)) as [[StreamResetError], [StreamResetError]];
  assert.equal(errorA.code, 'ECONNRESET');
  assert.match(errorA.message, /not resumed within/);
  assert.match(errorB.message, /not resumed within/);
});

test('an end that is not clean (one side destroyed) resets the other side at once', async () => {
  const a = new ResumableStream(OPTIONS);
  const b = new ResumableStream(OPTIONS);
  await attachPair(a, b);
  const failed = once(b, 'error');
  a.on('error', () => {});
  a.destroy(new Error('local program reset'));
  const [error] = (await failed) as [Error];
  assert.match(error.message, /other end reset/);
});

/** A raw socket speaking frames to a ResumableStream: the hostile peer. */
async function hostilePeer(): Promise<{ stream: ResumableStream; raw: net.Socket; failed: Promise<Error> }> {
  const stream = new ResumableStream(OPTIONS);
  const [mine, raw] = await socketPair();
  stream.attach(mine);
  raw.on('error', () => {});
  const failed = once(stream, 'error').then(([error]) => error as Error);
  return { stream, raw, failed };
}

test('data past the received offset (a gap) resets the stream', async () => {
  const { raw, failed } = await hostilePeer();
  raw.write(Buffer.concat([controlFrame(FRAME.ack, 0), dataHeader(10, 1), Buffer.from('x')]));
  assert.match((await failed).message, /gap/);
});

test('an ack for bytes never sent resets the stream', async () => {
  const { stream, raw, failed } = await hostilePeer();
  stream.write('abc');
  raw.write(controlFrame(FRAME.ack, 4));
  assert.match((await failed).message, /acknowledges 4, only 3 sent/);
});

test('an oversized frame resets the stream and tells the peer', async () => {
  const { raw, failed } = await hostilePeer();
  const fromStream: Buffer[] = [];
  raw.on('data', (chunk: Buffer) => fromStream.push(chunk));
  raw.write(dataHeader(0, 2 * 1024 * 1024));
  assert.match((await failed).message, /exceeds/);
  await once(raw, 'end');
  const frames = new FrameParser(1024).push(Buffer.concat(fromStream));
  assert.equal(frames.at(-1)?.type, FRAME.reset, 'the last frame sent is a reset');
});

test('a replayed data frame overlapping what was received delivers only the new bytes', async () => {
  const { stream, raw } = await hostilePeer();
  const got: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => got.push(chunk));
  raw.write(Buffer.concat([dataHeader(0, 5), Buffer.from('hello'), dataHeader(3, 5), Buffer.from('lo wo')]));
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(Buffer.concat(got).toString(), 'hello wo');
  stream.destroy();
});
