// `access tcp` while the service's connector is offline binds at once and reports the outage per
// connection (as cloudflared does), instead of refusing to start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startChain, startEchoServer, freePort, SERVICE_TOKEN } from '../helpers/chain.js';
import { airlock } from '../helpers/processes.js';

test('with the connector offline, access tcp listens and fails each connection with NO_CONNECTOR', async (t) => {
  const echo = await startEchoServer();
  const chain = await startChain([{ hostname: 'echo.airlock.test', service: `tcp://127.0.0.1:${echo.port}` }]);
  t.after(async () => {
    await chain.close();
    await echo.close();
  });
  await chain.connector.stop(0);
  const port = await freePort();
  const client = airlock(
    [
      'access',
      'tcp',
      '--hostname',
      'echo.airlock.test',
      '--edge',
      chain.edgeUrl,
      '--ca',
      chain.pki.ca,
      '--url',
      `127.0.0.1:${port}`,
    ],
    { AIRLOCK_SERVICE_TOKEN_ID: SERVICE_TOKEN.id, AIRLOCK_SERVICE_TOKEN_SECRET: SERVICE_TOKEN.secret },
  );
  t.after(() => client.stop());
  await client.waitFor(/Listening on 127\.0\.0\.1:\d+/, 30_000);
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('close', resolve));
  await client.waitFor(/connection 1 failed: \[NO_CONNECTOR\]/);
  assert.equal(client.child.exitCode, null, 'still listening');
});
