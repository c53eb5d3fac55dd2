// `airlock access login HOST`, `access token --app HOST`, `access logout [HOST]`.
import { resolveEdgeTarget } from '../../core/edge-target.js';
import { createAppSession } from '../../core/sign-in.js';
import { AirlockError } from '../../shared/errors.js';
import { openSystemBrowser } from '../browser.js';
import { parse, say, showUsage } from '../args.js';
import { cliTokenStore, describeSignIn } from '../token-output.js';
import { rememberTarget, targetOptions } from '../edge-profiles.js';

const TARGET_OPTIONS = { edge: { type: 'string' }, ca: { type: 'string' } } as const;
// `access tcp` and `access ssh` name the app with --hostname; login and logout accept it too, so a
// user need not remember which command takes it as an argument.
const HOST_OPTIONS = { ...TARGET_OPTIONS, hostname: { type: 'string' } } as const;

/** HOST from the argument or --hostname; both given must agree. */
function hostArgument(positionals: string[], values: { hostname?: string }, usage: string): string | undefined {
  const [positional] = positionals;
  if (positional && values.hostname && positional.toLowerCase() !== values.hostname.toLowerCase())
    throw new AirlockError(
      'BAD_ARGUMENT',
      `two hosts given (${positional} and --hostname ${values.hostname})\n\n${usage}`,
    );
  return positional ?? values.hostname;
}

async function sessionFor(hostname: string | undefined, values: { edge?: string; ca?: string }, usage: string) {
  if (!hostname) throw new AirlockError('BAD_ARGUMENT', `HOST is required\n\n${usage}`);
  const target = resolveEdgeTarget(await targetOptions(hostname.toLowerCase(), values));
  return createAppSession({ target, store: cliTokenStore(), openBrowser: openSystemBrowser, print: say });
}

const LOGIN_USAGE = `usage: airlock access login HOST [--edge URL] [--ca FILE]
       (--hostname HOST works in place of HOST)

With --edge or --ca, a successful sign-in remembers them for HOST (\`airlock access profiles\`).

Signs in to HOST and keeps the token in the OS keychain. The first app of an edge opens the
system browser (or prints the URL when there is none); every other app of the same edge is
signed in with the session that sign-in started, without a browser.`;

export async function accessLogin(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, HOST_OPTIONS, LOGIN_USAGE);
  if (values.help) return showUsage(LOGIN_USAGE);
  const host = hostArgument(positionals, values, LOGIN_USAGE);
  const session = await sessionFor(host, values, LOGIN_USAGE);
  const token = await session.ensureSignedIn();
  await rememberTarget(host!.toLowerCase(), values);
  say(describeSignIn(host!, token, session));
}

const TOKEN_USAGE = `usage: airlock access token --app HOST [--edge URL] [--ca FILE]
       airlock access token --where

Prints the stored token for HOST on stdout, for scripts (e.g. curl -H "cf-access-token: $(airlock access token --app HOST)").
Signs in first when there is no valid token.
  --where   say where tokens are stored instead: the OS keychain, or the file used without one`;

export async function accessToken(argv: string[]): Promise<void> {
  const { values } = parse(
    argv,
    { ...TARGET_OPTIONS, app: { type: 'string' }, where: { type: 'boolean' } },
    TOKEN_USAGE,
  );
  if (values.help) return showUsage(TOKEN_USAGE);
  if (values.where) {
    const { detail } = await cliTokenStore().describe();
    process.stdout.write(`Sign-in tokens are stored in ${detail}.\n`);
    return;
  }
  const token = await (await sessionFor(values.app, values, TOKEN_USAGE)).ensureSignedIn();
  process.stdout.write(`${token}\n`);
}

const LOGOUT_USAGE = `usage: airlock access logout [HOST] [--edge URL] [--ca FILE]
       (--hostname HOST works in place of HOST)

Ends your session at HOST's edge (every app of that edge signs in again) and forgets its tokens;
without HOST, forgets every stored token. \`--all\` also signs out at every edge first.`;

export async function accessLogout(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, HOST_OPTIONS, LOGOUT_USAGE);
  if (values.help) return showUsage(LOGOUT_USAGE);
  const host = hostArgument(positionals, values, LOGOUT_USAGE);
  if (!host) {
    await cliTokenStore().clear();
    say('Forgot every stored token (sessions at the edges end when they expire).');
    return;
  }
  const session = await sessionFor(host, values, LOGOUT_USAGE);
  const revoked = await session.signOut();
  const edge = session.signInOrigin() ? new URL(session.signInOrigin()!).host : host;
  say(
    revoked
      ? `Signed out of ${edge}: the session is revoked at the edge, for ${host} and every other app it signed in to.`
      : `Forgot the tokens for ${edge}.`,
  );
}
