// `airlock access login HOST`, `access token --app HOST`, `access logout [HOST]`.
import { resolveEdgeTarget } from '../../core/edge-target.js';
import { createAppSession } from '../../core/sign-in.js';
import { AirlockError } from '../../shared/errors.js';
import { openSystemBrowser } from '../browser.js';
import { parse, say, showUsage } from '../args.js';
import { cliTokenStore, describeSignIn } from '../token-output.js';
import { rememberTarget, targetOptions } from '../edge-profiles.js';

const TARGET_OPTIONS = { edge: { type: 'string' }, ca: { type: 'string' } } as const;

async function sessionFor(hostname: string | undefined, values: { edge?: string; ca?: string }, usage: string) {
  if (!hostname) throw new AirlockError('BAD_ARGUMENT', `HOST is required\n\n${usage}`);
  const target = resolveEdgeTarget(await targetOptions(hostname.toLowerCase(), values));
  return createAppSession({ target, store: cliTokenStore(), openBrowser: openSystemBrowser, print: say });
}

const LOGIN_USAGE = `usage: airlock access login HOST [--edge URL] [--ca FILE]

With --edge or --ca, a successful sign-in remembers them for HOST (\`airlock access profiles\`).

Signs in to HOST and keeps the token in the OS keychain. The first app of an edge opens the
system browser (or prints the URL when there is none); every other app of the same edge is
signed in with the session that sign-in started, without a browser.`;

export async function accessLogin(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, TARGET_OPTIONS, LOGIN_USAGE);
  if (values.help) return showUsage(LOGIN_USAGE);
  const session = await sessionFor(positionals[0], values, LOGIN_USAGE);
  const token = await session.ensureSignedIn();
  await rememberTarget(positionals[0]!.toLowerCase(), values);
  say(describeSignIn(positionals[0]!, token, session));
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

Ends your session at HOST's edge (every app of that edge signs in again) and forgets its tokens;
without HOST, forgets every stored token. \`--all\` also signs out at every edge first.`;

export async function accessLogout(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, TARGET_OPTIONS, LOGOUT_USAGE);
  if (values.help) return showUsage(LOGOUT_USAGE);
  if (!positionals[0]) {
    await cliTokenStore().clear();
    say('Forgot every stored token (sessions at the edges end when they expire).');
    return;
  }
  const session = await sessionFor(positionals[0], values, LOGOUT_USAGE);
  const revoked = await session.signOut();
  const edge = session.signInOrigin() ? new URL(session.signInOrigin()!).host : positionals[0];
  say(
    revoked
      ? `Signed out of ${edge}: the session is revoked at the edge, for ${positionals[0]} and every other app it signed in to.`
      : `Forgot the tokens for ${edge}.`,
  );
}
