// `airlock service install|uninstall [--dry-run]`: run the connector of a tunnel published from this
// machine (`airlock tunnel --hostname …`) at boot, restarted when it stops.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { listTunnels, type LocalTunnel } from '../operator/operator-files.js';
import {
  buildConnectorYaml,
  buildEnvironmentFile,
  buildLaunchdPlist,
  buildSystemdUnit,
  buildWindowsCommands,
  serviceName,
  servicePaths,
  type ServicePlatform,
  type ServiceSpec,
} from '../../connector/service-files.js';
import {
  modeOnDisk,
  packageFilesOf,
  realPath,
  serviceStartProblems,
  type ServiceFile,
} from '../../connector/service-readiness.js';
import { AirlockError } from '../../shared/errors.js';
import { parse, say, showUsage } from '../args.js';
import { airlockVersion } from '../version.js';

const USAGE = `usage: airlock service install [--name NAME] [--edge URL] [--dry-run] [--platform linux|darwin|win32] [--wrapper EXE]
       airlock service uninstall [--name NAME] [--edge URL] [--dry-run] [--platform linux|darwin|win32]

Runs the connector of a tunnel published from this machine (\`airlock tunnel --hostname …\`) as a
system service: a systemd unit on Linux, a launchd daemon on macOS, sc.exe commands on Windows.
--dry-run prints the files and commands instead. Installing needs root (sudo) or an elevated prompt.`;

const OPTIONS = {
  name: { type: 'string' },
  edge: { type: 'string' },
  'dry-run': { type: 'boolean' },
  platform: { type: 'string' },
  wrapper: { type: 'string' },
} as const;

type Values = {
  name?: string;
  edge?: string;
  'dry-run'?: boolean;
  platform?: string;
  wrapper?: string;
  help?: boolean;
};

export async function serviceInstall(argv: string[]): Promise<void> {
  const { values } = parse(argv, OPTIONS, USAGE);
  if (values.help) return showUsage(USAGE);
  const { tunnel, platform, dryRun } = await prepare(values);
  const spec: ServiceSpec = {
    name: tunnel.name,
    hostname: tunnel.hostname,
    edge: tunnel.edge,
    url: tunnel.url,
    nodePath: process.execPath,
    airlockBin: fileURLToPath(new URL('../../../bin/airlock.js', import.meta.url)),
  };
  const paths = servicePaths(platform, tunnel.name);
  const ca = tunnel.caFile ? paths.ca : undefined;
  const files: Array<{ path: string; text: string; mode: number; secret?: boolean }> = [];
  const commands: string[][] = [];
  if (platform === 'linux') {
    files.push({
      path: paths.definition,
      text: buildSystemdUnit(spec, { secrets: paths.secrets, ...(ca ? { ca } : {}) }),
      mode: 0o644,
    });
    files.push({ path: paths.secrets, text: buildEnvironmentFile(tunnel.token), mode: 0o600, secret: true });
    commands.push(
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', '--now', `${serviceName(tunnel.name)}.service`],
    );
  } else {
    const config = paths.config!;
    files.push({
      path: config,
      text: buildConnectorYaml(spec, { secrets: paths.secrets, ...(ca ? { ca } : {}) }),
      mode: 0o644,
    });
    files.push({ path: paths.secrets, text: `${tunnel.token}\n`, mode: 0o600, secret: true });
    if (platform === 'darwin') {
      files.push({ path: paths.definition, text: buildLaunchdPlist(spec, { config }), mode: 0o644 });
      commands.push(['launchctl', 'bootstrap', 'system', paths.definition]);
    } else {
      files.push({
        path: paths.definition,
        text: buildWindowsCommands(spec, { config, secrets: paths.secrets }, values.wrapper),
        mode: 0o644,
      });
    }
  }

  // Checked before anything is written; a dry run prints the files, then the same refusal.
  const problems = startProblems(platform, spec);
  const refusal =
    problems.length > 0
      ? new AirlockError('SERVICE_WOULD_NOT_START', `the service would not start:\n  - ${problems.join('\n  - ')}`, {
          problems,
        })
      : undefined;

  if (dryRun) {
    for (const file of files) {
      process.stdout.write(
        `# ${file.path} (mode ${file.mode.toString(8)})\n${file.secret ? '<the tunnel token; written at install, never printed>\n' : file.text}\n`,
      );
    }
    if (ca) process.stdout.write(`# ${ca}: a copy of ${tunnel.caFile}\n\n`);
    if (commands.length > 0)
      process.stdout.write(`# then:\n${commands.map((command) => command.join(' ')).join('\n')}\n`);
    if (refusal) throw refusal;
    return;
  }
  if (refusal) throw refusal;
  requireAdministrator(platform);
  mkdirSync(paths.dir, { recursive: true, mode: 0o755 });
  for (const file of files) {
    writeFileSync(file.path, file.text, { mode: file.mode });
    chmodSync(file.path, file.mode);
  }
  // The CA is public, and the service's unprivileged user reads it: a 0600 original stays 0600 in a copy.
  if (ca && tunnel.caFile) {
    copyFileSync(tunnel.caFile, ca);
    chmodSync(ca, 0o644);
  }
  // launchd runs the connector as nobody, who must be able to read its token.
  if (platform === 'darwin')
    chownSync(paths.secrets, Number(execFileSync('id', ['-u', 'nobody']).toString().trim()), -1);
  if (platform === 'win32') {
    say(`Wrote ${files.map((file) => file.path).join(', ')}. In an elevated prompt, run:\n\n  ${paths.definition}`);
    return;
  }
  for (const command of commands) run(command);
  say(
    `Installed ${serviceName(tunnel.name)}: the connector for ${tunnel.hostname} now starts at boot and restarts when it stops.`,
  );
}

