// `airlock tunnel run` (the connector) and `airlock tunnel create` / `service-token create`.
import { readFileSync } from 'node:fs';
import { Connector } from '../../connector/connector.js';
import { loadConnectorConfig } from '../../connector/config.js';
import { readSecret } from '../../shared/secret-flags.js';
import { checkIngressRules, type IngressRule } from '../../connector/ingress.js';
import { AirlockError } from '../../shared/errors.js';
import { parseDuration } from '../../shared/contract/duration.js';
import { createLogger, type Logger } from '../../shared/logger.js';
import type { ConnectorMetrics } from '../../connector/connector-metrics.js';
import { formatHostPort, parseHostPort } from '../../shared/host.js';
import { nodeFlagsNotice } from '../../shared/node-flags.js';
import { encodeTunnelToken, hashSecret, newSecret } from '../../shared/secrets.js';
import { describeFailure, onShutdown, parse, required, say, showUsage } from '../args.js';
import { airlockVersion } from '../version.js';

/** The connector's default metrics port, on loopback (cloudflared's is 20241 too). */
const CONNECTOR_METRICS_PORT = 20241;

const RUN_USAGE = `usage: airlock tunnel run --edge URL --token TOKEN --url tcp://HOST:PORT [options]
       airlock tunnel run --config connector.yaml

  --edge URL             the edge's https:// URL; repeat it for several edges, and the
                         connections are spread over them
  --token-file FILE      tunnel token from \`airlock tunnel create\`, in a 0600 file (or
                         AIRLOCK_TUNNEL_TOKEN); --token TOKEN works but shows in ps
  --url tcp://HOST:PORT  the one origin this connector may reach
  --ca FILE              trust this CA for the edge
  --connections N        connections to keep open (default 4)
  --drain-timeout TIME   how long in-flight streams may finish after SIGTERM (default 30s)
  --metrics HOST:PORT    Prometheus metrics at http://HOST:PORT/metrics (default
                         127.0.0.1:${CONNECTOR_METRICS_PORT}; "off" for none)`;

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export async function tunnelRun(argv: string[]): Promise<void> {
  const { values } = parse(
    argv,
    {
      edge: { type: 'string', multiple: true },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      url: { type: 'string' },
      ca: { type: 'string' },
      connections: { type: 'string' },
      config: { type: 'string', short: 'c' },
      'drain-timeout': { type: 'string' },
      metrics: { type: 'string' },
    },
    RUN_USAGE,
  );
  if (values.help) return showUsage(RUN_USAGE);
  const fromFile = values.config ? loadConnectorConfig(values.config) : undefined;
  const edges = fromFile?.edges ?? values.edge ?? [];
  const edge = required(edges[0], '--edge', RUN_USAGE);
  const token =
    fromFile?.token ??
    readSecret(
      { flag: '--token', flagValue: values.token, fileValue: values['token-file'], env: 'AIRLOCK_TUNNEL_TOKEN' },
      say,
    );
  if (!token) throw new AirlockError('BAD_ARGUMENT', `--token is required (or AIRLOCK_TUNNEL_TOKEN)\n\n${RUN_USAGE}`);
  const rules: IngressRule[] = fromFile?.rules ?? [{ service: required(values.url, '--url', RUN_USAGE) }];
  const problems = checkIngressRules(rules);
  if (problems.length > 0)
    throw new AirlockError('BAD_ARGUMENT', problems.join('\n').replace('ingress[0].service', '--url'));
  const caFile = fromFile?.caFile ?? values.ca;
  const connections = fromFile?.connections ?? (values.connections ? Number(values.connections) : undefined);
  if (connections !== undefined && !(Number.isInteger(connections) && connections >= 1 && connections <= 16)) {
    throw new AirlockError('BAD_ARGUMENT', '--connections must be a whole number from 1 to 16');
  }
  const drainMs = parseDuration(values['drain-timeout'] ?? '30s');
  if (drainMs === undefined) throw new AirlockError('BAD_ARGUMENT', '--drain-timeout must be a duration like 10s');
  let ca: Buffer | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile);
    } catch (error) {
      throw new AirlockError('BAD_ARGUMENT', `cannot read --ca ${caFile}: ${(error as Error).message}`);
    }
  }
  const log = createLogger('connector');
  const notice = nodeFlagsNotice();
  if (notice) log.debug(notice);
  const metricsAddress = values.metrics ?? `127.0.0.1:${CONNECTOR_METRICS_PORT}`;
  // Loaded only here: prom-client would slow every other `tunnel` command's start.
  const metricsModule = metricsAddress === 'off' ? undefined : await import('../../connector/connector-metrics.js');
  const metrics = metricsModule?.createConnectorMetrics();
  if (metrics && metricsModule) await serveMetrics(metricsModule.serveConnectorMetrics, metrics, metricsAddress, log);
  const connector = new Connector({
    edgeUrl: edge,
    ...(edges.length > 1 ? { edgeUrls: edges } : {}),
    token,
    rules,
    log,
    ...(metrics ? { metrics } : {}),
    ...(ca ? { ca } : {}),
    ...(connections ? { connections } : {}),
  });
  connector.on('fatal', (error) => {
    say(`airlock: ${describeFailure(error)}`);
    process.exit(1);
  });
  connector.start();
  // The handler is in place before the ready line: whoever reads that line may signal at once.
  onShutdown(async (signal) => {
    log.info({ signal, activeStreams: connector.activeStreams }, 'draining');
    await connector.stop(drainMs);
  });
  say(
    `connector ${connector.connectorId} dialling ${edge}; origins: ${rules.map((rule) => rule.service).join(', ')}; airlock ${airlockVersion()}`,
  );
}

