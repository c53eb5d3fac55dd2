// `airlock admin lock|unlock|locks`: an operator locks a user or service token at every edge
// (docs/security.md "What ends when"): new streams and sign-ins refused, open streams ended.
import { adminRequest } from '../operator/admin-client.js';
import { operatorTarget, TARGET } from '../operator/operator-target.js';
import { parseDuration } from '../../shared/contract/duration.js';
import { AirlockError } from '../../shared/errors.js';
import { parse, say } from '../args.js';

const LOCK_USAGE = `usage: airlock admin lock EMAIL|SERVICE-TOKEN-ID [--until WHEN] [--reason TEXT] [--edge URL] [--ca FILE]

Refuses every new connection and sign-in of that user or service token at every edge, and ends the
ones open now (the user sees "revoked by an administrator"). WHEN is a date and time (ISO 8601,
e.g. 2026-12-31T17:00Z) or a duration from now (30m, 8h, 7d); without it the lock stays until
\`airlock admin unlock\`. You must be signed in as an operator (\`airlock tunnel login\`).`;

const UNLOCK_USAGE = 'usage: airlock admin unlock EMAIL|SERVICE-TOKEN-ID [--edge URL] [--ca FILE]';
const LOCKS_USAGE = 'usage: airlock admin locks [--edge URL] [--ca FILE]';

interface LockAnswer {
  identity: string;
  until?: string;
  reason?: string;
  by: string;
  at: string;
}

export async function adminLock(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    argv,
    { ...TARGET, until: { type: 'string' }, reason: { type: 'string' } },
    LOCK_USAGE,
  );
  if (values.help) return say(LOCK_USAGE);
  const identity = identityArgument(positionals, LOCK_USAGE);
  const until = values.until === undefined ? undefined : untilDate(values.until);
  const { lock } = await adminRequest<{ lock: LockAnswer }>(await operatorTarget(values), 'POST', 'locks', {
    identity,
    ...(until ? { until } : {}),
    ...(values.reason ? { reason: values.reason } : {}),
  });
  say(`Locked ${lock.identity}${lock.until ? ` until ${lock.until}` : ''}: its open connections are ended.`);
}

export async function adminUnlock(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, TARGET, UNLOCK_USAGE);
  if (values.help) return say(UNLOCK_USAGE);
  const identity = identityArgument(positionals, UNLOCK_USAGE);
  await adminRequest(await operatorTarget(values), 'DELETE', `locks/${encodeURIComponent(identity)}`);
  say(`Unlocked ${identity}.`);
}

export async function adminLocks(argv: string[]): Promise<void> {
  const { values } = parse(argv, TARGET, LOCKS_USAGE);
  if (values.help) return say(LOCKS_USAGE);
  const { locks } = await adminRequest<{ locks: LockAnswer[] }>(await operatorTarget(values), 'GET', 'locks');
  if (locks.length === 0) return say('No identity is locked.');
  for (const lock of locks)
    say(`${lock.identity}\tuntil ${lock.until ?? 'unlocked'}\tby ${lock.by}${lock.reason ? `\t${lock.reason}` : ''}`);
}

function identityArgument(positionals: string[], usage: string): string {
  const identity = positionals[0];
  if (!identity || positionals.length > 1)
    throw new AirlockError('BAD_ARGUMENT', `one EMAIL or SERVICE-TOKEN-ID is required\n\n${usage}`);
  return identity;
}

/** --until as an ISO date for the edge: a duration counts from now. */
function untilDate(text: string): string {
  const duration = parseDuration(text);
  const at = duration !== undefined ? Date.now() + duration : Date.parse(text);
  if (!Number.isFinite(at) || at <= Date.now())
    throw new AirlockError(
      'BAD_ARGUMENT',
      `--until "${text}" is neither a future date (ISO 8601) nor a duration like 8h`,
    );
  return new Date(at).toISOString();
}
