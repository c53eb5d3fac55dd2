// Where the client dials: the production shape is an edge on 443 named by a URL without a port,
// which a WHATWG URL reports as port "" (once turned into port 0 on every tunnel socket).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { TLSSocket } from 'node:tls';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';
import { edgeConnections } from '../../src/core/edge-connections.js';
import { portOfUrl } from '../../src/shared/host.js';

test('an edge URL without a port, with :443, or no --edge at all all dial port 443', () => {
  for (const edge of [
    'https://edge.airlock.test',
    'https://edge.airlock.test:443',
    'wss://edge.airlock.test',
    undefined,
  ]) {
    const target = resolveEdgeTarget({ hostname: 'db.airlock.test', ...(edge ? { edge } : {}) });
    assert.equal(target.port, 443, `${edge ?? '(no --edge)'}`);
    assert.equal(target.host, edge ? 'edge.airlock.test' : 'db.airlock.test');
  }
  assert.equal(resolveEdgeTarget({ hostname: 'db.airlock.test', edge: 'https://[::1]:8443' }).host, '::1');
  assert.equal(resolveEdgeTarget({ hostname: 'db.airlock.test', edge: 'https://[::1]:8443' }).port, 8443);
});

test('portOfUrl gives the scheme default where a URL hides it', () => {
  assert.equal(portOfUrl(new URL('https://h/')), 443);
  assert.equal(portOfUrl(new URL('wss://h:443/')), 443);
  assert.equal(portOfUrl(new URL('http://h/')), 80);
  assert.equal(portOfUrl(new URL('https://h:7443/')), 7443);
});

test('tunnel sockets dial the target port, 443 for an edge URL without one', async () => {
  const connections = edgeConnections(resolveEdgeTarget({ hostname: 'db.airlock.test', edge: 'https://127.0.0.1' }));
  const { socket } = connections.take();
  connections.close();
  // Whether or not something listens on 443 here, the socket must have aimed at it, not at port 0.
  const outcome = await Promise.race([
    once(socket, 'error').then(([error]) => (error as NodeJS.ErrnoException & { port?: number }).port),
    once(socket, 'connect').then(() => (socket as TLSSocket).remotePort),
  ]);
  socket.destroy();
  assert.equal(outcome, 443);
});