/** A busy port is no reason not to run the connector: it runs, and says where metrics are not. */
async function serveMetrics(
  serveConnectorMetrics: typeof import('../../connector/connector-metrics.js').serveConnectorMetrics,
  metrics: ConnectorMetrics,
  address: string,
  log: Logger,
): Promise<void> {
  const listen = parseHostPort(address, { allowPortZero: true });
  if (!listen) throw new AirlockError('BAD_ARGUMENT', `--metrics "${address}" is not HOST:PORT (or "off")`);
  try {
    const server = await serveConnectorMetrics(metrics, listen);
    log.info({ metrics: `http://${formatHostPort({ host: server.address, port: server.port })}/metrics` }, 'metrics');
  } catch (error) {
    log.warn({ metrics: address, error: (error as Error).message }, 'metrics not served: the address is not free');
  }
}

function createCredential(kind: 'tunnel' | 'service-token', argv: string[]): void {
  const usage = `usage: airlock ${kind === 'tunnel' ? 'tunnel' : 'service-token'} create NAME`;
  const { values, positionals } = parse(argv, {}, usage);
  if (values.help) return showUsage(usage);
  const name = positionals[0];
  if (!name || !ID_PATTERN.test(name))
    throw new AirlockError('BAD_ARGUMENT', `NAME must be 1-128 letters, digits, ".", "_" or "-"\n\n${usage}`);
  const secret = newSecret();
  const line = `  - { id: ${name}, secretHash: "${hashSecret(secret)}" }`;
  if (kind === 'tunnel') {
    say(
      `Tunnel "${name}" created. Add this line under tunnels: in edge.yaml (only the hash is stored there):\n\n${line}\n`,
    );
    say('Then run the connector next to the service, with the token below (keep it secret):');
    say(`  AIRLOCK_TUNNEL_TOKEN=<token> airlock tunnel run --edge https://EDGE --url tcp://127.0.0.1:PORT\n`);
    process.stdout.write(`${encodeTunnelToken(name, secret)}\n`);
  } else {
    say(
      `Service token "${name}" created. Add this line under serviceTokens: in edge.yaml, and name it in a policy ({ serviceToken: ${name} }):\n\n${line}\n`,
    );
    say('The client sends it as Cf-Access-Client-Id / Cf-Access-Client-Secret (keep the secret secret):');
    process.stdout.write(`AIRLOCK_SERVICE_TOKEN_ID=${name}\nAIRLOCK_SERVICE_TOKEN_SECRET=${secret}\n`);
  }
}

export const tunnelCreate = (argv: string[]) => createCredential('tunnel', argv);
export const serviceTokenCreate = (argv: string[]) => createCredential('service-token', argv);
