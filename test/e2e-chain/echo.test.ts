import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { startChain, startEchoServer, SERVICE_TOKEN } from '../helpers/chain.js';
import { LocalListener } from '../../src/core/local-listener.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';

test('bytes echo through client → edge → connector → origin', async (t) => {
  const echo = await startEchoServer();
  const chain = await startChain([{ hostname: 'echo.airlock.test', service: `tcp://127.0.0.1:${echo.port}` }]);
  t.after(async () => {
    await chain.close();
    await echo.close();
  });
  const listener = new LocalListener({
    target: resolveEdgeTarget({ hostname: 'echo.airlock.test', edge: chain.edgeUrl, caFile: chain.pki.ca }),
    local: { host: '127.0.0.1', port: 0 },
    credential: async () => ({ kind: 'service-token', ...SERVICE_TOKEN }),
  });
  const address = await listener.start();
  t.after(() => listener.stop());
  const port = Number(address.split(':').pop());
  const socket = net.connect(port, '127.0.0.1');
  socket.write('hello through the tunnel');
  const [data] = await once(socket, 'data');
  assert.equal(String(data), 'hello through the tunnel');
  socket.end();
  await once(socket, 'close');
  const status = listener.status();
  assert.equal(status.totalConnections, 1);
  assert.ok(status.bytesUp >= 24);
  void readFileSync;
});
