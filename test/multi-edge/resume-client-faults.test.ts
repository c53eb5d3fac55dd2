// Resumable streams (on by default) against faults on the client's side, through three edge
// processes behind HAProxy sharing PostgreSQL: the client's path to the edges black-holed for
// 20 s, and the `airlock access tcp` process stopped for 30 s (SIGSTOP, then SIGCONT) while its
// connections to the edge are cut. An echo every 100 ms runs across each: none lost, none
// duplicated, all in order (docs/architecture.md "Resumable streams").
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, SERVICE_TOKEN } from '../helpers/chain.js';
import { airlock } from '../helpers/processes.js';
import { postgresMissing } from '../helpers/postgres.js';
import { haproxyMissing } from '../helpers/haproxy.js';
import { edgeConnector, startMultiEdgeChain, type MultiEdgeChain } from '../helpers/multi-edge.js';
import { startPausableProxy, type PausableProxy } from '../helpers/pausable-proxy.js';
import { echoSession } from '../helpers/echo-session.js';
import type { Connector } from '../../src/connector/connector.js';
import { LocalListener } from '../../src/core/local-listener.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';
import { resourceStatus } from '../../src/app/service/resource-state.js';

const skip = postgresMissing ?? haproxyMissing;
if (skip) console.log(`# client-faults resume suite skipped: ${skip}`);

const APP = 'faults.resume.airlock.test';

let chain: MultiEdgeChain;
let connector: Connector;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const resumes = () => chain.audit().filter((line) => line.event === 'stream-resume');

before(async () => {
  if (skip) return;
  chain = await startMultiEdgeChain({ hostname: APP, count: 3 });
  connector = edgeConnector(chain.pki, {
    ports: chain.edges.map((edge) => edge.port),
    hostname: APP,
    service: chain.app.service,
    connections: 3,
    backoff: { baseMs: 100, maxMs: 1_000 },
  });
  await connector.waitConnected(3);
});

after(async () => {
  if (skip) return;
  await connector?.stop(200);
  await chain?.stop();
});

test(
  "the client's path to the edges black-holed for 20 s under an echo every 100 ms: the session resumes, no echo lost or duplicated",
  { skip },
  async (t) => {
    const path: PausableProxy = await startPausableProxy(chain.lb.port);
    const listener = new LocalListener({
      target: resolveEdgeTarget({ hostname: APP, edge: `https://127.0.0.1:${path.port}`, caFile: chain.pki.ca }),
      local: { host: '127.0.0.1', port: 0 },
      credential: async () => ({ kind: 'service-token', ...SERVICE_TOKEN }),
    });
    const events: string[] = [];
    listener.on('event', (event) => events.push(event.type));
    const port = Number((await listener.start()).split(':').pop());
    const echo = echoSession(port);
    try {
      await sleep(1_000);
      assert.ok(echo.echoes > 0, 'echoes flow before the cut');
      const resumesBefore = resumes().length;
      path.pause();
      const cutAt = Date.now();
      let detectedAfterMs = -1;
      let rowState = '';
      while (Date.now() - cutAt < 20_000) {
        const status = listener.status();
        if (detectedAfterMs < 0 && status.reconnectingConnections > 0) {
          detectedAfterMs = Date.now() - cutAt;
          // What the tray row shows for this listener now (the main process's state machine).
          rowState = resourceStatus({
            id: 'r',
            edge: 'https://edge',
            listener: status,
            signingIn: false,
            check: { ok: true, at: new Date().toISOString() },
          }).state;
        }
        await sleep(50);
      }
      const sentDuringCut = echo.sent;
      path.unpause();
      const unpausedAt = Date.now();
      let resumedAfterMs = -1;
      for (let waited = 0; waited < 30_000 && listener.status().reconnectingConnections > 0; waited += 50)
        await sleep(50);
      await sleep(2_000);
      const flowing = echo.firstReplyAfter(unpausedAt);
      if (flowing) resumedAfterMs = flowing - unpausedAt;
      const { sent, echoes } = await echo.finish();
      t.diagnostic(
        `black hole 20 s: tunnel found dead after ${detectedAfterMs} ms (row: ${rowState}); bytes flowing ${resumedAfterMs} ms after unpause; ` +
          `${sent} echoes sent (${sentDuringCut} by the unpause), ${echoes} came back; stream-resume records: ${resumes().length - resumesBefore}; events: ${events.filter((type) => type.startsWith('connection-re')).join(',')}`,
      );
      assert.ok(detectedAfterMs >= 0, 'the client noticed the black-holed tunnel within 20 s (ping)');
      assert.equal(rowState, 'reconnecting', 'the resource row says Reconnecting… meanwhile');
      assert.ok(events.includes('connection-resumed'), 'the stream was resumed');
      assert.equal(echoes, sent, `0 echoes lost (${sent - echoes} missing)`);
    } finally {
      echo.stopSending();
      await listener.stop();
      await path.close();
    }
  },
);

