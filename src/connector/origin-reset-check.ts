// Telling an origin's reset from its orderly end, which libuv can report alike.
import type net from 'node:net';
import { PassThrough } from 'node:stream';

/**
 * In a download's pipeline (plain or resumable): ends it with an error when the origin's end was a
 * reset. libuv reports a reset that arrives while unread data waits as a plain EOF (POLLHUP after
 * a partial read), so an origin dying under load looked like a clean close and the client logged
 * one (test/faults/processes.test.ts). A zero-length write tells them apart: after a FIN our side
 * is still open and it succeeds; after a reset it fails with ECONNRESET. Once our side has ended
 * there is nothing left to probe.
 */
export function unlessReset(origin: net.Socket): PassThrough {
  const check = new PassThrough();
  check._flush = (done) => {
    if (origin.destroyed || origin.writableEnded) return done();
    origin.write(Buffer.alloc(0), (error) => done(error ?? undefined));
  };
  return check;
}
