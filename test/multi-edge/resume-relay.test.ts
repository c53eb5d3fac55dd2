// A resumable stream that resumes through a relay: the connector is attached to edge B only, and
// clients reach edges A and C through HAProxy, so every stream is relayed to B. The edge carrying
// a download (A or C) is killed with SIGKILL; the client comes back through HAProxy to the other
// one, which relays the resume to B, and the download completes intact (docs/architecture.md
// "Resumable streams"; the direct path is test/multi-edge/resume.test.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresMissing } from '../helpers/postgres.js';
import { haproxyMissing } from '../helpers/haproxy.js';
import { edgeConnector, startMultiEdgeChain, type ChainEdge, type MultiEdgeChain } from '../helpers/multi-edge.js';
import { download } from '../helpers/transfer.js';
import type { Connector } from '../../src/connector/connector.js';
import type { LocalListener } from '../../src/core/local-listener.js';

const skip = postgresMissing ?? haproxyMissing;
if (skip) console.log(`# relay resume suite skipped: ${skip}`);

/** 1 GiB, as the issue asks (58 s after the kill at load average 12 on 2 cores); AIRLOCK_TEST_RESUME_MB sets another size. */
const SIZE = Number(process.env.AIRLOCK_TEST_RESUME_MB ?? 1024) * 1024 * 1024;

type Edge = ChainEdge;
let chain: MultiEdgeChain;
let edges: Edge[];
let connector: Connector;
let listener: LocalListener;
let localPort: number;

const allowsOf = (edge: Edge) =>
  chain.audit(edge).filter((line) => line.event === 'access' && line.decision === 'allow');

before(async () => {
  if (skip) return;
  // The balancer knows A and C; B, which holds the connector, is reached only by relay.
  chain = await startMultiEdgeChain({ hostname: 'relay-resume.airlock.test', count: 3, balanced: [0, 2] });
  edges = chain.edges;
  connector = edgeConnector(chain.pki, {
    ports: [edges[1]!.port],
    hostname: chain.app.hostname,
    service: chain.app.service,
    connections: 2,
    backoff: { baseMs: 100, maxMs: 1_000 },
  });
  await connector.waitConnected(2);
  // The edges learn where the connector is from PostgreSQL's tunnel directory (two heartbeats).
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  ({ listener, port: localPort } = await chain.listen());
});

after(async () => {
  if (skip) return;
  await listener?.stop();
  await connector?.stop(200);
  await chain?.stop();
});

test(
  'kill -9 of the edge relaying a download: the client resumes through the other edge, which relays the resume to the connector’s edge; sha256 equal at both ends',
  { skip, timeout: 170_000 },
  async (t) => {
    const [edgeA, , edgeC] = edges;
    const counts = [edgeA!, edgeC!].map((edge) => allowsOf(edge).length);
    let progress = 0;
    const transfer = download(localPort, SIZE, { timeoutMs: 150_000, onProgress: (bytes) => (progress = bytes) });
    let victim: Edge | undefined;
    for (let attempt = 0; attempt < 100 && !victim; attempt++) {
      victim = [edgeA!, edgeC!].find((edge, index) => allowsOf(edge).length > counts[index]!);
      if (!victim) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(victim, 'edge A or C audited the stream');
    const survivor = victim === edgeA ? edgeC! : edgeA!;
    while (progress < 16 * 1024 * 1024) await new Promise((resolve) => setTimeout(resolve, 20));
    const atKill = progress;
    victim.process.child.kill('SIGKILL');
    const killedAt = Date.now();
    let resumedAfterMs = -1;
    const watch = setInterval(() => {
      if (resumedAfterMs < 0 && progress > atKill + 1024 * 1024) resumedAfterMs = Date.now() - killedAt;
    }, 5);
    const startedAt = Date.now();
    const result = await transfer;
    clearInterval(watch);
    const sent = chain.origin.records.find((record) => record.kind === 'send' && record.bytes === SIZE);
    t.diagnostic(
      `${(SIZE / 2 ** 20).toFixed(0)} MiB through a relay; edge ${victim.name} killed at ${(atKill / 1e6).toFixed(1)} MB; bytes flowing again ${resumedAfterMs} ms later, through edge ${survivor.name}; done ${((Date.now() - startedAt) / 1000).toFixed(1)} s after the kill; ended: ${result.ended}`,
    );
    assert.equal(result.complete, true, `the download completed (${result.bytes} of ${SIZE} bytes, ${result.ended})`);
    assert.equal(result.intact, true, 'every byte matched the pattern at its offset');
    assert.ok(sent, 'the origin finished sending');
    assert.equal(result.sha256, sent.sha256, 'sha256 equal at both ends');
    const idOf = (edge: Edge) => /"edgeId":"([^"]+)"[^\n]*"msg":"edge listening"/.exec(edge.process.output())?.[1];
    const resumed = chain.audit(edges[1]!).find((line) => line.event === 'stream-resume' && line.outcome === 'resumed');
    assert.ok(resumed, 'edge B, which holds the connector, audited the resume it was relayed');
    t.diagnostic(`stream-resume at B: ${JSON.stringify(resumed)}`);
    assert.equal(resumed.edgeBefore, idOf(victim), 'edgeBefore: the killed edge the client was on');
    assert.equal(resumed.edgeAfter, idOf(survivor), 'edgeAfter: the edge the client came back through');
    assert.equal(resumed.connectorEdge, idOf(edges[1]!), 'connectorEdge: B, which the stream was relayed to');
  },
);
