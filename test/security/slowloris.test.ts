// Slowloris: 300 slow half-open connections from one address. The per-address limit
// (limits.maxConnectionsPerIp) caps how many the edge holds; limits.handshakeTimeout reaps the rest,
// whether they stall before the TLS ClientHello or in the middle of the request headers. A client
// on another address is served throughout. (300, not 10,000: the bound is what is being shown, and
// the suite has a CI time budget; the mechanism does not depend on the count.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { startChain } from '../helpers/chain.js';
import { assertStillServes } from '../helpers/hostile.js';
import { waitUntil } from '../helpers/airlock-processes.js';
import { startOrigin } from '../helpers/transfer.js';

const APP = 'slow.airlock.test';
const ATTACKER = '127.0.0.2';
const LIMIT = 100;

test('300 slow half-open connections: at most maxConnectionsPerIp held, all reaped by handshakeTimeout, others served', async (t) => {
  const origin = await startOrigin();
  const chain = await startChain([{ hostname: APP, service: `tcp://127.0.0.1:${origin.port}` }], {
    extraYaml: `limits: { maxConnectionsPerIp: ${LIMIT}, handshakeTimeout: 2s }\n`,
  });
  const ca = readFileSync(chain.pki.ca);
  const sockets: net.Socket[] = [];
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await chain.close();
    await origin.close();
  });
  const open = () => sockets.filter((socket) => !socket.destroyed && !socket.closed).length;
  const started = Date.now();

  // 150 that connect and never say a word (no ClientHello)…
  for (let i = 0; i < 150; i++) {
    const socket = net.connect({ host: '127.0.0.1', port: chain.edge.port, localAddress: ATTACKER });
    socket.on('error', () => {});
    sockets.push(socket);
  }
  // …and 150 that finish TLS and then send half a request, never the blank line.
  for (let i = 0; i < 150; i++) {
    const socket = tls.connect({
      socket: net.connect({ host: '127.0.0.1', port: chain.edge.port, localAddress: ATTACKER }),
      ca,
      servername: 'localhost',
    });
    socket.on('error', () => {});
    socket.once('secureConnect', () => socket.write(`GET / HTTP/1.1\r\nHost: ${APP}\r\nX-Slow: `));
    sockets.push(socket);
  }
  await waitUntil('the edge refused everything over the limit', () => open() <= LIMIT, 5000);
  const held = open();
  t.diagnostic(`${held} of 300 slow connections held after the limit (limit ${LIMIT})`);
  assert.ok(held <= LIMIT);

  // Someone else is served while the attack is on.
  await assertStillServes(chain.edgeUrl, chain.pki.ca, APP);

  // handshakeTimeout (2 s, checked every second) reaps every one that is left.
  await waitUntil('every slow connection closed by the edge', () => open() === 0, 8000, 100);
  const reaped = Date.now() - started;
  t.diagnostic(`all 300 closed by the edge ${reaped} ms after the attack began`);
  await assertStillServes(chain.edgeUrl, chain.pki.ca, APP);

  // The address is not banned: once its slow connections are gone, it may connect again.
  const again = tls.connect({
    socket: net.connect({ host: '127.0.0.1', port: chain.edge.port, localAddress: ATTACKER }),
    ca,
    servername: 'localhost',
  });
  again.on('error', () => {});
  await new Promise<void>(
    (resolve, reject) => (
      again.once('secureConnect', resolve),
      again.once('close', () => reject(new Error('refused after the attack')))
    ),
  );
  again.destroy();
});
