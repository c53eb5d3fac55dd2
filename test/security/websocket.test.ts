// Hostile WebSocket input at the edge: each refused with a clear error, and a legitimate
// client is served right after.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startChain, type Chain } from '../helpers/chain.js';
import {
  assertStillServes,
  closeCode,
  frame,
  headEnd,
  OPCODE,
  rawConnect,
  serverFrames,
  statusOf,
  upgradeRequest,
} from '../helpers/hostile.js';
import { waitUntil } from '../helpers/airlock-processes.js';
import { startOrigin, type Origin } from '../helpers/transfer.js';

const APP = 'echo.airlock.test';
let chain: Chain;
let origin: Origin;
let ca: Buffer;

before(async () => {
  origin = await startOrigin();
  chain = await startChain([{ hostname: APP, service: `tcp://127.0.0.1:${origin.port}` }]);
  ca = readFileSync(chain.pki.ca);
});
after(async () => {
  await chain.close();
  await origin.close();
});

const stillServes = () => assertStillServes(chain.edgeUrl, chain.pki.ca, APP);
const noStreamsLeft = () =>
  waitUntil('no stream left open at the connector', () => chain.connector.activeStreams === 0, 5000);

async function openTunnel() {
  const raw = await rawConnect(chain.edge.port, ca);
  raw.socket.write(upgradeRequest(APP));
  await raw.waitFor((data) => headEnd(data) > 0);
  assert.equal(statusOf(raw.received()), 101);
  return raw;
}

test('refuses request headers larger than 16 KiB with 431', async () => {
  const raw = await rawConnect(chain.edge.port, ca);
  raw.socket.write(upgradeRequest(APP, { 'X-Padding': 'a'.repeat(20 * 1024) }));
  await raw.waitFor((data) => statusOf(data) > 0);
  assert.equal(statusOf(raw.received()), 431);
  assert.equal(await raw.closed(), true);
  await stillServes();
});

test('refuses a frame larger than 1 MiB with close 1009 before reading it', async () => {
  const raw = await openTunnel();
  raw.socket.write(frame(OPCODE.binary, Buffer.alloc(16), { declaredLength: 64 * 1024 * 1024 }));
  await raw.waitFor((data) => closeCode(data) !== undefined);
  assert.equal(closeCode(raw.received()), 1009);
  assert.equal(await raw.closed(), true);
  await noStreamsLeft();
  await stillServes();
});

test('refuses a fragmented message that adds up to more than 1 MiB with close 1009', async () => {
  const raw = await openTunnel();
  const piece = Buffer.alloc(512 * 1024, 1);
  raw.socket.write(frame(OPCODE.binary, piece, { fin: false }));
  raw.socket.write(frame(OPCODE.continuation, piece, { fin: false }));
  raw.socket.write(frame(OPCODE.continuation, piece, { fin: true }));
  await raw.waitFor((data) => closeCode(data) !== undefined);
  assert.equal(closeCode(raw.received()), 1009);
  await noStreamsLeft();
  await stillServes();
});

test('refuses a continuation frame with no message to continue with close 1002', async () => {
  const raw = await openTunnel();
  raw.socket.write(frame(OPCODE.continuation, Buffer.from('orphan')));
  await raw.waitFor((data) => closeCode(data) !== undefined);
  assert.equal(closeCode(raw.received()), 1002);
  await noStreamsLeft();
  await stillServes();
});

test('refuses a fragmented control frame with close 1002', async () => {
  const raw = await openTunnel();
  raw.socket.write(frame(OPCODE.ping, Buffer.from('half'), { fin: false }));
  await raw.waitFor((data) => closeCode(data) !== undefined);
  assert.equal(closeCode(raw.received()), 1002);
  await noStreamsLeft();
  await stillServes();
});

test('relays a small fragmented binary message intact (control for the fragment cases)', async () => {
  const raw = await openTunnel();
  raw.socket.write(frame(OPCODE.binary, Buffer.from('Eabc'), { fin: false }));
  raw.socket.write(frame(OPCODE.continuation, Buffer.from('def'), { fin: true }));
  await raw.waitFor((data) => Buffer.concat(serverFrames(data).map((f) => f.payload)).toString() === 'abcdef');
  raw.socket.destroy();
});

test('refuses a text frame with close 1003 and forwards none of it', async () => {
  const raw = await openTunnel();
  raw.socket.write(frame(OPCODE.binary, Buffer.from('E')));
  raw.socket.write(frame(OPCODE.text, Buffer.from('TEXT-SHOULD-NOT-PASS')));
  await raw.waitFor((data) => closeCode(data) !== undefined);
  assert.equal(closeCode(raw.received()), 1003);
  const echoed = serverFrames(raw.received()).filter((f) => f.opcode === OPCODE.binary);
  assert.equal(
    Buffer.concat(echoed.map((f) => f.payload)).includes('TEXT-SHOULD-NOT-PASS'),
    false,
    'the text payload never reached the origin',
  );
  await noStreamsLeft();
  await stillServes();
});

test('answers a request without Upgrade with 426 and how to connect', async () => {
  const raw = await rawConnect(chain.edge.port, ca);
  raw.socket.write(upgradeRequest(APP, {}, ['Upgrade', 'Connection', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version']));
  await raw.waitFor((data) => headEnd(data) > 0 && data.toString().includes('}'));
  assert.equal(statusOf(raw.received()), 426);
  assert.match(raw.received().toString(), /airlock access tcp --hostname echo\.airlock\.test/);
  raw.socket.destroy();
  await stillServes();
});

test('refuses a wrong Sec-WebSocket-Version with 400 and opens no stream to the origin', async () => {
  const dialsBefore = origin.connections;
  const raw = await rawConnect(chain.edge.port, ca);
  raw.socket.write(upgradeRequest(APP, { 'Sec-WebSocket-Version': '8' }));
  await raw.waitFor((data) => statusOf(data) > 0);
  assert.equal(statusOf(raw.received()), 400);
  assert.match(raw.received().toString(), /Sec-WebSocket-Version/i);
  assert.equal(await raw.closed(), true);
  await noStreamsLeft();
  assert.equal(origin.connections, dialsBefore, 'the origin was never dialled');
  await stillServes();
});

test('refuses an upgrade without Sec-WebSocket-Key with 400 and opens no stream to the origin', async () => {
  const dialsBefore = origin.connections;
  const raw = await rawConnect(chain.edge.port, ca);
  raw.socket.write(upgradeRequest(APP, {}, ['Sec-WebSocket-Key']));
  await raw.waitFor((data) => statusOf(data) > 0);
  assert.equal(statusOf(raw.received()), 400);
  await noStreamsLeft();
  assert.equal(origin.connections, dialsBefore, 'the origin was never dialled');
  await stillServes();
});

test('refuses an Upgrade other than websocket with 400', async () => {
  const raw = await rawConnect(chain.edge.port, ca);
  raw.socket.write(upgradeRequest(APP, { Upgrade: 'h2c' }));
  await raw.waitFor((data) => statusOf(data) > 0);
  assert.equal(statusOf(raw.received()), 400);
  await stillServes();
});
