// Every bad input to `airlock access tcp` gets a sentence that says what to do, not a stack trace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startChain, startEchoServer, freePort, SERVICE_TOKEN, type Chain } from '../helpers/chain.js';
import { airlock } from '../helpers/processes.js';

let chain: Chain;
let echo: Awaited<ReturnType<typeof startEchoServer>>;

before(async () => {
  echo = await startEchoServer();
  chain = await startChain([{ hostname: 'echo.airlock.test', service: `tcp://127.0.0.1:${echo.port}` }]);
});
after(async () => {
  await chain.close();
  await echo.close();
});

function accessTcp(extra: string[], hostname = 'echo.airlock.test') {
  return airlock(['access', 'tcp', '--hostname', hostname, '--edge', chain.edgeUrl, '--ca', chain.pki.ca, ...extra]);
}

async function failsWith(process: ReturnType<typeof airlock>, pattern: RegExp, code = 1) {
  assert.equal(await process.exited(), code, process.output());
  assert.match(process.output(), pattern);
  assert.doesNotMatch(process.output(), /\n\s+at .*\.(ts|js):\d+/, 'no stack trace');
}

test('a wrong service token secret: the CLI says the edge refused the token', async () => {
  const port = await freePort();
  await failsWith(
    accessTcp([
      '--url',
      `127.0.0.1:${port}`,
      '--service-token-id',
      SERVICE_TOKEN.id,
      '--service-token-secret',
      'not-the-secret',
    ]),
    /refused service token "ci-bot".*id or secret is wrong/,
  );
});

test('an unknown service token id: refused the same way, naming the id', async () => {
  const port = await freePort();
  await failsWith(
    accessTcp(['--url', `127.0.0.1:${port}`, '--service-token-id', 'nobody', '--service-token-secret', 'x']),
    /refused service token "nobody"/,
  );
});

test('a missing service token secret: refused before anything is dialled', async () => {
  const port = await freePort();
  await failsWith(
    accessTcp(['--url', `127.0.0.1:${port}`, '--service-token-id', SERVICE_TOKEN.id]),
    /needs both --service-token-id and --service-token-secret/,
    2,
  );
});

test('no credentials on an edge without single sign-on: says to use a service token', async () => {
  const port = await freePort();
  await failsWith(accessTcp(['--url', `127.0.0.1:${port}`]), /no single sign-on: pass a service token/);
});

test('an unknown hostname: 404 and a message naming the hostname', async () => {
  const port = await freePort();
  await failsWith(
    accessTcp(
      [
        '--url',
        `127.0.0.1:${port}`,
        '--service-token-id',
        SERVICE_TOKEN.id,
        '--service-token-secret',
        SERVICE_TOKEN.secret,
      ],
      'nope.airlock.test',
    ),
    /does not serve this hostname: no application is configured for hostname "nope\.airlock\.test"/,
  );
});

test("an unreachable edge: the message says to check outbound connections on the edge's port", async () => {
  const dead = await freePort();
  const port = await freePort();
  const process = airlock([
    'access',
    'tcp',
    '--hostname',
    'echo.airlock.test',
    '--url',
    `127.0.0.1:${port}`,
    '--edge',
    `https://127.0.0.1:${dead}`,
    '--service-token-id',
    'a',
    '--service-token-secret',
    'b',
  ]);
  await failsWith(
    process,
    new RegExp(
      `cannot reach the edge at https://127\\.0\\.0\\.1:${dead} \\(ECONNREFUSED\\); check that outbound connections on port ${dead} are allowed`,
    ),
  );
});

test('an edge certificate from an unknown CA: TLS refused, with the --ca hint', async () => {
  const port = await freePort();
  const process = airlock([
    'access',
    'tcp',
    '--hostname',
    'echo.airlock.test',
    '--url',
    `127.0.0.1:${port}`,
    '--edge',
    chain.edgeUrl,
    '--service-token-id',
    'a',
    '--service-token-secret',
    'b',
  ]);
  await failsWith(process, /TLS to the edge at .* was refused .*pass --ca FILE or set NODE_EXTRA_CA_CERTS/);
});

test('a local port already in use: names the port and suggests another', async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => blocker.close(resolve)));
  const port = (blocker.address() as net.AddressInfo).port;
  await failsWith(
    accessTcp([
      '--url',
      `127.0.0.1:${port}`,
      '--service-token-id',
      SERVICE_TOKEN.id,
      '--service-token-secret',
      SERVICE_TOKEN.secret,
    ]),
    new RegExp(`127\\.0\\.0\\.1:${port} is already in use by another program\\. Choose another local port`),
  );
});

test('a port out of range: refused as a bad argument (exit 2)', async () => {
  await failsWith(
    accessTcp(['--url', '127.0.0.1:65536']),
    /--url "127\.0\.0\.1:65536" is not ADDRESS:PORT with a port from 1 to 65535/,
    2,
  );
});

test('a good service token: listens, tunnels, and stops cleanly on SIGTERM', async () => {
  const port = await freePort();
  const good = airlock(
    [
      'access',
      'tcp',
      '--hostname',
      'echo.airlock.test',
      '--url',
      `127.0.0.1:${port}`,
      '--edge',
      chain.edgeUrl,
      '--ca',
      chain.pki.ca,
    ],
    { AIRLOCK_SERVICE_TOKEN_ID: SERVICE_TOKEN.id, AIRLOCK_SERVICE_TOKEN_SECRET: SERVICE_TOKEN.secret },
  );
  await good.waitFor(/Listening on 127\.0\.0\.1:\d+ → echo\.airlock\.test/);
  const socket = net.connect(port, '127.0.0.1');
  socket.write('ping');
  const reply = await new Promise<string>((resolve) => socket.once('data', (data) => resolve(String(data))));
  assert.equal(reply, 'ping');
  socket.destroy();
  await good.stop('SIGTERM');
  assert.equal(good.child.exitCode, 0);
  assert.doesNotMatch(good.output(), new RegExp(SERVICE_TOKEN.secret), 'the secret is never printed');
});
