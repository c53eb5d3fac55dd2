// PROXY protocol v2 headers (HAProxy's proxy-protocol.txt §2.2) as the edge reads them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProxyHeader } from '../../../src/edge/http/proxy-protocol.js';

const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

function header(command: number, family: number, addresses: number[], extra: number[] = []): Buffer {
  const body = [...addresses, ...extra];
  return Buffer.from([...SIGNATURE, 0x20 | command, family, body.length >> 8, body.length & 0xff, ...body]);
}

const ipv4 = [192, 0, 2, 3, 198, 51, 100, 1, 0x9c, 0x40, 0x01, 0xbb];

test('reads the client of a TCP/IPv4 PROXY header, and where the connection goes on', () => {
  const data = Buffer.concat([header(1, 0x11, ipv4), Buffer.from('TLS')]);
  assert.deepEqual(parseProxyHeader(data), {
    kind: 'header',
    length: 28,
    source: { address: '192.0.2.3', port: 40_000 },
  });
});

test('reads a TCP/IPv6 client, IPv4-mapped ones as IPv4', () => {
  const mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 2];
  const data = header(1, 0x21, [...mapped, ...new Array(16).fill(0), 0x9c, 0x40, 0x01, 0xbb]);
  assert.deepEqual(parseProxyHeader(data), {
    kind: 'header',
    length: 52,
    source: { address: '127.0.0.2', port: 40_000 },
  });
  const real = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1];
  const six = parseProxyHeader(header(1, 0x21, [...real, ...new Array(16).fill(0), 0, 1, 0, 2]));
  assert.deepEqual(six, { kind: 'header', length: 52, source: { address: '2001:db8::1', port: 1 } });
});

test('skips TLVs after the addresses', () => {
  const parsed = parseProxyHeader(header(1, 0x11, ipv4, [0x01, 0x00, 0x02, 0x68, 0x32]));
  assert.deepEqual(parsed, { kind: 'header', length: 33, source: { address: '192.0.2.3', port: 40_000 } });
});

test("a LOCAL header (the balancer's health check) names no client", () => {
  assert.deepEqual(parseProxyHeader(header(0, 0x00, [])), { kind: 'header', length: 16 });
});

test('waits for the rest of a header split over reads', () => {
  const whole = header(1, 0x11, ipv4);
  for (const cut of [1, 11, 12, 15, 16, 27])
    assert.deepEqual(parseProxyHeader(whole.subarray(0, cut)), { kind: 'incomplete' });
});

test('refuses bytes that are not a PROXY v2 header (a TLS ClientHello, a v1 text header)', () => {
  assert.equal(parseProxyHeader(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])).kind, 'invalid');
  assert.equal(parseProxyHeader(Buffer.from('PROXY TCP4 192.0.2.3 198.51.100.1 40000 443\r\n')).kind, 'invalid');
});

test('refuses another version, an unknown command, a datagram, a short address block, a huge length', () => {
  const versionOne = header(1, 0x11, ipv4);
  versionOne[12] = 0x11;
  assert.match(String((parseProxyHeader(versionOne) as { reason: string }).reason), /version 1/);
  assert.equal(parseProxyHeader(header(2, 0x11, ipv4)).kind, 'invalid');
  assert.equal(parseProxyHeader(header(1, 0x12, ipv4)).kind, 'invalid');
  assert.equal(parseProxyHeader(header(1, 0x11, ipv4.slice(0, 8))).kind, 'invalid');
  const huge = header(1, 0x11, ipv4);
  huge.writeUInt16BE(0xffff, 14);
  assert.equal(parseProxyHeader(huge).kind, 'invalid');
});
