// Soak (opt-in: `npm run soak`, not part of `npm test`): real edge, connector and client
// processes under connection churn for SOAK_SECONDS (default 600). Every transfer is a new TCP
// connection and is sha256-checked at both ends. Passes when no byte was corrupted and the RSS of
// each process is flat: the last minute's median within 25% (or 40 MB) of the first minute's after warm-up.
import { readFileSync } from 'node:fs';
import { processChain, waitForConnections } from '../helpers/process-chain.js';
import { stopProcess, waitUntil, type AirlockProcess } from '../helpers/airlock-processes.js';
import { download, echoRoundTrip, startOrigin, upload } from '../helpers/transfer.js';

const MB = 1024 * 1024;
const seconds = Number(process.env.SOAK_SECONDS ?? 600);
const CONCURRENCY = 6;

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

async function main(): Promise<number> {
  const origin = await startOrigin();
  const chain = await processChain([{ hostname: 'soak.airlock.test', service: `tcp://127.0.0.1:${origin.port}` }]);
  const edge = await chain.startEdge();
  const connector = await chain.startConnector({ connections: 4 });
  await waitForConnections(chain, 4);
  const access = await chain.startAccess('soak.airlock.test');
  const processes: AirlockProcess[] = [edge, connector, access.proc];

  const totals = { transfers: 0, bytes: 0, corrupted: 0, failed: 0 };
  const samples = new Map<string, { at: number; rss: number }[]>(processes.map((p) => [p.name, []]));
  const started = Date.now();
  const deadline = started + seconds * 1000;
  const sampler = setInterval(() => {
    for (const proc of processes) samples.get(proc.name)!.push({ at: Date.now() - started, rss: rssMb(proc.pid) });
  }, 5000);

  let sequence = 0;
  const worker = async () => {
    while (Date.now() < deadline) {
      const kind = sequence++ % 3;
      const size = (1 + (sequence % 8)) * MB;
      try {
        if (kind === 0) {
          const before = origin.records.length;
          const result = await download(access.port, size, { timeoutMs: 60_000 });
          await waitUntil('origin record', () => origin.records.length > before, 5000);
          const sent = origin.records.find((r) => r.kind === 'send' && r.sha256 === result.sha256);
          if (!result.complete) totals.failed++;
          else if (!result.intact || !sent) totals.corrupted++;
        } else if (kind === 1) {
          const result = await upload(access.port, size);
          if (result.sent !== result.received) totals.corrupted++;
        } else {
          const result = await echoRoundTrip(access.port, 256 * 1024);
          if (result.sent !== result.received) totals.corrupted++;
        }
        totals.transfers++;
        totals.bytes += kind === 2 ? 256 * 1024 : size;
      } catch (error) {
        totals.failed++;
        console.error(`transfer failed: ${(error as Error).message}`);
      }
    }
  };
  const progress = setInterval(() => {
    const rss = processes.map((p) => `${p.name} ${rssMb(p.pid).toFixed(0)} MB`).join(', ');
    console.log(
      `${Math.round((Date.now() - started) / 1000)} s: ${totals.transfers} transfers, ${(totals.bytes / MB).toFixed(0)} MB, ${totals.corrupted} corrupted, ${totals.failed} failed; RSS ${rss}`,
    );
  }, 30_000);
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  clearInterval(sampler);
  clearInterval(progress);

  let flat = true;
  for (const [name, list] of samples) {
    const warm = list.filter((s) => s.at >= 30_000 && s.at < 90_000).map((s) => s.rss);
    const last = list.filter((s) => s.at >= seconds * 1000 - 60_000).map((s) => s.rss);
    const first = median(warm.length > 0 ? warm : list.map((s) => s.rss));
    const end = median(last);
    const ok = end <= Math.max(first * 1.25, first + 40);
    flat &&= ok;
    console.log(
      `RSS ${name}: ${first.toFixed(0)} MB after warm-up, ${end.toFixed(0)} MB in the last minute: ${ok ? 'flat' : 'GROWING'}`,
    );
  }
  console.log(
    `soak ${seconds} s: ${totals.transfers} transfers, ${(totals.bytes / MB).toFixed(0)} MB, bytes corrupted: ${totals.corrupted}, failed: ${totals.failed}`,
  );
  for (const proc of [access.proc, connector, edge]) await stopProcess(proc);
  await origin.close();
  return totals.corrupted === 0 && totals.failed === 0 && totals.transfers > 0 && flat ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => (console.error(error), process.exit(1)),
);
