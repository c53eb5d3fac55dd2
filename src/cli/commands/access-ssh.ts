// `airlock access ssh --hostname H` (OpenSSH's ProxyCommand: one connection over stdin/stdout) and
// `airlock access ssh-config` (the ssh_config block that runs it), as cloudflared offers them.
import { resolve } from 'node:path';
import { parseHeaderArgument } from '../../core/credentials.js';
import { resolveEdgeTarget } from '../../core/edge-target.js';
import { createAppSession } from '../../core/sign-in.js';
import { carryOverTunnel } from '../../core/stdio-tunnel.js';
import { sshConfigBlock } from '../../shared/contract/ssh-config.js';
import { openSystemBrowser } from '../browser.js';
import { parse, required, say, showUsage } from '../args.js';
import { cliTokenStore, describeSignIn } from '../token-output.js';
import { targetOptions } from '../edge-profiles.js';
import { accessTcpOptions, credentialFromFlags, explainRefusal } from './access-tcp.js';

const SSH_USAGE = `usage: airlock access ssh --hostname HOST [--edge URL] [--ca FILE] [options]

Carries one connection to HOST over stdin and stdout, for OpenSSH's ProxyCommand
(\`airlock access ssh-config\` prints the ssh_config block). Signs in first when needed: the
sign-in URL goes to stderr, which ssh shows. Takes the credential options of \`access tcp\`
(--service-token-id, --service-token-secret-file, --token-file, --header).`;

const { url: _url, 'allow-remote': _allowRemote, 'no-resume': _noResume, ...sshOptions } = accessTcpOptions;

export async function accessSsh(argv: string[]): Promise<void> {
  const { values } = parse(argv, sshOptions, SSH_USAGE);
  if (values.help) return showUsage(SSH_USAGE);
  const hostname = required(values.hostname, '--hostname', SSH_USAGE).toLowerCase();
  const target = resolveEdgeTarget(await targetOptions(hostname, values));
  const headers = Object.fromEntries((values.header ?? []).map(parseHeaderArgument));
  const credential = credentialFromFlags(values);
  // stdout belongs to ssh's protocol: every word for the user goes to stderr (say).
  if (credential.kind === 'none') {
    const session = createAppSession({
      target,
      store: cliTokenStore(),
      openBrowser: openSystemBrowser,
      print: say,
      headers,
    });
    const token = await session.ensureSignedIn();
    if (session.lastSignIn() !== 'stored') say(describeSignIn(hostname, token, session));
    await carryOverTunnel({
      target,
      headers,
      credential: () => session.credential(),
      onAuthRequired: (error) => session.onAuthRequired(error),
      input: process.stdin,
      output: process.stdout,
    });
  } else {
    try {
      await carryOverTunnel({
        target,
        headers,
        credential: async () => credential,
        input: process.stdin,
        output: process.stdout,
      });
    } catch (error) {
      throw explainRefusal(error, credential, hostname);
    }
  }
  // stdin may still be open (ssh closes it last): the session is over when the far end is done.
  process.exit(0);
}

const CONFIG_USAGE = `usage: airlock access ssh-config --hostname PATTERN [--edge URL] [--ca FILE]

Prints the ssh_config block that reaches hosts matching PATTERN (a hostname, or e.g.
*.example.com) through \`airlock access ssh\`. Add it to ~/.ssh/config, then \`ssh user@HOST\`.`;

export async function accessSshConfig(argv: string[]): Promise<void> {
  const { values } = parse(
    argv,
    { hostname: { type: 'string' }, edge: { type: 'string' }, ca: { type: 'string' } },
    CONFIG_USAGE,
  );
  if (values.help) return showUsage(CONFIG_USAGE);
  const hostPattern = required(values.hostname, '--hostname', CONFIG_USAGE);
  const extraArguments = [
    ...(values.edge ? ['--edge', values.edge] : []),
    ...(values.ca ? ['--ca', resolve(values.ca)] : []),
  ];
  // The same Node and launcher as this run: ssh starts it without our PATH or shell set-up.
  const command = [process.execPath, resolve(process.argv[1]!)];
  say('Add this to ~/.ssh/config (it names this airlock by its full path):');
  process.stdout.write(sshConfigBlock({ hostPattern, command, extraArguments }));
}
