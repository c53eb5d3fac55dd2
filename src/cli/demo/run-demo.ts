// `airlock demo`: the whole chain on this machine (throwaway CA, edge, connector, a demo service and
// a client listener), a first round trip to show it works, then live counters until Ctrl-C.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Connector } from '../../connector/connector.js';
import { firstFreePort } from '../../core/free-port.js';
import { LocalListener, type LocalListenerOptions } from '../../core/local-listener.js';
import { createAppSession } from '../../core/sign-in.js';
import { createTokenStore } from '../../core/token-store.js';
import { startIdp } from '../../idp/provider.js';
import { PATH } from '../../shared/constants.js';
import { openSystemBrowser } from '../browser.js';
import { resolveEdgeTarget } from '../../core/edge-target.js';
import { loadEdgeConfig } from '../../edge/config/config.js';
import { startEdge } from '../../edge/edge-server.js';
import { formatBytes } from '../../shared/contract/duration.js';
import { AirlockError, isAirlockError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/logger.js';
import { encodeTunnelToken, hashSecret, newSecret } from '../../shared/secrets.js';
import { onShutdown, parse, say, showUsage } from '../args.js';
import { writeDevCertificates } from './dev-certs.js';
import { startDemoService } from './demo-service.js';

const USAGE = `usage: airlock demo [--port 7777] [--dir DIR] [--service-token]

Runs an identity provider, an edge, a connector, a demo TCP service and a client listener on
this machine, then signs you in through the browser as the demo user.
  --port N          local port of the client listener (default 7777)
  --dir DIR         where certificates, configs and the demo's tokens go
                    (default ~/.local/share/airlock/demo)
  --service-token   skip the browser sign-in: the client uses a service token instead`;

const DEMO_USER = { email: 'demo@example.com', password: 'airlock-demo', groups: ['engineering'] };

const HOSTNAME = 'demo.airlock.test';

const DEFAULT_PORT = 7777;

export interface DemoOptions {
  /** How long the browser sign-in may take (default: the client's, 5 minutes). */
  loginTimeoutMs?: number;
}

export async function runDemo(argv: string[], options: DemoOptions = {}): Promise<void> {
  const { values } = parse(
    argv,
    { port: { type: 'string' }, dir: { type: 'string' }, 'service-token': { type: 'boolean' } },
    USAGE,
  );
  if (values.help) return showUsage(USAGE);
  const port = Number(values.port ?? DEFAULT_PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new AirlockError('BAD_ARGUMENT', '--port must be from 1 to 65535');
  // An empty XDG variable counts as unset (XDG Base Directory spec).
  const dir = values.dir ?? join(process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'airlock', 'demo');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The client's port is checked before anything starts, so a busy one costs no sign-in.
  const busy = await listenProblem(port);
  if (busy) throw await demoPortError(busy, port, values.dir !== undefined ? dir : undefined);

  step('1/6', `throwaway CA and edge certificate in ${dir}`);
  const certs = existsSync(join(dir, 'certs', 'edge.pem'))
    ? {
        ca: join(dir, 'certs', 'ca.pem'),
        cert: join(dir, 'certs', 'edge.pem'),
        key: join(dir, 'certs', 'edge-key.pem'),
      }
    : await writeDevCertificates(join(dir, 'certs'), { dns: ['localhost', HOSTNAME], ips: ['127.0.0.1'] });

  const service = await startDemoService();
  step('2/6', `demo service (upper-case echo) on 127.0.0.1:${service.port}`);

  // The edge's port is chosen first: the IdP must know the edge's callback URL.
  const edgePort = await freePort();
  const callback = `https://127.0.0.1:${edgePort}${PATH.callback}`;
  const idpClient = { clientId: 'airlock-edge', clientSecret: newSecret() };
  const idp = await startIdp({ users: [DEMO_USER], clients: [{ ...idpClient, redirectUris: [callback] }] });
  step(
    '3/6',
    `identity provider (OIDC) on ${idp.issuer}; demo user ${DEMO_USER.email}, password ${DEMO_USER.password}`,
  );

  const tunnelSecret = newSecret();
  const serviceToken = { id: 'demo-user', secret: newSecret() };
  const configFile = join(dir, 'edge.yaml');
  writeFileSync(
    configFile,
    `# Written by \`airlock demo\`; regenerated on every run.
listen: 127.0.0.1:${edgePort}
tls: { cert: certs/edge.pem, key: certs/edge-key.pem }
idp:
  issuer: ${idp.issuer}
  clientId: ${idpClient.clientId}
  clientSecret: \${AIRLOCK_DEMO_IDP_SECRET}
stateDir: edge-state
audit: { file: audit.log }
apps:
  - hostname: ${HOSTNAME}
    aud: ${randomBytes(32).toString('hex')}
    tunnel: demo
    service: tcp://127.0.0.1:${service.port}
    policy:
      include: [{ emailDomain: example.com }, { serviceToken: ${serviceToken.id} }]
tunnels:
  - { id: demo, secretHash: "${hashSecret(tunnelSecret)}" }
serviceTokens:
  - { id: ${serviceToken.id}, secretHash: "${hashSecret(serviceToken.secret)}" }
`,
    { mode: 0o600 },
  );
  process.env.AIRLOCK_DEMO_IDP_SECRET = idpClient.clientSecret;
  const config = loadEdgeConfig(configFile);
  const edge = await startEdge({ config, log: silentLogger() });
  const edgeUrl = config.publicUrl;
  step('4/6', `edge on ${edgeUrl} (config ${configFile}, audit log ${join(dir, 'audit.log')})`);

  const connector = new Connector({
    edgeUrl,
    token: encodeTunnelToken('demo', tunnelSecret),
    ca: readFileSync(certs.ca),
    rules: [{ hostname: HOSTNAME, service: `tcp://127.0.0.1:${service.port}` }, { service: 'http_status:404' }],
  });
  connector.start();
  await connector.waitConnected(4);
  step('5/6', `connector dialled out to the edge: ${connector.connectedCount} connections, reverse HTTP/2`);

  const stopServers = async () => {
    await connector.stop(2000);
    await edge.close(2000);
    await Promise.all([idp.close(), service.close()]);
  };
  const target = resolveEdgeTarget({ hostname: HOSTNAME, edge: edgeUrl, caFile: certs.ca });
  let auth: Pick<LocalListenerOptions, 'credential' | 'onAuthRequired'>;
  if (values['service-token']) {
    auth = { credential: async () => ({ kind: 'service-token', ...serviceToken }) };
  } else {
    // The demo's tokens go to a file in its own directory: its edges are throwaway, the keychain is not.
    const store = createTokenStore({ backend: 'file', file: join(dir, 'tokens.json') });
    // The edge and the IdP stop with the demo: trying again means running the demo again.
    const retryCommand = demoCommand({
      ...(values.port !== undefined ? { port } : {}),
      ...(values.dir !== undefined ? { dir } : {}),
    });
    const session = createAppSession({
      target,
      store,
      openBrowser: openSystemBrowser,
      print: say,
      retryCommand,
      ...(options.loginTimeoutMs ? { loginTimeoutMs: options.loginTimeoutMs } : {}),
    });
    say(
      `\nYour browser will warn that the sign-in page's connection is not private (a certificate error): the edge's\n` +
        `certificate comes from the demo's own throwaway CA, ${certs.ca}, which the browser does not know.\n` +
        `That is expected for the demo. Proceed anyway (Chrome: Advanced, then "Proceed to 127.0.0.1";\n` +
        `Firefox: Advanced, then "Accept the Risk and Continue"), or import that file as a trusted authority\n` +
        `in the browser's certificate settings to skip the warning on later runs.`,
    );
    say(`\nSign in as ${DEMO_USER.email} with password ${DEMO_USER.password}:`);
    try {
      await session.ensureSignedIn();
    } catch (error) {
      await stopServers();
      throw error;
    }
    say('Signed in; the token is reused until it expires.\n');
    auth = { credential: () => session.credential(), onAuthRequired: (error) => session.onAuthRequired(error) };
  }
  const listener = new LocalListener({ target, local: { host: '127.0.0.1', port }, ...auth });
  let address: string;
  try {
    address = await listener.start();
  } catch (error) {
    await stopServers();
    if (isAirlockError(error) && error.code === 'PORT_IN_USE')
      throw await demoPortError(error, port, values.dir !== undefined ? dir : undefined);
    throw error;
  }
  step('6/6', `client listening on ${address} → ${HOSTNAME}`);
  // The handler is in place before the ready lines: whoever reads them may signal at once.
  let ticker: NodeJS.Timeout | undefined;
  onShutdown(async () => {
    clearInterval(ticker);
    say('\nstopping: client, connector (drain), edge, identity provider, service');
    await listener.stop();
    await stopServers();
    say('stopped');
  });

  const started = Date.now();
  const reply = await roundTrip(port, 'hello airlock');
  say(`\n✓ "${reply}" came back through client → edge → connector → service in ${Date.now() - started} ms\n`);
  say(`Try it:\n  nc 127.0.0.1 ${port}            (type a line, see it in upper case; Ctrl-C to leave)`);
  say(`  printf 'ping\\n' | nc -q 1 127.0.0.1 ${port}\n`);
  say('Byte counters follow as traffic flows. Ctrl-C stops every part.\n');

  let last = '';
  ticker = setInterval(() => {
    const status = listener.status();
    const line = `client: ${status.activeConnections} open / ${status.totalConnections} total connections, sent ${formatBytes(status.bytesUp)}, received ${formatBytes(status.bytesDown)}`;
    if (line !== last) say(line);
    last = line;
  }, 2000);
}

/** The command that runs the demo again with these options, the way it was started (npm or airlock). */
function demoCommand(options: { port?: number; dir?: string }): string {
  const flags = [
    ...(options.port !== undefined ? ['--port', String(options.port)] : []),
    ...(options.dir !== undefined ? ['--dir', shellWord(options.dir)] : []),
  ];
  // npm names the running script in npm_lifecycle_event; it passes arguments on only after `--`.
  if (process.env.npm_lifecycle_event === 'demo')
    return ['npm run demo', ...(flags.length > 0 ? ['--', ...flags] : [])].join(' ');
  return ['airlock demo', ...flags].join(' ');
}

function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The listener's PORT_IN_USE names its own flag (--url); the demo's is --port. */
async function demoPortError(error: AirlockError, port: number, dir: string | undefined): Promise<AirlockError> {
  const where = `127.0.0.1:${port}`;
  if (error.details.port === undefined) {
    const command = demoCommand({ port: DEFAULT_PORT, ...(dir !== undefined ? { dir } : {}) });
    return new AirlockError(
      'PORT_IN_USE',
      `not allowed to listen on ${where}: ports below 1024 need privileges; run the demo on a port above 1024: \`${command}\``,
      error.details,
    );
  }
  const next = (await firstFreePort(port === 65535 ? 1025 : port + 1)) || port + 1;
  const command = demoCommand({ port: next, ...(dir !== undefined ? { dir } : {}) });
  return new AirlockError(
    'PORT_IN_USE',
    `${where} (the demo's client listener) is already in use by another program. Run the demo on another port: \`${command}\`, ` +
      `or find the program holding it with \`lsof -i :${port}\`.`,
    error.details,
  );
}

/** Why 127.0.0.1:port cannot be listened on (in use, or privileged), or undefined when it is free. */
async function listenProblem(port: number): Promise<AirlockError | undefined> {
  const probe = new LocalListener({
    target: resolveEdgeTarget({ hostname: HOSTNAME }),
    local: { host: '127.0.0.1', port },
    credential: async () => ({ kind: 'none' }),
  });
  try {
    await probe.start();
    await probe.stop();
    return undefined;
  } catch (error) {
    if (isAirlockError(error) && error.code === 'PORT_IN_USE') return error;
    throw error;
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function step(number: string, text: string): void {
  say(`[${number}] ${text}`);
}

function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.setTimeout(10_000, () =>
      socket.destroy(new AirlockError('ORIGIN_FAILED', 'no answer through the tunnel within 10 s')),
    );
    socket.on('connect', () => socket.write(`${text}\n`));
    socket.on('data', (chunk: string) => {
      received += chunk;
      const line = received.split('\n').find((candidate) => candidate === text.toUpperCase());
      if (line) {
        socket.end();
        resolve(line);
      }
    });
    socket.on('error', reject);
  });
}
