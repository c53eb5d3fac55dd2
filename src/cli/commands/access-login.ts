// `airlock access login HOST`, `access token --app HOST`, `access logout [HOST]`.
import { resolveEdgeTarget } from '../../core/edge-target.js';
import { createAppSession } from '../../core/sign-in.js';
import { AirlockError } from '../../shared/errors.js';
import { openSystemBrowser } from '../browser.js';
import { parse, say } from '../args.js';
import { cliTokenStore, describeToken } from '../token-output.js';

const TARGET_OPTIONS = { edge: { type: 'string' }, ca: { type: 'string' } } as const;

function sessionFor(hostname: string | undefined, values: { edge?: string; ca?: string }, usage: string) {
  if (!hostname) throw new AirlockError('BAD_ARGUMENT', `HOST is required\n\n${usage}`);
  const target = resolveEdgeTarget({ hostname: hostname.toLowerCase(), ...(values.edge ? { edge: values.edge } : {}), ...(values.ca ? { caFile: values.ca } : {}) });
  return createAppSession({ target, store: cliTokenStore(), openBrowser: openSystemBrowser, print: say });
}

const LOGIN_USAGE = `usage: airlock access login HOST [--edge URL] [--ca FILE]

Signs in to HOST through the system browser (or prints the URL when there is none) and keeps
the token in the OS keychain.`;

export async function accessLogin(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, TARGET_OPTIONS, LOGIN_USAGE);
  if (values.help) return say(LOGIN_USAGE);
  const token = await sessionFor(positionals[0], values, LOGIN_USAGE).ensureSignedIn();
  say(`Signed in to ${positionals[0]}${describeToken(token)}.`);
}

const TOKEN_USAGE = `usage: airlock access token --app HOST [--edge URL] [--ca FILE]

Prints the stored token for HOST on stdout, for scripts (e.g. curl -H "cf-access-token: $(airlock access token --app HOST)").
Signs in first when there is no valid token.`;

export async function accessToken(argv: string[]): Promise<void> {
  const { values } = parse(argv, { ...TARGET_OPTIONS, app: { type: 'string' } }, TOKEN_USAGE);
  if (values.help) return say(TOKEN_USAGE);
  const token = await sessionFor(values.app, values, TOKEN_USAGE).ensureSignedIn();
  process.stdout.write(`${token}\n`);
}

const LOGOUT_USAGE = `usage: airlock access logout [HOST] [--edge URL] [--ca FILE]

Ends the session at the edge and forgets the token for HOST; without HOST, forgets every stored token.`;

export async function accessLogout(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, TARGET_OPTIONS, LOGOUT_USAGE);
  if (values.help) return say(LOGOUT_USAGE);
  if (!positionals[0]) {
    await cliTokenStore().clear();
    say('Forgot every stored token (sessions at the edges end when they expire).');
    return;
  }
  const revoked = await sessionFor(positionals[0], values, LOGOUT_USAGE).signOut();
  say(revoked ? `Signed out of ${positionals[0]}: the session is revoked at the edge.` : `Forgot the token for ${positionals[0]}.`);
}
