// The admin API's locks (docs/security.md "What ends when"):
//   GET    locks                              → { locks: [{ identity, until?, reason?, by, at }] }
//   POST   locks {identity, until?, reason?}  → 201 { lock } (new streams and sign-ins refused, open ones ended)
//   DELETE locks/IDENTITY                     → { unlocked: true } | 404
import type { IncomingMessage } from 'node:http';
import type { JsonAnswer } from '../http/json-answer.js';
import { decodePathSegment, readObjectBody } from '../http/request-body.js';
import { parseLockRequest, type Lock, type Locks } from '../tokens/lock-list.js';

/** The answer for a locks request, or undefined when `path` is not one. */
export async function lockRoutes(
  locks: Locks,
  req: IncomingMessage,
  path: string,
  operator: string,
): Promise<{ status: number; body: JsonAnswer; target?: string } | undefined> {
  const method = req.method ?? 'GET';
  if (path === 'locks' && method === 'GET') return { status: 200, body: { locks: locks.list().map(describe) } };
  if (path === 'locks' && method === 'POST') {
    const lock = parseLockRequest(await readObjectBody(req), operator, Date.now());
    await locks.lock(lock);
    return { status: 201, body: { lock: describe(lock) }, target: lock.identity };
  }
  if (path.startsWith('locks/') && method === 'DELETE') {
    const identity = decodePathSegment(path.slice('locks/'.length), 'the identity');
    if (await locks.unlock(identity)) return { status: 200, body: { unlocked: true }, target: identity };
    return { status: 404, body: { error: 'not_found', message: `${identity} is not locked` }, target: identity };
  }
  return undefined;
}

function describe(lock: Lock) {
  return {
    identity: lock.identity,
    ...(lock.until !== undefined ? { until: new Date(lock.until).toISOString() } : {}),
    ...(lock.reason ? { reason: lock.reason } : {}),
    by: lock.by,
    at: new Date(lock.at).toISOString(),
  };
}
