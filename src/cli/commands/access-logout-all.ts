// `airlock access logout --all`: sign out of every edge this machine holds a token for; the
// sessions are revoked at their edges (their open streams end there) and every token is forgotten.
import { readFileSync } from 'node:fs';
import { dialByName } from '../../core/edge-http.js';
import { signOutEverywhere } from '../../core/sign-out-everywhere.js';
import { AirlockError } from '../../shared/errors.js';
import { parse, say } from '../args.js';
import { cliTokenStore } from '../token-output.js';
import { accessLogout } from './access-login.js';

const USAGE = `usage: airlock access logout --all [--ca FILE]

Signs out everywhere: revokes at each edge every session a stored token belongs to (the
connections open under them end, showing "signed out") and forgets every stored token.`;

/** `access logout`: with --all, every edge; otherwise one HOST (access-login.ts). */
export async function accessLogoutCommand(argv: string[]): Promise<void> {
  if (!argv.includes('--all')) return accessLogout(argv);
  const { values } = parse(argv, { all: { type: 'boolean' }, ca: { type: 'string' } }, USAGE);
  if (values.help) return say(USAGE);
  const ca = values.ca ? readCa(values.ca) : undefined;
  const results = await signOutEverywhere({ store: cliTokenStore(), dialFor: () => dialByName(ca) });
  if (results.length === 0) return say('No live session is stored; forgot every stored token.');
  for (const { edge, revoked, error } of results)
    say(
      error
        ? `${edge}: could not reach the edge to sign out (${error}); its tokens are forgotten here.`
        : `Signed out of ${edge} (${revoked} session${revoked === 1 ? '' : 's'} revoked).`,
    );
}

function readCa(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new AirlockError('BAD_ARGUMENT', `cannot read --ca ${file}: ${(error as Error).message}`);
  }
}
