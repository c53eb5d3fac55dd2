import { test } from 'node:test';
import assert from 'node:assert/strict';
import { airlock } from '../helpers/processes.js';
import { decodeTunnelToken, secretMatches } from '../../src/shared/secrets.js';
import { startChain, startEchoServer, TUNNEL } from '../helpers/chain.js';
import { encodeTunnelToken } from '../../src/shared/secrets.js';

test('`tunnel create` prints the edge.yaml line with a hash and a token that matches it', async () => {
  const process = airlock(['tunnel', 'create', 'db-tunnel']);
  assert.equal(await process.exited(), 0);
  const output = process.output();
  const hash = /- \{ id: db-tunnel, secretHash: "(sha256:[0-9a-f]{64})" \}/.exec(output)?.[1];
  assert.ok(hash, output);
  const token = output.trim().split('\n').pop()!;
  const decoded = decodeTunnelToken(token);
  assert.equal(decoded?.tunnelId, 'db-tunnel');
  assert.ok(secretMatches(decoded!.secret, hash));
  assert.doesNotMatch(
    output.replace(token, ''),
    new RegExp(decoded!.secret),
    'the secret appears only inside the token',
  );
});

test('`service-token create` prints the id, the secret once, and the hashed config line', async () => {
  const process = airlock(['service-token', 'create', 'ci-bot']);
  assert.equal(await process.exited(), 0);
  const secret = /AIRLOCK_SERVICE_TOKEN_SECRET=(\S+)/.exec(process.output())?.[1];
  const hash = /secretHash: "(sha256:[0-9a-f]{64})"/.exec(process.output())?.[1];
  assert.ok(secret && hash && secretMatches(secret, hash));
});

test('`tunnel create` refuses a name that could not be an id', async () => {
  const process = airlock(['tunnel', 'create', '../etc']);
  assert.equal(await process.exited(), 2);
  assert.match(process.output(), /NAME must be 1-128 letters/);
});

test('`tunnel run` with a token the edge refuses exits 1 and says to check the token', async (t) => {
  const echo = await startEchoServer();
  const chain = await startChain([{ hostname: 'echo.airlock.test', service: `tcp://127.0.0.1:${echo.port}` }]);
  t.after(async () => {
    await chain.close();
    await echo.close();
  });
  const process = airlock(
    ['tunnel', 'run', '--edge', chain.edgeUrl, '--ca', chain.pki.ca, '--url', `tcp://127.0.0.1:${echo.port}`],
    {
      AIRLOCK_TUNNEL_TOKEN: encodeTunnelToken(TUNNEL.id, 'not-the-secret'),
    },
  );
  assert.equal(await process.exited(), 1);
  assert.match(process.output(), /the edge refused the tunnel token \(tunnel token not accepted\); check --token/);
});

test('`tunnel run` with a --url that is not tcp://host:port is refused before dialling', async () => {
  const process = airlock([
    'tunnel',
    'run',
    '--edge',
    'https://127.0.0.1:1',
    '--token',
    'x',
    '--url',
    'http://127.0.0.1:80',
  ]);
  assert.equal(await process.exited(), 2);
  assert.match(process.output(), /--url: must be tcp:\/\/host:port/);
});

test('`tunnel run` against an edge with an unknown CA says so, with the --ca hint', async (t) => {
  const echo = await startEchoServer();
  const chain = await startChain([{ hostname: 'echo.airlock.test', service: `tcp://127.0.0.1:${echo.port}` }]);
  const process = airlock(
    ['tunnel', 'run', '--edge', chain.edgeUrl, '--url', `tcp://127.0.0.1:${echo.port}`, '--connections', '1'],
    {
      AIRLOCK_TUNNEL_TOKEN: chain.tunnelToken,
    },
  );
  t.after(async () => {
    await process.stop();
    await chain.close();
    await echo.close();
  });
  await process.waitFor(/TLS to the edge at https:\/\/127\.0\.0\.1:\d+ was refused .*pass --ca FILE/);
});