export async function serviceUninstall(argv: string[]): Promise<void> {
  const { values } = parse(argv, OPTIONS, USAGE);
  if (values.help) return showUsage(USAGE);
  const { tunnel, platform, dryRun } = await prepare(values);
  const paths = servicePaths(platform, tunnel.name);
  const unit = `${serviceName(tunnel.name)}.service`;
  const commands =
    platform === 'linux'
      ? [['systemctl', 'disable', '--now', unit]]
      : platform === 'darwin'
        ? [['launchctl', 'bootout', `system/dev.airlock.${serviceName(tunnel.name)}`]]
        : [
            ['sc.exe', 'stop', serviceName(tunnel.name)],
            ['sc.exe', 'delete', serviceName(tunnel.name)],
          ];
  const files = [paths.definition, paths.secrets, paths.ca, ...(paths.config ? [paths.config] : [])];
  const after = platform === 'linux' ? [['systemctl', 'daemon-reload']] : [];
  if (dryRun || platform === 'win32') {
    process.stdout.write(
      `${[...commands.map((c) => c.join(' ')), ...files.map((file) => `remove ${file}`), ...after.map((c) => c.join(' '))].join('\n')}\n`,
    );
    return;
  }
  requireAdministrator(platform);
  for (const command of commands) run(command, true);
  for (const file of files) if (existsSync(file)) rmSync(file);
  for (const command of after) run(command);
  say(
    `Removed ${serviceName(tunnel.name)}. The tunnel and its route stay at the edge (\`airlock tunnel delete ${tunnel.name}\` removes them).`,
  );
}

/**
 * Why the unit (systemd: DynamicUser, PrivateTmp) or daemon (launchd: nobody) could not start with
 * this machine's node and airlock. Checked only for this machine's own platform: another
 * platform's dry run shows paths it will not use. The token and CA are copied to the service's
 * own directory, so only the programs can be out of the service user's reach.
 */
function startProblems(platform: ServicePlatform, spec: ServiceSpec): string[] {
  if (platform !== process.platform || platform === 'win32') return [];
  const reinstall = `install airlock where every user can read it, e.g. \`npm pack --ignore-scripts && sudo npm install -g ./airlock-${airlockVersion()}.tgz\` (under /usr/local), and run \`sudo XDG_CONFIG_HOME=$HOME/.config airlock service install\` again with that airlock`;
  const files: ServiceFile[] = [
    {
      path: realPath(spec.nodePath),
      use: 'execute',
      fix: "use a Node.js every user can run (the distribution's package, or one under /usr/local), first on PATH for `sudo`",
    },
    ...packageFilesOf(realPath(spec.airlockBin)).map((path) => ({ path, use: 'read' as const, fix: reinstall })),
  ];
  return serviceStartProblems(files, { privateTmp: platform === 'linux', modeOf: modeOnDisk });
}

async function prepare(values: Values): Promise<{ tunnel: LocalTunnel; platform: ServicePlatform; dryRun: boolean }> {
  const platform = (values.platform ?? process.platform) as ServicePlatform;
  if (!['linux', 'darwin', 'win32'].includes(platform))
    throw new AirlockError('BAD_ARGUMENT', `--platform must be linux, darwin or win32, got "${platform}"`);
  if (platform !== process.platform && !values['dry-run'])
    throw new AirlockError(
      'BAD_ARGUMENT',
      `--platform ${platform} differs from this machine (${process.platform}): add --dry-run`,
    );
  const tunnels = (await listTunnels()).filter(
    (tunnel) =>
      (!values.name || tunnel.name === values.name) && (!values.edge || tunnel.edge === new URL(values.edge).origin),
  );
  if (tunnels.length === 0) {
    throw new AirlockError(
      'BAD_ARGUMENT',
      `${values.name ? `no tunnel named ${values.name}` : 'no tunnel'} was published from this machine: run \`airlock tunnel --hostname HOST --url tcp://HOST:PORT\` first${sudoHint()}`,
    );
  }
  if (tunnels.length > 1)
    throw new AirlockError(
      'BAD_ARGUMENT',
      `several tunnels were published from this machine (${tunnels.map((t) => t.name).join(', ')}): pass --name`,
    );
  return { tunnel: tunnels[0]!, platform, dryRun: values['dry-run'] === true };
}

/** sudo usually resets HOME: the operator's files are then under their own home, not root's. */
function sudoHint(): string {
  return process.env.SUDO_USER && !process.env.XDG_CONFIG_HOME
    ? ` (under sudo, pass XDG_CONFIG_HOME=~${process.env.SUDO_USER}/.config: \`sudo XDG_CONFIG_HOME=$HOME/.config airlock service install\`)`
    : '';
}

function requireAdministrator(platform: ServicePlatform): void {
  if (platform !== 'win32' && process.getuid?.() !== 0) {
    throw new AirlockError(
      'ACCESS_DENIED',
      'installing a system service needs root: run `sudo XDG_CONFIG_HOME=$HOME/.config airlock service install` (or add --dry-run to see the files)',
    );
  }
}

function run(command: string[], tolerateFailure = false): void {
  try {
    execFileSync(command[0]!, command.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (error) {
    if (tolerateFailure) return;
    throw new AirlockError(
      'SERVICE_MANAGER_FAILED',
      `\`${command.join(' ')}\` failed (${(error as Error).message.split('\n')[0]}); the files are written, run it by hand once the service manager is available`,
    );
  }
}
