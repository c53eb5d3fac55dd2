// The `airlock` command: dispatch to subcommands, print errors as `[CODE] sentence`, exit with a code.
// Each command is imported only when run: the IdP alone would add a second to every start.
import { exitCodeFor, isAirlockError } from '../shared/errors.js';
import { describeFailure, nearest } from './args.js';
import { airlockVersion } from './version.js';

type Command = (argv: string[]) => Promise<void> | void;

const COMMANDS: Record<string, () => Promise<Command>> = {
  'access tcp': async () => (await import('./commands/access-tcp.js')).accessTcp,
  'access login': async () => (await import('./commands/access-login.js')).accessLogin,
  'access token': async () => (await import('./commands/access-login.js')).accessToken,
  'access logout': async () => (await import('./commands/access-logout-all.js')).accessLogoutCommand,
  'access ssh': async () => (await import('./commands/access-ssh.js')).accessSsh,
  'access ssh-config': async () => (await import('./commands/access-ssh.js')).accessSshConfig,
  'access profiles': async () => (await import('./commands/access-profiles.js')).accessProfiles,
  'access list': async () => (await import('./commands/access-list.js')).accessList,
  edge: async () => (await import('./commands/edge.js')).edgeCommand,
  'tunnel run': async () => (await import('./commands/tunnel.js')).tunnelRun,
  'tunnel create': async () => (await import('./commands/tunnel.js')).tunnelCreate,
  'tunnel login': async () => (await import('./commands/host.js')).tunnelLogin,
  'tunnel logout': async () => (await import('./commands/host.js')).tunnelLogout,
  'tunnel list': async () => (await import('./commands/host.js')).tunnelList,
  'tunnel delete': async () => (await import('./commands/host.js')).tunnelDelete,
  'route list': async () => (await import('./commands/host.js')).routeList,
  tunnel: async () => (await import('./commands/host.js')).tunnelPublish,
  'service install': async () => (await import('./commands/service.js')).serviceInstall,
  'service uninstall': async () => (await import('./commands/service.js')).serviceUninstall,
  'admin lock': async () => (await import('./commands/admin.js')).adminLock,
  'admin unlock': async () => (await import('./commands/admin.js')).adminUnlock,
  'admin locks': async () => (await import('./commands/admin.js')).adminLocks,
  'service-token create': async () => (await import('./commands/tunnel.js')).serviceTokenCreate,
  idp: async () => {
    const { runIdpCommand } = await import('../idp/command.js');
    return (argv) => runIdpCommand(argv);
  },
  ui: async () => (await import('./commands/ui.js')).uiCommand,
  demo: async () => (await import('./demo/run-demo.js')).runDemo,
};

const USAGE = `usage: airlock COMMAND [options]   (airlock COMMAND --help for details)

  access tcp            listen locally and tunnel each connection to a hostname on the edge
  access login HOST     sign in to HOST through the browser (single sign-on)
  access ssh --hostname HOST   one connection over stdin/stdout, for OpenSSH's ProxyCommand
  access ssh-config --hostname PATTERN   the ~/.ssh/config block that uses it
  access profiles       the edges remembered per host (later commands need only --hostname)
  access list           the applications an edge lets you reach (after one sign-in)
  access token --app HOST   print the token for HOST, for scripts
  access logout [HOST]  end the session and forget the token (--all: every edge)
  edge                  run the edge (policy, sign-in, routing)
  tunnel run            run a connector next to a private service
  tunnel create NAME    make a tunnel token and the edge.yaml line for it
  tunnel login --edge URL   sign in as an operator of an edge (browser); tunnel logout revokes it
  tunnel --hostname HOST --url tcp://HOST:PORT   publish a private port and run its connector
  tunnel list | route list | tunnel delete NAME   the tunnels and routes operators made
  service install|uninstall [--dry-run]   run the connector at boot (systemd, launchd, Windows)
  service-token create NAME   make a service token for scripts and CI
  admin lock|unlock|locks   lock a user or service token out at every edge (ends its connections)
  ui                    the Airlock window in a browser (saved resources, one-click connect)
  idp                   run the built-in OIDC provider (development and tests only)
  demo                  run the whole chain on this machine
  --version             the version of this airlock (compare it with the edge's)`;

function findCommand(argv: string[]): [() => Promise<Command>, string[]] | undefined {
  for (const words of [2, 1]) {
    const command = COMMANDS[argv.slice(0, words).join(' ')];
    if (command) return [command, argv.slice(words)];
  }
  return undefined;
}

async function main(argv: string[]): Promise<void> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version') {
    process.stdout.write(`airlock ${airlockVersion()} (Node.js ${process.versions.node})\n`);
    return;
  }
  const found = findCommand(argv);
  // `airlock admin`, `airlock access --help`: a group's own commands, not "unknown command".
  const group = Object.keys(COMMANDS).filter((name) => name.startsWith(`${argv[0]} `));
  if (!found && group.length > 0 && (argv.length === 1 || argv[1] === '--help' || argv[1] === '-h')) {
    const lines = USAGE.split('\n').filter((line) => line.trimStart().startsWith(`${argv[0]} `));
    const listing = `usage: airlock ${argv[0]} COMMAND [options]   (airlock ${argv[0]} COMMAND --help for details)\n\n${lines.join('\n')}\n`;
    if (argv.length > 1) return void process.stdout.write(listing);
    process.stderr.write(`airlock: [BAD_ARGUMENT] \`airlock ${argv[0]}\` needs a command\n\n${listing}`);
    process.exit(2);
  }
  if (!found) {
    const typed = argv.slice(0, argv[1]?.startsWith('-') === false ? 2 : 1).join(' ');
    const guess = nearest(typed, Object.keys(COMMANDS)) ?? nearest(argv[0]!, Object.keys(COMMANDS));
    const hint = guess ? `; did you mean \`airlock ${guess}\`?` : '';
    process.stderr.write(`airlock: [BAD_ARGUMENT] unknown command "${typed}"${hint}\n\n${USAGE}\n`);
    process.exit(2);
  }
  const [load, rest] = found;
  await (
    await load()
  )(rest);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (isAirlockError(error)) process.stderr.write(`airlock: ${describeFailure(error)}\n`);
  else process.stderr.write(`airlock: [UNEXPECTED] ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(exitCodeFor(error));
});
