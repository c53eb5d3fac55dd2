// `npm run bench`: starts an origin, an edge, a connector and clients on 127.0.0.1 as separate
// processes, measures throughput, latency, connect time, 1,000 connections and a slow reader,
// prints a table and writes JSON under bench/results/. Figures are printed, never asserted.
//
// BENCH_ONLY=throughput,latency,connect,scale,slow  runs a subset.
// BENCH_CPU_PROF=1  writes .cpuprofile files of edge, connector and client into the run's directory.
// BENCH_NODE_OPTIONS="--max-semi-space-size=2"  extra node flags for the Airlock processes.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeDevCertificates } from '../src/cli/demo/dev-certs.js';
import { encodeTunnelToken, hashSecret, newSecret } from '../src/shared/secrets.js';
import {
  ROOT,
  cpuSeconds,
  freePort,
  mb,
  rssBytes,
  sampleRss,
  start,
  startAirlock,
  startOrigin,
  stop,
  stopAll,
  waitForConnectors,
  waitForLog,
  waitForPort,
  writeText,
  type Proc,
} from './processes.js';
import {
  connectTimes,
  echoRound,
  hasCommand,
  iperf3,
  nodeThroughput,
  openMany,
  pingPong,
  slowReader,
  summarise,
  type Direction,
} from './workloads.js';

const TOTAL_BUDGET_MS = 285_000;
const THROUGHPUT_SECONDS = 5;
const PING_ROUNDS = 2000;
const CONNECT_SAMPLES = 300;
const SCALE_CONNECTIONS = 1000;
const SLOW_SECONDS = 10;
const only = new Set((process.env.BENCH_ONLY ?? 'throughput,latency,connect,scale,slow').split(','));
const profile = process.env.BENCH_CPU_PROF === '1';

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const runDir = join(ROOT, 'bench/results', stamp);
const logDir = join(runDir, 'logs');
mkdirSync(logDir, { recursive: true });
const watchdog = setTimeout(() => {
  console.error(`bench: over the ${TOTAL_BUDGET_MS / 1000} s budget; stopping`);
  void stopAll().finally(() => process.exit(1));
}, TOTAL_BUDGET_MS);
watchdog.unref();

const results: Record<string, unknown> = {
  startedAt: new Date().toISOString(),
  host: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
};
const lines: string[] = [];
const say = (line: string) => (console.log(line), lines.push(line));
const gbit = (value: number) => value.toFixed(2);

