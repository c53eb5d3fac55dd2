// `npm run bench` (last part), or alone: `node --import tsx bench/resume.ts`. Resumable streams
// (docs/architecture.md "Resumable streams") through three edge processes behind HAProxy on one
// PostgreSQL: (1) the framing's throughput cost, one stream with resumption against the same
// stream without, alternated in the same run; (2) time from a `kill -9` of the edge carrying a
// download to bytes flowing again, over KILLS kills. Figures are printed, never asserted; skipped,
// with the reason, where PostgreSQL or HAProxy is not installed. The connector and the client
// listeners run in this process (both paths alike); the edges are separate processes.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connector } from '../src/connector/connector.js';
import { resolveEdgeTarget } from '../src/core/edge-target.js';
import { LocalListener } from '../src/core/local-listener.js';
import { encodeTunnelToken } from '../src/shared/secrets.js';
import { SERVICE_TOKEN, TUNNEL, testPki } from '../test/helpers/chain.js';
import { haproxyMissing, startHaproxy } from '../test/helpers/haproxy.js';
import { multiEdgeYaml } from '../test/helpers/multi-edge.js';
import { postgresMissing, startPostgres } from '../test/helpers/postgres.js';
import { ROOT, freePort, startAirlock, startOrigin, stopAll, waitForLog, type Proc } from './processes.js';
import { nodeThroughput, summarise, type Direction } from './workloads.js';

const KILLS = Number(process.env.BENCH_RESUME_KILLS ?? 20);
const ROUNDS = 5;
const THROUGHPUT_SECONDS = 2;
const BUDGET_MS = 360_000;
/** Bytes that must arrive after a kill for the stream to count as flowing again. */
const FLOWING_BYTES = 256 * 1024;

interface Edge {
  name: string;
  port: number;
  config: string;
  audit: string;
  proc: Proc;
}

