// `npm run bench` (last part), or alone: `node --import tsx bench/multi-edge.ts`. Several edges on
// one PostgreSQL, as separate processes: a stream relayed through a second edge against the same
// stream direct (added latency p50/p99, throughput ratio), and connect time through HAProxy in
// front of three edges against one edge direct. Figures are printed, never asserted; skipped,
// with the reason, where PostgreSQL or HAProxy is not installed.
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writeDevCertificates } from '../src/cli/demo/dev-certs.js';
import { encodeTunnelToken, hashSecret, newSecret } from '../src/shared/secrets.js';
import { haproxyMissing, startHaproxy } from '../test/helpers/haproxy.js';
import { postgresMissing, startPostgres } from '../test/helpers/postgres.js';
import { ROOT, freePort, startAirlock, startOrigin, stopAll, waitForLog, waitForPort, writeText } from './processes.js';
import { connectTimes, nodeThroughput, pingPong, summarise, type Direction } from './workloads.js';

const PING_ROUNDS = 1000;
const CONNECT_SAMPLES = 150;
const THROUGHPUT_SECONDS = 4;
const BUDGET_MS = 120_000;

async function main(): Promise<void> {
  const skip = postgresMissing ?? haproxyMissing;
  if (skip) return console.log(`\nMulti-edge rows skipped: ${skip}`);
  const watchdog = setTimeout(() => {
    console.error('multi-edge bench: over its budget; stopping');
    void stopAll().finally(() => process.exit(1));
  }, BUDGET_MS);
  watchdog.unref();
  const runDir = join(ROOT, 'bench/results', `multi-edge-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const logDir = join(runDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const certs = await writeDevCertificates(join(runDir, 'certs'), { dns: ['localhost'], ips: ['127.0.0.1'] });
  const db = await startPostgres();
  try {
    const origin = await startOrigin(logDir);
    const services = { echo: origin.echo, source: origin.source, fastsink: origin.fastSink };
    const token = { id: 'bench-bot', secret: newSecret() };
    // One tunnel per service, whose connector reaches edge B only: through edge A, every stream is relayed.
    const tunnels = Object.fromEntries(
      Object.keys(services).map((name) => [name, { id: `bench-${name}`, secret: newSecret() }]),
    );
    const edgePorts = [await freePort(), await freePort(), await freePort()];
    const lb = await startHaproxy(edgePorts);
    const edgeYaml = (port: number, index: number) =>
      writeText(
        join(runDir, `edge-${index}.yaml`),
        `listen: 127.0.0.1:${port}
publicUrl: https://127.0.0.1:${lb.port}
tls: { cert: ${certs.cert}, key: ${certs.key} }
stateDir: ${join(runDir, `edge-${index}-state`)}
state: { postgres: { url: "${db.url}" } }
relay: { listen: 127.0.0.1:0, ca: ${certs.ca} }
apps:
${Object.entries(services)
  .map(
    ([name, servicePort]) =>
      `  - { hostname: ${name}.bench.test, aud: ${randomBytes(16).toString('hex')}, tunnel: ${tunnels[name]!.id}, service: "tcp://127.0.0.1:${servicePort}", policy: { include: [{ serviceToken: ${token.id} }] } }`,
  )
  .join('\n')}
tunnels:
${Object.values(tunnels)
  .map((tunnel) => `  - { id: ${tunnel.id}, secretHash: "${hashSecret(tunnel.secret)}" }`)
  .join('\n')}
serviceTokens:
  - { id: ${token.id}, secretHash: "${hashSecret(token.secret)}" }
`,
      );
    // Relay listeners on port 0 announce their bound address; the edges found each other in PostgreSQL.
    const edges = edgePorts.map((port, index) =>
      startAirlock(
        `edge-${index + 1}`,
        ['edge', '--config', edgeYaml(port, index + 1), '--drain-timeout', '1s'],
        logDir,
      ),
    );
    await Promise.all(edges.map((edge, index) => waitForPort(edgePorts[index]!, `edge ${index + 1}`, edge)));
    await lb.waitAllUp();
    const edgeB = `https://127.0.0.1:${edgePorts[1]}`;
    for (const [name, servicePort] of Object.entries(services)) {
      const connector = startAirlock(
        `connector-${name}`,
        [
          'tunnel',
          'run',
          '--edge',
          edgeB,
          '--token',
          encodeTunnelToken(tunnels[name]!.id, tunnels[name]!.secret),
          '--url',
          `tcp://127.0.0.1:${servicePort}`,
          '--ca',
          certs.ca,
          '--drain-timeout',
          '1s',
        ],
        logDir,
      );
      await waitForLog(connector, logDir, /connected to edge/);
    }
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // two directory heartbeats
    const tokenEnv = { AIRLOCK_SERVICE_TOKEN_ID: token.id, AIRLOCK_SERVICE_TOKEN_SECRET: token.secret };
    const client = async (name: string, service: string, edgePort: number) => {
      const port = await freePort();
      const proc = startAirlock(
        `client-${name}`,
        [
          'access',
          'tcp',
          '--hostname',
          `${service}.bench.test`,
          '--url',
          `127.0.0.1:${port}`,
          '--edge',
          `https://127.0.0.1:${edgePort}`,
          '--ca',
          certs.ca,
        ],
        logDir,
        tokenEnv,
      );
      await waitForLog(proc, logDir, /^Listening on /m);
      return port;
    };
    const direct = {
      echo: await client('echo-direct', 'echo', edgePorts[1]!),
      source: await client('source-direct', 'source', edgePorts[1]!),
      fastsink: await client('fastsink-direct', 'fastsink', edgePorts[1]!),
    };
    const relayed = {
      echo: await client('echo-relayed', 'echo', edgePorts[0]!),
      source: await client('source-relayed', 'source', edgePorts[0]!),
      fastsink: await client('fastsink-relayed', 'fastsink', edgePorts[0]!),
    };
    const viaBalancer = await client('echo-haproxy', 'echo', lb.port);

    console.log('\n6. Several edges (PostgreSQL, 3 edge processes, HAProxy in TCP mode)');
    const latency = {
      direct: summarise(await pingPong(direct.echo, PING_ROUNDS)),
      relayed: summarise(await pingPong(relayed.echo, PING_ROUNDS)),
    };
    console.log(
      `   round trip, 1 KiB, ${PING_ROUNDS} rounds (µs)   direct p50 ${latency.direct.p50} p99 ${latency.direct.p99}   relayed p50 ${latency.relayed.p50} p99 ${latency.relayed.p99}`,
    );
    console.log(
      `   added by the relay through a second edge:  p50 +${latency.relayed.p50 - latency.direct.p50} µs, p99 +${latency.relayed.p99 - latency.direct.p99} µs`,
    );
    const throughput: Record<string, Record<Direction, number>> = {
      direct: { up: 0, down: 0 },
      relayed: { up: 0, down: 0 },
    };
    for (const [path, ports] of [
      ['direct', direct],
      ['relayed', relayed],
    ] as const) {
      throughput[path]!.up = await nodeThroughput(ports.fastsink, 'up', THROUGHPUT_SECONDS);
      throughput[path]!.down = await nodeThroughput(ports.source, 'down', THROUGHPUT_SECONDS);
    }
    const ratio = (direction: Direction) => (throughput.relayed![direction] / throughput.direct![direction]).toFixed(2);
    console.log(
      `   throughput, one stream, ${THROUGHPUT_SECONDS} s (Gbit/s)   direct up ${throughput.direct!.up.toFixed(2)} down ${throughput.direct!.down.toFixed(2)}   relayed up ${throughput.relayed!.up.toFixed(2)} (${ratio('up')}×) down ${throughput.relayed!.down.toFixed(2)} (${ratio('down')}×)`,
    );
    const connect = {
      direct: summarise(await connectTimes(direct.echo, CONNECT_SAMPLES)),
      haproxy: summarise(await connectTimes(viaBalancer, CONNECT_SAMPLES)),
    };
    const ms = (us: number) => (us / 1000).toFixed(2);
    console.log(
      `   connect + first byte, ${CONNECT_SAMPLES} samples (ms)   one edge direct p50 ${ms(connect.direct.p50)} p99 ${ms(connect.direct.p99)}   through HAProxy, 3 edges p50 ${ms(connect.haproxy.p50)} p99 ${ms(connect.haproxy.p99)} (2 of 3 relayed: the connector is on one edge)`,
    );
    writeText(
      join(runDir, 'results.json'),
      `${JSON.stringify({ latencyUs: latency, throughputGbit: throughput, connectUs: connect }, null, 2)}\n`,
    );
    await lb.stop();
  } finally {
    await stopAll();
    db.destroy();
    clearTimeout(watchdog);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`multi-edge bench failed: ${(error as Error).stack ?? error}`);
    void stopAll().finally(() => process.exit(1));
  },
);
