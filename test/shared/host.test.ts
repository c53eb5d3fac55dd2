import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostnameFromHostHeader, parseHostPort, isLoopbackHost } from '../../src/shared/host.js';
import { parseDuration } from '../../src/shared/contract/duration.js';
import { parseHeaderArgument } from '../../src/core/credentials.js';

test('the Host header is routed with any port, trailing dot and case removed', () => {
  assert.equal(hostnameFromHostHeader('DB.Example.com:8443'), 'db.example.com');
  assert.equal(hostnameFromHostHeader('db.example.com.'), 'db.example.com');
  assert.equal(hostnameFromHostHeader('[::1]:443'), '::1');
  assert.equal(hostnameFromHostHeader(undefined), undefined);
  assert.equal(hostnameFromHostHeader(':443'), undefined);
});

test('host:port parsing accepts IPv4, names and bracketed IPv6, and only ports 1-65535', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:6379'), { host: '127.0.0.1', port: 6379 });
  assert.deepEqual(parseHostPort('tcp://[::1]:22'), { host: '::1', port: 22 });
  assert.equal(parseHostPort('127.0.0.1:0'), undefined);
  assert.deepEqual(parseHostPort('127.0.0.1:0', { allowPortZero: true }), { host: '127.0.0.1', port: 0 });
  assert.equal(parseHostPort('127.0.0.1:65536'), undefined);
  assert.equal(parseHostPort('127.0.0.1'), undefined);
  assert.equal(parseHostPort('a/b:1'), undefined);
});

test('loopback hosts', () => {
  assert.ok(isLoopbackHost('127.3.2.1') && isLoopbackHost('::1') && isLoopbackHost('localhost'));
  assert.ok(!isLoopbackHost('127.0.0.1.example.com') && !isLoopbackHost('0.0.0.0'));
});

test('durations', () => {
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('24h'), 86_400_000);
  assert.equal(parseDuration('1.5h'), undefined);
});

test('--header values cannot smuggle a second header', () => {
  assert.deepEqual(parseHeaderArgument('X-Team: infra'), ['X-Team', 'infra']);
  assert.throws(() => parseHeaderArgument('X-Team: a\r\nCf-Access-Token: b'), /is not of the form/);
  assert.throws(() => parseHeaderArgument('Bad Name: x'), /is not of the form/);
});