function fdLimit(): number {
  try {
    const text = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return text === 'unlimited' ? Infinity : Number(text);
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const certs = await writeDevCertificates(join(runDir, 'certs'), { dns: ['localhost'], ips: ['127.0.0.1'] });
  const ca = readFileSync(certs.ca);
  const origin = await startOrigin(logDir);
  const useIperf = hasCommand('iperf3');
  const iperfPort = await freePort();
  const iperfServer = useIperf
    ? start('iperf3-server', 'iperf3', ['-s', '-B', '127.0.0.1', '-p', String(iperfPort)], logDir)
    : undefined;

  const services: Record<string, number> = {
    echo: origin.echo,
    source: origin.source,
    sink: origin.sink,
    fastsink: origin.fastSink,
    ...(useIperf ? { iperf: iperfPort } : {}),
  };
  const tunnel = { id: 'bench', secret: newSecret() };
  const token = { id: 'bench-bot', secret: newSecret() };
  const edgePort = await freePort();
  const edgeYaml = writeText(
    join(runDir, 'edge.yaml'),
    `listen: 127.0.0.1:${edgePort}
publicUrl: https://127.0.0.1:${edgePort}
tls: { cert: ${certs.cert}, key: ${certs.key} }
stateDir: ${join(runDir, 'edge-state')}
limits: { maxConnectionsPerIp: ${SCALE_CONNECTIONS * 4}, maxStreamsPerIdentity: ${SCALE_CONNECTIONS * 4} }
apps:
${Object.entries(services)
  .map(
    ([name, port]) =>
      `  - { hostname: ${name}.bench.test, aud: ${randomBytes(16).toString('hex')}, tunnel: ${tunnel.id}, service: "tcp://127.0.0.1:${port}", policy: { include: [{ serviceToken: ${token.id} }] } }`,
  )
  .join('\n')}
tunnels:
  - { id: ${tunnel.id}, secretHash: "${hashSecret(tunnel.secret)}" }
serviceTokens:
  - { id: ${token.id}, secretHash: "${hashSecret(token.secret)}" }
`,
  );
  const connectorYaml = writeText(
    join(runDir, 'connector.yaml'),
    `edge: https://127.0.0.1:${edgePort}
token: ${encodeTunnelToken(tunnel.id, tunnel.secret)}
ca: ${certs.ca}
ingress:
${Object.entries(services)
  .map(([name, port]) => `  - { hostname: ${name}.bench.test, service: "tcp://127.0.0.1:${port}" }`)
  .join('\n')}
  - { service: "http_status:404" }
`,
  );
  const nodeFlags = (name: string) =>
    profile ? ['--cpu-prof', `--cpu-prof-dir=${join(runDir, 'profiles')}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
  const edge = startAirlock(
    'edge',
    ['edge', '--config', edgeYaml, '--drain-timeout', '1s'],
    logDir,
    {},
    nodeFlags('edge'),
  );
  await waitForPort(edgePort, 'edge', edge);
  const connector = startAirlock(
    'connector',
    ['tunnel', 'run', '--config', connectorYaml, '--drain-timeout', '1s'],
    logDir,
    {},
    nodeFlags('connector'),
  );
  await waitForConnectors(edgePort, ca, 4);

  const tokenEnv = { AIRLOCK_SERVICE_TOKEN_ID: token.id, AIRLOCK_SERVICE_TOKEN_SECRET: token.secret };
  async function client(
    name: string,
    service: string,
    edgeUrl = `https://127.0.0.1:${edgePort}`,
  ): Promise<{ proc: Proc; port: number }> {
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
        edgeUrl,
        '--ca',
        certs.ca,
      ],
      logDir,
      tokenEnv,
      nodeFlags(`client-${name}`),
    );
    await waitForLog(proc, logDir, /^Listening on /m);
    return { proc, port };
  }

  /**
   * The one-hop reference: websockify bridging TLS WebSocket to an origin port, and the same Airlock
   * client talking to it. Undefined when websockify is not installed (the caller says so).
   */
  async function viaWebsockify(name: string, originPort: number, service: string) {
    const wsPort = await freePort();
    const webDir = join(runDir, 'websockify-web'); // served so the client's start-up HEAD / gets 200
    mkdirSync(webDir, { recursive: true });
    const bridge = start(
      `websockify-${name}`,
      'websockify',
      ['--web', webDir, '--cert', certs.cert, '--key', certs.key, `127.0.0.1:${wsPort}`, `127.0.0.1:${originPort}`],
      logDir,
    );
    await waitForPort(wsPort, 'websockify', bridge);
    const via = await client(`websockify-${name}`, service, `https://127.0.0.1:${wsPort}`);
    return { ...via, bridge, stop: async () => (await stop(via.proc), await stop(bridge)) };
  }
  const noWebsockify = 'websockify not found on PATH (Debian package "websockify")';

  say(
    `Airlock bench — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString()}`,
  );

  // 1. Throughput
  if (only.has('throughput')) {
    // iperf3's server takes one test at a time and needs a moment between tests; one retry.
    const measureOnce = (port: number, direction: Direction) =>
      useIperf ? iperf3(port, direction, THROUGHPUT_SECONDS) : nodeThroughput(port, direction, THROUGHPUT_SECONDS);
    const cpu: Record<string, Record<string, number>> = {};
    const measure = async (port: number, direction: Direction, label: string, procs: Proc[]) => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const before = procs.map((p) => cpuSeconds(p.pid));
      try {
        return await measureOnce(port, direction);
      } catch (error) {
        say(`   (retrying after: ${(error as Error).message})`);
        await new Promise((resolve) => setTimeout(resolve, 2000));
        return await measureOnce(port, direction);
      } finally {
        await new Promise((resolve) => setTimeout(resolve, 300)); // websockify reaps its per-connection child
        cpu[`${label} ${direction}`] = Object.fromEntries(
          procs.map((p, i) => [
            p.name.replace(/^client-.*/, 'client').replace(/^websockify-.*/, 'websockify'),
            Math.round((cpuSeconds(p.pid) - before[i]!) * 100) / 100,
          ]),
        );
      }
    };
    const tool = useIperf ? 'iperf3, 1 stream' : 'Node source/sink (iperf3 not found)';
    const row: Record<string, Record<Direction, number | null>> = {};
    const rawPort = (direction: Direction) =>
      useIperf ? iperfPort : direction === 'up' ? origin.fastSink : origin.source;
    const chainClients = useIperf
      ? { up: await client('iperf', 'iperf'), down: undefined }
      : { up: await client('fastsink', 'fastsink'), down: await client('source', 'source') };
    const chainPort = (direction: Direction) =>
      direction === 'up' || useIperf ? chainClients.up.port : chainClients.down!.port;
    const chainProcs = (direction: Direction) => [
      direction === 'up' || useIperf ? chainClients.up.proc : chainClients.down!.proc,
      edge,
      connector,
    ];
    row.raw = {
      up: await measure(rawPort('up'), 'up', 'raw', []),
      down: await measure(rawPort('down'), 'down', 'raw', []),
    };
    row.airlock = {
      up: await measure(chainPort('up'), 'up', 'airlock', chainProcs('up')),
      down: await measure(chainPort('down'), 'down', 'airlock', chainProcs('down')),
    };
    let websockifyNote = '';
    if (hasCommand('websockify')) {
      const runOne = async (direction: Direction) => {
        const via = await viaWebsockify(
          direction,
          rawPort(direction),
          useIperf ? 'iperf' : direction === 'up' ? 'fastsink' : 'source',
        );
        try {
          return await measure(via.port, direction, 'websockify', [via.proc, via.bridge]);
        } finally {
          await via.stop();
        }
      };
      row.websockify = { up: await runOne('up'), down: await runOne('down') };
    } else {
      websockifyNote = `skipped: ${noWebsockify}`;
      row.websockify = { up: null, down: null };
    }
    results.throughput = { tool, seconds: THROUGHPUT_SECONDS, gbitPerSecond: row, cpuSeconds: cpu };
    say('');
    say(`1. Throughput, one stream, ${THROUGHPUT_SECONDS} s each (${tool}), Gbit/s and ratio to raw`);
    say('   path                       up (client→origin)     down (origin→client)');
    for (const [name, label] of [
      ['raw', 'raw loopback TCP'],
      ['airlock', 'Airlock chain (3 hops)'],
      ['websockify', 'websockify one-hop'],
    ] as const) {
      const value = row[name]!;
      const ratio = (d: Direction) =>
        value[d] === null ? '—' : `${gbit(value[d]!)}  (${(value[d]! / row.raw![d]!).toFixed(2)}× raw)`;
      say(`   ${label.padEnd(26)} ${ratio('up').padEnd(22)} ${ratio('down')}`);
    }
    if (websockifyNote) say(`   websockify row ${websockifyNote}`);
    else {
      const vs = (d: Direction) => (row.airlock![d]! / row.websockify![d]!).toFixed(2);
      say(`   Airlock ÷ websockify: up ${vs('up')}×, down ${vs('down')}×`);
    }
    // CPU per megabyte does not depend on how much of the machine other programs take.
    say(
      `   CPU seconds used during each run (${THROUGHPUT_SECONDS} s, ${os.cpus().length} cores), and CPU ms per MB moved:`,
    );
    const cpuPerMb: Record<string, number> = {};
    for (const [run, byProcess] of Object.entries(cpu)) {
      if (Object.keys(byProcess).length === 0) continue;
      const [name, direction] = run.split(' ') as [string, Direction];
      const total = Object.values(byProcess).reduce((sum, seconds) => sum + seconds, 0);
      const megabytes = (row[name]![direction]! * 1e9 * THROUGHPUT_SECONDS) / 8 / 1e6;
      cpuPerMb[run] = Math.round(((total * 1000) / megabytes) * 100) / 100;
      say(
        `     ${run.padEnd(16)} ${Object.entries(byProcess)
          .map(([process, seconds]) => `${process} ${seconds.toFixed(2)}`)
          .join('   ')
          .padEnd(44)} ${cpuPerMb[run]!.toFixed(2)} ms/MB`,
      );
    }
    results.throughput = { ...(results.throughput as object), cpuMsPerMB: cpuPerMb };
    for (const c of Object.values(chainClients)) if (c) await stop(c.proc);
  }

  const echoClient =
    only.has('latency') || only.has('connect') || only.has('scale') ? await client('echo', 'echo') : undefined;

  // 2. Latency
  if (only.has('latency') && echoClient) {
    const raw = summarise(await pingPong(origin.echo, PING_ROUNDS));
    const chain = summarise(await pingPong(echoClient.port, PING_ROUNDS));
    const bridge = hasCommand('websockify') ? await viaWebsockify('echo-latency', origin.echo, 'echo') : undefined;
    const oneHop = bridge ? summarise(await pingPong(bridge.port, PING_ROUNDS)) : undefined;
    await bridge?.stop();
    results.latency = {
      roundTrips: PING_ROUNDS,
      bytes: 1024,
      rawUs: raw,
      airlockUs: chain,
      addedUs: { p50: chain.p50 - raw.p50, p99: chain.p99 - raw.p99 },
      ...(oneHop
        ? { websockifyUs: oneHop, websockifyAddedUs: { p50: oneHop.p50 - raw.p50, p99: oneHop.p99 - raw.p99 } }
        : {}),
    };
    say('');
    say(`2. Latency, 1 KB ping-pong, ${PING_ROUNDS} round trips (µs)`);
    say('   path                 p50      p99      max   added p50   added p99');
    const line = (label: string, s: { p50: number; p99: number; max: number }, added = true) =>
      say(
        `   ${label.padEnd(14)} ${String(s.p50).padStart(8)} ${String(s.p99).padStart(8)} ${String(s.max).padStart(8)}${added ? `${String(s.p50 - raw.p50).padStart(12)}${String(s.p99 - raw.p99).padStart(12)}` : ''}`,
      );
    line('raw', raw, false);
    line('Airlock', chain);
    if (oneHop) {
      line('websockify', oneHop);
      // Each relaying process is one more wake-up per direction; this VM's cost for one is the yardstick.
      say(
        `   added p50 per relaying process: Airlock ${Math.round((chain.p50 - raw.p50) / 3)} µs (client, edge, connector), websockify one-hop ${Math.round((oneHop.p50 - raw.p50) / 2)} µs (client, websockify)`,
      );
    } else say(`   websockify row skipped: ${noWebsockify}`);
  }

  // 3. Connect time
  if (only.has('connect') && echoClient) {
    const raw = summarise(await connectTimes(origin.echo, CONNECT_SAMPLES));
    const chain = summarise(await connectTimes(echoClient.port, CONNECT_SAMPLES));
    const bridge = hasCommand('websockify') ? await viaWebsockify('echo-connect', origin.echo, 'echo') : undefined;
    const oneHop = bridge ? summarise(await connectTimes(bridge.port, CONNECT_SAMPLES)) : undefined;
    await bridge?.stop();
    results.connect = {
      samples: CONNECT_SAMPLES,
      rawUs: raw,
      airlockUs: chain,
      ...(oneHop ? { websockifyUs: oneHop } : {}),
    };
    say('');
    say(`3. Connect time, new local connection to first echoed byte, ${CONNECT_SAMPLES} in a row (ms)`);
    say(`   raw          p50 ${(raw.p50 / 1000).toFixed(2)}  p99 ${(raw.p99 / 1000).toFixed(2)}`);
    say(
      `   Airlock      p50 ${(chain.p50 / 1000).toFixed(2)}  p99 ${(chain.p99 / 1000).toFixed(2)}  (service token, no sign-in)`,
    );
    if (oneHop)
      say(
        `   websockify   p50 ${(oneHop.p50 / 1000).toFixed(2)}  p99 ${(oneHop.p99 / 1000).toFixed(2)}  (one hop, same client)`,
      );
    else say(`   websockify row skipped: ${noWebsockify}`);
  }

  // 4. Scale
  if (only.has('scale') && echoClient) {
    const limit = fdLimit();
    say('');
    if (limit < SCALE_CONNECTIONS * 2 + 200) {
      say(
        `4. Scale skipped: the open-file limit is ${limit}; run \`ulimit -n 8192\` first (the client holds 2 descriptors per connection)`,
      );
      results.scale = { skipped: `ulimit -n ${limit}` };
    } else {
      const procs = [echoClient.proc, edge, connector];
      await new Promise((resolve) => setTimeout(resolve, 500));
      const atRest = Object.fromEntries(procs.map((p) => [p.name, mb(rssBytes(p.pid))]));
      const t0 = performance.now();
      const { sockets, errors } = await openMany(echoClient.port, SCALE_CONNECTIONS);
      const openSeconds = (performance.now() - t0) / 1000;
      const second = await Promise.allSettled(sockets.map((socket) => echoRound(socket, 1024)));
      for (const result of second)
        if (result.status === 'rejected') errors.push(String(result.reason?.message ?? result.reason));
      const open = sockets.filter((socket) => !socket.destroyed).length;
      const atLoad = Object.fromEntries(procs.map((p) => [p.name, mb(rssBytes(p.pid))]));
      for (const socket of sockets) socket.destroy();
      results.scale = {
        connections: SCALE_CONNECTIONS,
        open,
        errors: errors.length,
        firstErrors: [...new Set(errors)].slice(0, 5),
        openSeconds,
        rssMB: { atRest, atLoad },
      };
      say(
        `4. Scale: ${SCALE_CONNECTIONS} concurrent tunnelled connections, each echoing (opened in ${openSeconds.toFixed(1)} s; ${open} open; errors ${errors.length})`,
      );
      say('   process      RSS at rest   RSS at 1000   per connection');
      for (const p of procs) {
        const per = ((atLoad[p.name]! - atRest[p.name]!) * 1024) / SCALE_CONNECTIONS;
        say(
          `   ${p.name.replace('client-echo', 'client').padEnd(12)} ${`${atRest[p.name]} MB`.padStart(11)}   ${`${atLoad[p.name]} MB`.padStart(11)}   ${per.toFixed(0).padStart(6)} KB`,
        );
      }
      if (errors.length > 0) say(`   first errors: ${[...new Set(errors)].slice(0, 3).join('; ')}`);
      await new Promise((resolve) => setTimeout(resolve, 2000)); // let the tunnels wind down before the next row
    }
  }
  if (echoClient) await stop(echoClient.proc);

  // 5. Slow reader
  if (only.has('slow')) {
    const slow: Record<string, unknown> = {};
    say('');
    say(`5. Slow reader at 1 MB/s, sender pushing for ${SLOW_SECONDS} s: peak RSS growth over baseline (MB)`);
    for (const direction of ['down', 'up'] as const) {
      const via = await client(`slow-${direction}`, direction === 'down' ? 'source' : 'sink');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const sampler = sampleRss([via.proc, edge, connector, origin.proc]);
      const bytes = await slowReader(via.port, direction, SLOW_SECONDS);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const growth = sampler.stop();
      await stop(via.proc);
      slow[direction] = { bytesMoved: bytes, rss: growth };
      const who = direction === 'down' ? 'this process reads' : "origin's sink reads";
      say(`   ${direction === 'down' ? 'down (origin pushes, ' : 'up (client pushes, '}${who}) moved ${mb(bytes)} MB`);
      say(`     ${growth.map((g) => `${g.name.replace(/client-slow-\w+/, 'client')} +${g.growthMB}`).join('   ')}`);
    }
    results.slowReader = slow;
  }

  await stop(connector);
  await stop(edge);
  if (iperfServer) await stop(iperfServer);
  await stop(origin.proc);
  results.finishedAt = new Date().toISOString();
  writeFileSync(join(runDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(runDir, 'table.txt'), `${lines.join('\n')}\n`);
  say('');
  say(`results: ${join('bench/results', stamp, 'results.json')}`);
}

main()
  .catch((error: Error) => {
    console.error(`bench failed: ${error.stack ?? error.message}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await stopAll();
    clearTimeout(watchdog);
  });
