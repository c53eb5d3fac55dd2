// The client's remembered edges: per app hostname, then per domain; forgetting keeps a domain
// while another app of it is remembered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { domainOf, forget, profileFor, remember, rememberedEdges, type ProfileFile } from '../../src/core/profiles.js';

const empty: ProfileFile = { apps: {}, domains: {} };
const edge = { edge: 'https://auth.example.com', ca: '/etc/airlock/ca.pem' };

test('domainOf takes the first label off a name with at least three labels, never off an IP address', () => {
  assert.equal(domainOf('db.example.com'), 'example.com');
  assert.equal(domainOf('example.com'), undefined);
  assert.equal(domainOf('127.0.0.1'), undefined);
});

test('an app of a remembered domain finds its edge; an app of another domain does not', () => {
  const file = remember(empty, 'db.example.com', edge);
  assert.deepEqual(profileFor(file, 'db.example.com'), edge);
  assert.deepEqual(profileFor(file, 'redis.example.com'), edge);
  assert.equal(profileFor(file, 'db.example.org'), undefined);
});

test('forgetting one app keeps its domain while another app of it is remembered', () => {
  const both = remember(remember(empty, 'db.example.com', edge), 'redis.example.com', edge);
  const one = forget(both, 'db.example.com');
  assert.deepEqual(profileFor(one, 'ssh.example.com'), edge);
  assert.equal(profileFor(forget(one, 'redis.example.com'), 'ssh.example.com'), undefined);
  assert.deepEqual(forget(both), empty);
});

test('rememberedEdges: each edge once, with a CA when any profile of it has one; app-own edges are left out', () => {
  let file = remember(empty, 'db.example.com', { edge: 'https://auth.example.com' });
  file = remember(file, 'redis.example.com', edge);
  file = remember(file, 'ssh.example.org', {});
  assert.deepEqual(rememberedEdges(file), [edge]);
  file = remember(file, 'web.example.net', { edge: 'https://auth.example.net:8443/' });
  assert.deepEqual(
    rememberedEdges(file).map((known) => known.edge),
    ['https://auth.example.com', 'https://auth.example.net:8443/'],
  );
});