test(
  '`airlock access tcp` stopped for 30 s (SIGSTOP) while its connections to the edge are cut, then SIGCONT, under an echo every 100 ms: the session resumes, no echo lost or duplicated',
  { skip },
  async (t) => {
    // The path is cut while the client sleeps (as a NAT forgets a laptop that slept): it learns
    // on waking that its tunnel is gone, and must resume; an intact tunnel would prove nothing.
    const path = await startPausableProxy(chain.lb.port);
    const localPort = await freePort();
    const client = airlock(
      [
        'access',
        'tcp',
        '--hostname',
        APP,
        '--url',
        `127.0.0.1:${localPort}`,
        '--edge',
        `https://127.0.0.1:${path.port}`,
        '--ca',
        chain.pki.ca,
      ],
      { AIRLOCK_SERVICE_TOKEN_ID: SERVICE_TOKEN.id, AIRLOCK_SERVICE_TOKEN_SECRET: SERVICE_TOKEN.secret },
    );
    let stopped = false;
    try {
      await client.waitFor(/Listening on/, 30_000);
      const echo = echoSession(localPort);
      try {
        await sleep(1_000);
        assert.ok(echo.echoes > 0, 'echoes flow before the stop');
        const resumesBefore = resumes().length;
        client.child.kill('SIGSTOP');
        stopped = true;
        await sleep(1_000);
        const cut = path.cut();
        await sleep(29_000);
        const sentWhileStopped = echo.sent;
        client.child.kill('SIGCONT');
        stopped = false;
        const continuedAt = Date.now();
        await client.waitFor(/connection \d+ resumed/, 30_000);
        const resumedAfterMs = Date.now() - continuedAt;
        await sleep(2_000);
        const flowing = echo.firstReplyAfter(continuedAt);
        const { sent, echoes } = await echo.finish();
        t.diagnostic(
          `SIGSTOP 30 s (pid ${client.child.pid}), ${cut} sockets cut 1 s in: resumed ${resumedAfterMs} ms after SIGCONT, bytes flowing ${flowing ? flowing - continuedAt : -1} ms after; ` +
            `${sent} echoes sent (${sentWhileStopped} by SIGCONT), ${echoes} came back; stream-resume records: ${resumes().length - resumesBefore}`,
        );
        assert.ok(flowing !== undefined, 'echoes flow again after SIGCONT');
        assert.equal(echoes, sent, `0 echoes lost (${sent - echoes} missing)`);
        assert.ok(resumes().length > resumesBefore, 'an edge audited the resume');
        assert.doesNotMatch(client.output(), /failed: \[/, 'no connection failed');
      } finally {
        echo.stopSending();
      }
    } finally {
      if (stopped) client.child.kill('SIGCONT');
      await client.stop();
      await path.close();
    }
  },
);

test(
  '`airlock access tcp --no-resume` asks for none: a cut path ends the connection at once, it is not resumed',
  { skip },
  async (t) => {
    const path = await startPausableProxy(chain.lb.port);
    const localPort = await freePort();
    const client = airlock(
      [
        'access',
        'tcp',
        '--no-resume',
        '--hostname',
        APP,
        '--url',
        `127.0.0.1:${localPort}`,
        '--edge',
        `https://127.0.0.1:${path.port}`,
        '--ca',
        chain.pki.ca,
      ],
      { AIRLOCK_SERVICE_TOKEN_ID: SERVICE_TOKEN.id, AIRLOCK_SERVICE_TOKEN_SECRET: SERVICE_TOKEN.secret },
    );
    try {
      await client.waitFor(/Listening on/, 30_000);
      const echo = echoSession(localPort);
      try {
        await sleep(1_000);
        assert.ok(echo.echoes > 0, 'echoes flow before the cut');
        const resumesBefore = resumes().length;
        path.cut();
        const cutAt = Date.now();
        await client.waitFor(/connection \d+ (failed|closed)/, 15_000);
        const endedAfterMs = Date.now() - cutAt;
        echo.stopSending();
        t.diagnostic(
          `--no-resume: the connection ended ${endedAfterMs} ms after the cut; ${echo.sent} sent, ${echo.echoes} back`,
        );
        assert.doesNotMatch(client.output(), /reconnecting|resumed/, 'no resume was tried');
        assert.equal(resumes().length, resumesBefore, 'no edge saw a resume');
      } finally {
        echo.stopSending();
      }
    } finally {
      await client.stop();
      await path.close();
    }
  },
);
