// Resumable streams through three edge processes behind HAProxy, sharing PostgreSQL: the edge
// carrying a download is killed with SIGKILL and the download completes intact (sha256 at both
// ends); an echo every 100 ms crosses a rolling SIGTERM restart of all three edges without losing
// one (docs/architecture.md "Resumable streams").
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { freePort, SERVICE_TOKEN, testPki, type TestPki } from '../helpers/chain.js';
import { postgresMissing, startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { haproxyMissing, startHaproxy, type RunningHaproxy } from '../helpers/haproxy.js';
import { multiEdgeYaml, writeConfig } from '../helpers/multi-edge.js';
import { airlock, hasCommand, run, type Running } from '../helpers/processes.js';
import { startSshd } from '../helpers/origins.js';
import { encodeTunnelToken } from '../../src/shared/secrets.js';
import { Connector as ConnectorClass } from '../../src/connector/connector.js';
import { TUNNEL } from '../helpers/chain.js';
import { download, startOrigin, type Origin } from '../helpers/transfer.js';
import { echoSession } from '../helpers/echo-session.js';
import type { Connector } from '../../src/connector/connector.js';
import { LocalListener } from '../../src/core/local-listener.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';

const skip = postgresMissing ?? haproxyMissing;
if (skip) console.log(`# resume suite skipped: ${skip}`);

const APP = 'resume.airlock.test';
const SSH_APP = 'ssh.resume.airlock.test';
const SIZE = 128 * 1024 * 1024;

let pki: TestPki;
let db: RunningPostgres;
let origin: Origin;
let lb: RunningHaproxy;
interface Edge {
  process: Running;
  port: number;
  config: string;
  audit: string;
}
const edges: Edge[] = [];
let connector: Connector;
let listener: LocalListener;
let localPort: number;
let sshd: Awaited<ReturnType<typeof startSshd>> | undefined;
let sshListener: LocalListener | undefined;
let sshPort = 0;

function startEdgeProcess(edge: Omit<Edge, 'process'>): Running {
  return airlock(['edge', '--config', edge.config, '--drain-timeout', '5s']);
}

function auditOf(edge: Edge): Record<string, unknown>[] {
  if (!existsSync(edge.audit)) return [];
  return readFileSync(edge.audit, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const allAudit = () => edges.flatMap(auditOf);

before(async () => {
  if (skip) return;
  pki = await testPki();
  db = await startPostgres();
  origin = await startOrigin();
  const ports = [await freePort(), await freePort(), await freePort()];
  lb = await startHaproxy(ports);
  const app = { hostname: APP, aud: randomBytes(16).toString('hex'), service: `tcp://127.0.0.1:${origin.port}` };
  if (hasCommand('/usr/sbin/sshd')) sshd = await startSshd();
  const sshApp = `  - hostname: ${SSH_APP}
    aud: ${randomBytes(16).toString('hex')}
    tunnel: ${TUNNEL.id}
    service: tcp://127.0.0.1:${sshd?.port ?? 22}
    policy:
      include: [{ serviceToken: ${SERVICE_TOKEN.id} }]
`;
  for (const port of ports) {
    const yaml = multiEdgeYaml({
      pki,
      port,
      publicPort: lb.port,
      pgUrl: db.url,
      app,
      relayPort: await freePort(),
    }).replace('tunnels:\n', `${sshApp}tunnels:\n`);
    const config = writeConfig(pki, yaml);
    const audit = config.replace(/edge\.yaml$/, 'audit.jsonl');
    writeFileSync(config, `${yaml}audit: { file: ${audit} }\n`);
    const edge = { port, config, audit };
    edges.push({ ...edge, process: startEdgeProcess(edge) });
  }
  await Promise.all(edges.map(({ process }) => process.waitFor(/edge listening/, 30_000)));
  await lb.waitAllUp();
  const urls = ports.map((port) => `https://127.0.0.1:${port}`);
  connector = new ConnectorClass({
    edgeUrl: urls[0]!,
    edgeUrls: urls,
    token: encodeTunnelToken(TUNNEL.id, TUNNEL.secret),
    ca: readFileSync(pki.ca),
    rules: [
      { hostname: APP, service: app.service },
      { hostname: SSH_APP, service: `tcp://127.0.0.1:${sshd?.port ?? 22}` },
      { service: 'http_status:404' },
    ],
    connections: 3,
    backoff: { baseMs: 100, maxMs: 1_000 },
  });
  connector.start();
  await connector.waitConnected(3);
  localPort = await freePort();
  listener = new LocalListener({
    target: resolveEdgeTarget({ hostname: APP, edge: `https://127.0.0.1:${lb.port}`, caFile: pki.ca }),
    local: { host: '127.0.0.1', port: localPort },
    credential: async () => ({ kind: 'service-token', ...SERVICE_TOKEN }),
  });
  listener.on('event', (event) => {
    if (event.type === 'connection-closed' && event.error)
      console.log(`# listener: ${event.error.code} ${event.error.message}`);
  });
  await listener.start();
  if (sshd) {
    sshPort = await freePort();
    sshListener = new LocalListener({
      target: resolveEdgeTarget({ hostname: SSH_APP, edge: `https://127.0.0.1:${lb.port}`, caFile: pki.ca }),
      local: { host: '127.0.0.1', port: sshPort },
      credential: async () => ({ kind: 'service-token', ...SERVICE_TOKEN }),
    });
    await sshListener.start();
  }
});

after(async () => {
  if (skip) return;
  await listener?.stop();
  await sshListener?.stop();
  await sshd?.process.stop();
  await connector?.stop(200);
  await Promise.all(edges.map(({ process }) => process.stop()));
  await lb?.stop();
  await origin?.close();
  db?.destroy();
});

const allowsOf = (edge: Edge) => auditOf(edge).filter((line) => line.event === 'access' && line.decision === 'allow');

/** The edge whose audit gains an allowed stream after `counts` (one per edge): the one carrying it. */
async function edgeCarrying(counts: number[]): Promise<Edge> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const found = edges.find((edge, index) => allowsOf(edge).length > counts[index]!);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('no edge audited the stream');
}

test(
  'kill -9 of the edge carrying a 128 MB download: the download completes, sha256 equal at both ends',
  { skip },
  async (t) => {
    const counts = edges.map((edge) => allowsOf(edge).length);
    let progress = 0;
    const transfer = download(localPort, SIZE, { timeoutMs: 240_000, onProgress: (bytes) => (progress = bytes) });
    const victim = await edgeCarrying(counts);
    while (progress < 16 * 1024 * 1024) await new Promise((resolve) => setTimeout(resolve, 20));
    const atKill = progress;
    victim.process.child.kill('SIGKILL');
    const killedAt = Date.now();
    let resumedAfterMs = -1;
    const watch = setInterval(() => {
      if (resumedAfterMs < 0 && progress > atKill + 1024 * 1024) resumedAfterMs = Date.now() - killedAt;
    }, 5);
    const result = await transfer;
    clearInterval(watch);
    const sent = origin.records.find((record) => record.kind === 'send' && record.bytes === SIZE);
    t.diagnostic(
      `${(SIZE / 1e6).toFixed(0)} MB; edge killed at ${(atKill / 1e6).toFixed(1)} MB; bytes flowing again ${resumedAfterMs} ms later; ended: ${result.ended}`,
    );
    assert.equal(result.complete, true, `the download completed (${result.bytes} of ${SIZE} bytes, ${result.ended})`);
    assert.equal(result.intact, true, 'every byte matched the pattern at its offset');
    assert.ok(sent, 'the origin finished sending');
    assert.equal(result.sha256, sent.sha256, 'sha256 equal at both ends');
    const resumed = allAudit().find((line) => line.event === 'stream-resume' && line.outcome === 'resumed');
    assert.ok(resumed, 'a stream-resume record on a surviving edge');
    assert.notEqual(resumed.edgeBefore, resumed.edgeAfter, 'it names the edge before and the edge after');
    t.diagnostic(`stream-resume: ${JSON.stringify(resumed)}`);
    // The killed edge comes back for the next test.
    victim.process = startEdgeProcess(victim);
    await victim.process.waitFor(/edge listening/, 30_000);
    await lb.waitAllUp();
    await connector.waitConnected(3);
  },
);

test('kill -9 of the edge carrying an interactive ssh session: it answers its next command', { skip }, async (t) => {
  if (!sshd) return t.skip('sshd is not installed (Debian package openssh-server)');
  const counts = edges.map((edge) => allowsOf(edge).length);
  const ssh = run(
    'ssh',
    [
      '-T',
      '-p',
      String(sshPort),
      '-i',
      sshd.keyFile,
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'BatchMode=yes',
      '-o',
      'LogLevel=ERROR',
      `${sshd.user}@127.0.0.1`,
      'sh',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  ssh.child.stdin!.write('echo before-the-kill\n');
  await ssh.waitFor(/before-the-kill/, 30_000);
  const victim = await edgeCarrying(counts);
  victim.process.child.kill('SIGKILL');
  const killedAt = Date.now();
  ssh.child.stdin!.write('echo after-the-kill $((6*7))\n');
  await ssh.waitFor(/after-the-kill 42/, 30_000);
  t.diagnostic(`the ssh session answered ${Date.now() - killedAt} ms after its edge was killed`);
  ssh.child.stdin!.end('exit\n');
  await ssh.stop();
  victim.process = startEdgeProcess(victim);
  await victim.process.waitFor(/edge listening/, 30_000);
  await lb.waitAllUp();
  await connector.waitConnected(3);
});

test('an echo every 100 ms across a rolling SIGTERM restart of all three edges loses none', { skip }, async (t) => {
  const echo = echoSession(localPort);
  try {
    for (const edge of edges) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await edge.process.stop('SIGTERM');
      edge.process = startEdgeProcess(edge);
      await edge.process.waitFor(/edge listening/, 30_000);
      await lb.waitAllUp();
      await connector.waitConnected(3);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  } finally {
    echo.stopSending();
  }
  const { sent, echoes } = await echo.finish();
  t.diagnostic(
    `${sent} echoes sent across 3 restarts, ${echoes} came back; resumes: ${allAudit().filter((line) => line.event === 'stream-resume').length}`,
  );
  assert.equal(echoes, sent, `0 echoes lost (${sent - echoes} missing)`);
});