async function main(): Promise<void> {
  const skip = postgresMissing ?? haproxyMissing;
  if (skip) return console.log(`\nResume rows skipped: ${skip}`);
  const watchdog = setTimeout(() => {
    console.error('resume bench: over its budget; stopping');
    void stopAll().finally(() => process.exit(1));
  }, BUDGET_MS);
  watchdog.unref();
  const runDir = join(ROOT, 'bench/results', `resume-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const logDir = join(runDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const pki = await testPki();
  const db = await startPostgres();
  const connectors: Connector[] = [];
  const listeners: LocalListener[] = [];
  try {
    const origin = await startOrigin(logDir);
    const ports = [await freePort(), await freePort(), await freePort()];
    const lb = await startHaproxy(ports);
    const sinkApp = `  - { hostname: sink.bench.airlock.test, aud: ${randomBytes(16).toString('hex')}, tunnel: ${TUNNEL.id}, service: "tcp://127.0.0.1:${origin.fastSink}", policy: { include: [{ serviceToken: ${SERVICE_TOKEN.id} }] } }\n`;
    const edges: Edge[] = [];
    for (const [index, port] of ports.entries()) {
      const yaml = multiEdgeYaml({
        pki,
        port,
        publicPort: lb.port,
        pgUrl: db.url,
        app: {
          hostname: 'source.bench.airlock.test',
          aud: randomBytes(16).toString('hex'),
          service: `tcp://127.0.0.1:${origin.source}`,
        },
        relayPort: await freePort(),
      }).replace('tunnels:\n', `${sinkApp}tunnels:\n`);
      const config = join(runDir, `edge-${index + 1}.yaml`);
      const audit = join(runDir, `edge-${index + 1}-audit.jsonl`);
      writeFileSync(config, `${yaml}audit: { file: ${audit} }\n`);
      edges.push({ name: `edge-${index + 1}`, port, config, audit, proc: undefined as unknown as Proc });
    }
    const startEdge = async (edge: Edge, generation = 0) => {
      edge.proc = startAirlock(
        generation ? `${edge.name}-${generation}` : edge.name,
        ['edge', '--config', edge.config, '--drain-timeout', '1s'],
        logDir,
      );
      await waitForLog(edge.proc, logDir, /edge listening/, 30_000);
    };
    await Promise.all(edges.map((edge) => startEdge(edge)));
    await lb.waitAllUp();
    const urls = ports.map((port) => `https://127.0.0.1:${port}`);
    const connector = new Connector({
      edgeUrl: urls[0]!,
      edgeUrls: urls,
      token: encodeTunnelToken(TUNNEL.id, TUNNEL.secret),
      ca: readFileSync(pki.ca),
      rules: [
        { hostname: 'source.bench.airlock.test', service: `tcp://127.0.0.1:${origin.source}` },
        { hostname: 'sink.bench.airlock.test', service: `tcp://127.0.0.1:${origin.fastSink}` },
        { service: 'http_status:404' },
      ],
      connections: 3,
      backoff: { baseMs: 100, maxMs: 1_000 },
    });
    connectors.push(connector);
    connector.start();
    await connector.waitConnected(3);

    const listen = async (hostname: string, resume: boolean) => {
      const port = await freePort();
      const listener = new LocalListener({
        target: resolveEdgeTarget({ hostname, edge: `https://127.0.0.1:${lb.port}`, caFile: pki.ca }),
        local: { host: '127.0.0.1', port },
        credential: async () => ({ kind: 'service-token', ...SERVICE_TOKEN }),
        resume,
      });
      await listener.start();
      listeners.push(listener);
      return port;
    };
    const paths = {
      plain: {
        down: await listen('source.bench.airlock.test', false),
        up: await listen('sink.bench.airlock.test', false),
      },
      resumable: {
        down: await listen('source.bench.airlock.test', true),
        up: await listen('sink.bench.airlock.test', true),
      },
    };

    console.log(
      '\n7. Resumable streams (3 edge processes behind HAProxy, PostgreSQL; client and connector in one process)',
    );
    const samples: Record<'plain' | 'resumable', Record<Direction, number[]>> = {
      plain: { up: [], down: [] },
      resumable: { up: [], down: [] },
    };
    // Alternated, so drift in the machine's load falls on both paths alike.
    for (let round = 0; round < ROUNDS; round++)
      for (const direction of ['down', 'up'] as const)
        for (const path of ['plain', 'resumable'] as const)
          samples[path][direction].push(await nodeThroughput(paths[path][direction], direction, THROUGHPUT_SECONDS));
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const cost = (direction: Direction) =>
      ((1 - median(samples.resumable[direction]) / median(samples.plain[direction])) * 100).toFixed(1);
    console.log(
      `   throughput, one stream, median of ${ROUNDS} × ${THROUGHPUT_SECONDS} s (Gbit/s)   without resumption down ${median(samples.plain.down).toFixed(2)} up ${median(samples.plain.up).toFixed(2)}   with down ${median(samples.resumable.down).toFixed(2)} up ${median(samples.resumable.up).toFixed(2)}`,
    );
    console.log(`   framing cost (goal ≤ 3 %): down ${cost('down')} %, up ${cost('up')} %`);

    const gaps: number[] = [];
    const failures: string[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const counts = edges.map((edge) => allows(edge));
      const stream = await flowingDownload(paths.resumable.down);
      try {
        const victim = await edgeCarrying(edges, counts);
        const atKill = stream.bytes;
        const killedAt = performance.now();
        victim.proc.child.kill('SIGKILL');
        const flowing = await stream.waitFor(atKill + FLOWING_BYTES, 20_000);
        if (flowing) gaps.push((performance.now() - killedAt) * 1000);
        else failures.push(`kill ${kill + 1}: no bytes 20 s after the kill (${stream.ended || 'still open'})`);
        stream.socket.destroy();
        await startEdge(victim, kill + 1);
        await lb.waitAllUp();
        await connector.waitConnected(3, 30_000);
      } finally {
        stream.socket.destroy();
      }
    }
    const kills = summarise(gaps);
    const ms = (us: number) => (us / 1000).toFixed(0);
    console.log(
      `   kill -9 of the edge carrying a download → bytes flowing again (ms), ${gaps.length} of ${KILLS} kills   p50 ${ms(kills.p50)} p99 ${ms(kills.p99)} max ${ms(kills.max)}`,
    );
    for (const failure of failures) console.log(`   ${failure}`);
    writeFileSync(
      join(runDir, 'results.json'),
      `${JSON.stringify({ throughputGbit: samples, killToFlowingUs: gaps, failures }, null, 2)}\n`,
    );
    await lb.stop();
  } finally {
    await Promise.all(listeners.map((listener) => listener.stop()));
    await Promise.all(connectors.map((connector) => connector.stop(200)));
    await stopAll();
    db.destroy();
    clearTimeout(watchdog);
  }
}

/** Allowed streams in an edge's audit so far. */
function allows(edge: Edge): number {
  if (!existsSync(edge.audit)) return 0;
  return readFileSync(edge.audit, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"event":"access"') && line.includes('"decision":"allow"')).length;
}

/** The edge whose audit gained an allowed stream since `counts`: the one carrying the new stream. */
async function edgeCarrying(edges: Edge[], counts: number[]): Promise<Edge> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const found = edges.find((edge, index) => allows(edge) > counts[index]!);
    if (found) return found;
    await sleep(50);
  }
  throw new Error('no edge audited the stream');
}

/** A download from the origin's source, already flowing (1 MiB in). */
async function flowingDownload(port: number) {
  const socket = net.connect({ port, host: '127.0.0.1' });
  const stream = {
    socket,
    bytes: 0,
    ended: '',
    /** Whether `bytes` arrived within `timeoutMs`. */
    async waitFor(bytes: number, timeoutMs: number): Promise<boolean> {
      const deadline = performance.now() + timeoutMs;
      while (stream.bytes < bytes && !stream.ended && performance.now() < deadline) await sleep(2);
      return stream.bytes >= bytes;
    },
  };
  socket.on('data', (chunk: Buffer) => (stream.bytes += chunk.length));
  socket.on('error', (error: NodeJS.ErrnoException) => (stream.ended = `error ${error.code ?? error.message}`));
  socket.on('end', () => (stream.ended ||= 'ended'));
  if (!(await stream.waitFor(1024 * 1024, 15_000))) throw new Error(`the download did not start (${stream.ended})`);
  return stream;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`resume bench failed: ${(error as Error).stack ?? error}`);
    void stopAll().finally(() => process.exit(1));
  },
);
