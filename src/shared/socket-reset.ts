// Ending a TCP socket with a RST, so its peer sees a failure rather than an orderly end (a cut
// transfer must never look complete), and telling a reset from a FIN. Shared by the client and
// the connector.
import type { Socket } from 'node:net';
import { PassThrough, type Writable } from 'node:stream';

/**
 * Resets `socket` (RST). libuv refuses a reset once the socket's FIN has been requested (EINVAL,
 * and the handle would then never close): such a socket is destroyed instead, its FIN being out.
 */
export function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.writableEnded) socket.destroy();
  else socket.resetAndDestroy();
}

/**
 * In a pipeline that reads `socket`: ends it with an error when the socket's end was a reset.
 * libuv reports a reset that arrives while unread data waits as a plain EOF (POLLHUP after a
 * partial read), so a program or an origin dying under load looked like a clean end and was
 * passed on as one (test/faults/processes.test.ts, test/multi-edge/relay-upload-ends.test.ts).
 * A zero-length write tells them apart: after a FIN our side is still open and it succeeds; after
 * a reset it fails with ECONNRESET. Once our side has ended there is nothing left to probe.
 */
export function unlessReset(socket: Socket): PassThrough {
  const check = new PassThrough();
  check._flush = (done) => {
    if (socket.destroyed || socket.writableEnded) return done();
    socket.write(Buffer.alloc(0), (error) => done(error ?? undefined));
  };
  return check;
}

/**
 * The same check as unlessReset without a stage in the data path: `destination`'s end (its _final,
 * which sends a FIN, an end marker or a FIN frame) goes ahead only once a zero-length write to
 * `socket`, whose EOF it follows, has succeeded; after a reset it fails, and so does the stream.
 */
export function endOnlyAfterFin(destination: Writable, socket: Socket): void {
  const final = destination._final?.bind(destination);
  destination._final = (callback) => {
    const proceed = () => (final ? final(callback) : callback());
    if (socket.destroyed || socket.writableEnded) return proceed();
    socket.write(Buffer.alloc(0), (error) => (error ? callback(error) : proceed()));
  };
}
