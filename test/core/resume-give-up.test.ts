// When a resumable stream's connector is gone, the client gives up after 5 s of `503 no_connector`
// and resets the local socket (RESUME_REFUSED). Other failures in between (a redial that times out
// under load) must not restart that count: before, each one did, and under load a dead
// connector's streams took up to 30 s to be reset. An answer with Retry-After (the edge expects
// the connector back) does not count at all. The client's resume loop against a scripted edge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import WebSocket, { WebSocketServer } from 'ws';
import { carryResumable } from '../../src/core/resumable-tunnel.js';
import { AirlockError } from '../../src/shared/errors.js';
import { RESUME } from '../../src/shared/constants.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A resumable stream over a real loopback WebSocket, whose redials fail as `refuse` says. */
async function brokenStream(refuse: (attempt: number) => Promise<never>) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const serverSide = once(wss, 'connection');
  const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as net.AddressInfo).port}`);
  await once(ws, 'open');
  const [edgeWs] = (await serverSide) as [WebSocket];
  const localServer = net.createServer();
  localServer.listen(0, '127.0.0.1');
  await once(localServer, 'listening');
  const program = net.connect((localServer.address() as net.AddressInfo).port, '127.0.0.1');
  const [local] = (await once(localServer, 'connection')) as [net.Socket];
  let programEnded: string | undefined;
  program.on('error', (error: NodeJS.ErrnoException) => (programEnded ??= error.code ?? error.message));
  program.on('end', () => (programEnded ??= 'fin'));
  let attempts = 0;
  let result: { error?: AirlockError; at: number } | undefined;
  carryResumable({
    local,
    tunnel: {
      ws,
      socket: (ws as unknown as { _socket: net.Socket })._socket,
      halfClose: true,
      resume: {
        token: 'connector.00000000-0000-0000-0000-000000000000.' + 'a'.repeat(43),
        windowMs: 60_000,
        bufferBytes: 1 << 20,
      },
    },
    redial: () => refuse(++attempts),
    onEnd: (error) => (result = { ...(error ? { error } : {}), at: Date.now() }),
  });
  const cutAt = Date.now();
  edgeWs.terminate(); // the edge is gone: the client starts resuming
  return {
    cutAt,
    attempts: () => attempts,
    result: () => result,
    programEnded: () => programEnded,
    async close() {
      program.destroy();
      local.destroy();
      ws.terminate();
      localServer.close();
      wss.close();
    },
  };
}

const noConnector = () => Promise.reject(new AirlockError('NO_CONNECTOR', 'the service is offline', { status: 503 }));

test('no connector, with a redial timing out between answers: reset after about 5 s, not restarted by each timeout', async (t) => {
  const stream = await brokenStream(async (attempt) => {
    if (attempt % 2 === 0) {
      await sleep(400); // a redial that times out under load
      throw new AirlockError('EDGE_UNREACHABLE', 'timed out');
    }
    return noConnector();
  });
  try {
    const deadline = Date.now() + 20_000;
    while (!stream.result() && Date.now() < deadline) await sleep(50);
    const result = stream.result();
    t.diagnostic(
      `ended ${result ? result.at - stream.cutAt : 'not'} ms after the cut, after ${stream.attempts()} redials: ${result?.error?.code} ${result?.error?.message}`,
    );
    assert.equal(result?.error?.code, 'RESUME_REFUSED');
    assert.ok(result.at - stream.cutAt < RESUME.noConnectorGiveUpMs + 3_000, 'given up within about 5 s');
    await sleep(100);
    assert.equal(stream.programEnded(), 'ECONNRESET', 'the local program saw a reset');
  } finally {
    await stream.close();
  }
});

test('no connector but Retry-After (the edge expects it back): the client keeps trying past 5 s', async (t) => {
  const stream = await brokenStream(() =>
    Promise.reject(new AirlockError('NO_CONNECTOR', 'may come back', { status: 503, retryAfterSeconds: 1 })),
  );
  try {
    await sleep(RESUME.noConnectorGiveUpMs + 3_000);
    t.diagnostic(
      `${stream.attempts()} redials in ${RESUME.noConnectorGiveUpMs + 3_000} ms; ended: ${stream.result() ? 'yes' : 'no'}`,
    );
    assert.equal(stream.result(), undefined, 'still waiting for the connector');
    assert.ok(stream.attempts() >= 3, 'and still trying');
  } finally {
    await stream.close();
  }
});
