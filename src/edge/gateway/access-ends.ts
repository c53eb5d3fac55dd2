// Where access that ends at any edge reaches the streams open here (docs/security.md "What ends
// when"): a revoked session and a locked identity, as the revocation list and the locks announce them.
import { STREAM_END_REASON } from '../../shared/constants.js';
import type { Logger } from '../../shared/logger.js';
import type { Locks } from '../tokens/lock-list.js';
import type { Revocations } from '../tokens/revocation-list.js';
import type { OpenStreams } from './open-streams.js';

export function endStreamsWhenAccessEnds(
  openStreams: OpenStreams,
  { revoked, locks, log }: { revoked: Revocations; locks: Locks; log: Logger },
): void {
  revoked.onRevoked((sessionId) => {
    const ended = openStreams.endSession(sessionId, STREAM_END_REASON.signedOut);
    if (ended > 0) log.info({ event: 'streams-ended', reason: 'signed out', streams: ended }, 'session revoked');
  });
  locks.onLocked((lock) => {
    const ended = openStreams.endIdentity(lock.identity, STREAM_END_REASON.locked);
    log.info({ event: 'identity-locked', who: lock.identity, by: lock.by, streams: ended }, 'identity locked');
  });
}
