// Operators publishing a private port: `airlock tunnel login`, `airlock tunnel
// --hostname H --url tcp://…`, `airlock tunnel list`, `airlock route list`, `airlock tunnel delete`.
import { resolve } from 'node:path';
import { adminRequest } from '../operator/admin-client.js';
import { edgeOrigin, operatorTarget, readCa, TARGET } from '../operator/operator-target.js';
import { loginWithBrowser } from '../../core/loopback-login.js';
import { acceptPastedCallback } from '../operator/pasted-callback.js';
import { forgetCredential, forgetTunnel, loadTunnel, saveCredential, saveTunnel } from '../operator/operator-files.js';
import { Connector } from '../../connector/connector.js';
import { HOST_ADMIN } from '../../shared/constants.js';
import { AirlockError, isAirlockError } from '../../shared/errors.js';
import { createLogger, isLogFormat, LOG_FORMATS } from '../../shared/logger.js';
import { nodeFlagsNotice } from '../../shared/node-flags.js';
import { onShutdown, parse, required, say, showUsage } from '../args.js';
import { openSystemBrowser } from '../browser.js';

const LOGIN_USAGE = `usage: airlock tunnel login --edge URL [--ca FILE]

Signs you in to the edge as an operator through the system browser (or prints the URL when there is
none). Your account must match the edge's \`admins:\` policy. The credential is kept, readable only by
you, under $XDG_CONFIG_HOME/airlock/operator/ (default ~/.config/airlock).`;

export async function tunnelLogin(argv: string[]): Promise<void> {
  const { values } = parse(argv, TARGET, LOGIN_USAGE);
  if (values.help) return showUsage(LOGIN_USAGE);
  const edge = edgeOrigin(required(values.edge, '--edge', LOGIN_USAGE));
  const ca = readCa(values.ca);
  // Fails fast when the edge has no admins: the browser would otherwise land on "unknown application".
  await adminRequest({ edgeOrigin: edge, token: '-', ...(ca ? { ca } : {}) }, 'GET', 'whoami').catch(
    (error: unknown) => {
      if (isAirlockError(error) && error.details.error === 'no_admins') throw error;
    },
  );
  const pasted = acceptPastedCallback(process.stdin, say);
  const result = await loginWithBrowser({
    edgeOrigin: edge,
    aud: HOST_ADMIN.loginAud,
    hostname: `${new URL(edge).host} (tunnel administration)`,
    ...(ca ? { ca } : {}),
    openBrowser: openSystemBrowser,
    print: pasted.print,
    retryCommand: `airlock tunnel login --edge ${edge}`,
  }).finally(() => pasted.close());
  const { email } = await adminRequest<{ email: string }>(
    { edgeOrigin: edge, token: result.token, ...(ca ? { ca } : {}) },
    'GET',
    'whoami',
  );
  const file = await saveCredential({
    edge,
    token: result.token,
    email,
    expiresAt: result.expiresAt.toISOString(),
    ...(values.ca ? { caFile: resolve(values.ca) } : {}),
  });
  say(`Logged in to ${edge} as ${email}, operator until ${result.expiresAt.toISOString()}.`);
  say(`Credential saved to ${file}`);
}

const LOGOUT_USAGE =
  'usage: airlock tunnel logout [--edge URL] [--ca FILE]\n\nRevokes the operator credential at the edge and forgets it.';

export async function tunnelLogout(argv: string[]): Promise<void> {
  const { values } = parse(argv, TARGET, LOGOUT_USAGE);
  if (values.help) return showUsage(LOGOUT_USAGE);
  let target;
  try {
    target = await operatorTarget(values);
  } catch (error) {
    // Expired: nothing to revoke, but the file still goes.
    if (!isAirlockError(error) || error.code !== 'AUTH_REQUIRED' || !values.edge) throw error;
    await forgetCredential(edgeOrigin(values.edge));
    return say(`Forgot the operator credential for ${edgeOrigin(values.edge)}.`);
  }
  const revoked = await adminRequest(target, 'POST', 'logout').then(
    () => true,
    () => false,
  );
  await forgetCredential(target.edgeOrigin);
  say(
    revoked
      ? `Logged out of ${target.edgeOrigin}: the credential is revoked at the edge.`
      : `Forgot the operator credential for ${target.edgeOrigin} (the edge did not accept it any more).`,
  );
}

const PUBLISH_USAGE = `usage: airlock tunnel --hostname HOST --url tcp://HOST:PORT [--name NAME] [--edge URL] [--ca FILE]
                      [--log-format text|json] [--log-file FILE]

Publishes a private TCP port under HOST and runs the connector for it: creates (or reuses, by NAME,
default HOST) a tunnel, routes HOST to it at the edge, then keeps the connector running. HOST must be
under a domain the edge serves and have an app with an access policy in edge.yaml.
  --log-format F   how the connector's log lines look on stderr: text (default) or json
  --log-file FILE  also append them to FILE as JSON lines`;

export async function tunnelPublish(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    argv,
    {
      ...TARGET,
      hostname: { type: 'string' },
      url: { type: 'string' },
      name: { type: 'string' },
      connections: { type: 'string' },
      'log-format': { type: 'string' },
      'log-file': { type: 'string' },
    },
    PUBLISH_USAGE,
  );
  if (values.help) return showUsage(PUBLISH_USAGE);
  if (positionals.length > 0) {
    throw new AirlockError(
      'BAD_ARGUMENT',
      `unknown command "tunnel ${positionals[0]}" (tunnel run, create, login, logout, list, delete; or tunnel --hostname …)\n\n${PUBLISH_USAGE}`,
    );
  }
  const hostname = required(values.hostname, '--hostname', PUBLISH_USAGE).toLowerCase();
  const url = required(values.url, '--url', PUBLISH_USAGE);
  const name = values.name ?? hostname;
  const connections = values.connections ? Number(values.connections) : undefined;
  if (connections !== undefined && !(Number.isInteger(connections) && connections >= 1 && connections <= 16)) {
    throw new AirlockError('BAD_ARGUMENT', '--connections must be a whole number from 1 to 16');
  }
  const logFormat = values['log-format'] ?? 'text';
  if (!isLogFormat(logFormat))
    throw new AirlockError('BAD_ARGUMENT', `--log-format must be ${LOG_FORMATS.join(' or ')}, got "${logFormat}"`);
  const target = await operatorTarget(values);

  const created = await adminRequest<{ created: boolean; token?: string }>(target, 'POST', 'tunnels', { name });
  try {
    await adminRequest(target, 'POST', 'routes', { hostname, tunnel: name, service: url });
  } catch (error) {
    // A tunnel made just for this route is not left behind when the route is refused.
    if (created.created)
      await adminRequest(target, 'DELETE', `tunnels/${encodeURIComponent(name)}`).catch(() => undefined);
    throw error;
  }
  let token = created.token ?? (await loadTunnel(target.edgeOrigin, name))?.token;
  if (!token) {
    say(
      `Tunnel ${name} exists but this machine has no token for it: asking the edge for a new one (connectors elsewhere with the old token are refused when they reconnect).`,
    );
    token = (await adminRequest<{ token: string }>(target, 'POST', `tunnels/${encodeURIComponent(name)}/token`)).token;
  }
  await saveTunnel({
    edge: target.edgeOrigin,
    name,
    hostname,
    url,
    token,
    ...(target.caFile ? { caFile: target.caFile } : {}),
  });
  say(`${created.created ? 'Created' : 'Reusing'} tunnel ${name}; ${hostname} → ${url}.`);

  // A person runs this at a terminal: readable lines there; JSON only when asked for.
  const log = createLogger('connector', {
    format: logFormat,
    ...(values['log-file'] ? { file: resolve(values['log-file']) } : {}),
  });
  const notice = nodeFlagsNotice();
  if (notice) log.debug(notice);
  const connector = new Connector({
    edgeUrl: target.edgeOrigin,
    token,
    rules: [{ hostname, service: url }, { service: 'http_status:404' }],
    log,
    ...(target.ca ? { ca: target.ca } : {}),
    ...(connections ? { connections } : {}),
  });
  connector.on('fatal', () => {
    say(
      `airlock: [TUNNEL_AUTH_FAILED] the edge refused the tunnel token of ${name}: the tunnel was deleted or its token replaced; run \`airlock tunnel --hostname ${hostname} --url ${url}\` again to publish it`,
    );
    process.exit(1);
  });
  connector.start();
  onShutdown(async () => connector.stop());
  await connector.waitConnected(1);
  say(`Published ${hostname}: the connector is connected to ${target.edgeOrigin}. Users reach it with`);
  say(
    `  airlock access tcp --hostname ${hostname} --url 127.0.0.1:PORT${target.edgeOrigin === `https://${hostname}` ? '' : ` --edge ${target.edgeOrigin}`}`,
  );
  say('Keep this running, or install it as a service: airlock service install');
}

const LIST_USAGE = 'usage: airlock tunnel list [--edge URL] [--ca FILE]';

export async function tunnelList(argv: string[]): Promise<void> {
  const { values } = parse(argv, TARGET, LIST_USAGE);
  if (values.help) return showUsage(LIST_USAGE);
  const { tunnels } = await adminRequest<{
    tunnels: Array<{ name: string; owner: string; connections: number; routes: string[]; createdAt: string }>;
  }>(await operatorTarget(values), 'GET', 'tunnels');
  printTable(
    ['NAME', 'OWNER', 'CONNECTIONS', 'ROUTES', 'CREATED'],
    tunnels.map((tunnel) => [
      tunnel.name,
      tunnel.owner,
      String(tunnel.connections),
      tunnel.routes.join(',') || '-',
      tunnel.createdAt,
    ]),
  );
}

const ROUTES_USAGE = 'usage: airlock route list [--edge URL] [--ca FILE]';

export async function routeList(argv: string[]): Promise<void> {
  const { values } = parse(argv, TARGET, ROUTES_USAGE);
  if (values.help) return showUsage(ROUTES_USAGE);
  const { routes } = await adminRequest<{
    routes: Array<{ hostname: string; tunnel: string; service: string; owner: string; source: string; live?: boolean }>;
  }>(await operatorTarget(values), 'GET', 'routes');
  printTable(
    ['HOSTNAME', 'TUNNEL', 'SERVICE', 'OWNER', 'SOURCE'],
    routes.map((route) => [
      route.hostname,
      route.tunnel,
      route.service,
      route.owner || '-',
      route.live === false ? `${route.source} (no app in edge.yaml)` : route.source,
    ]),
  );
}

const DELETE_USAGE = 'usage: airlock tunnel delete NAME [--edge URL] [--ca FILE]';

export async function tunnelDelete(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, TARGET, DELETE_USAGE);
  if (values.help) return showUsage(DELETE_USAGE);
  const name = positionals[0];
  if (!name) throw new AirlockError('BAD_ARGUMENT', `NAME is required\n\n${DELETE_USAGE}`);
  const target = await operatorTarget(values);
  const { routes } = await adminRequest<{ routes: string[] }>(target, 'DELETE', `tunnels/${encodeURIComponent(name)}`);
  await forgetTunnel(target.edgeOrigin, name);
  say(`Deleted tunnel ${name}${routes.length > 0 ? ` and its routes: ${routes.join(', ')}` : ''}.`);
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[line(header), ...rows.map(line)].join('\n')}\n`);
}
