// TLS connections to one edge, made ahead of need. Connections to a resource come in bursts (an
// ssh ControlMaster plus scp, a database pool, a browser's parallel requests), and a new TLS
// connection is most of the client's share of connect time: about 1.6 ms of CPU here (socket
// set-up, session parse, key exchange) plus a round trip. After each connection is taken, one
// more is opened in the background and kept for a few seconds, so the next connection only sends
// its WebSocket upgrade. Nothing is sent on a spare connection until it is used: no token, no
// request. At most one spare per edge target exists, and none once the burst is over.
import tls from 'node:tls';
import type { EdgeTarget } from './edge-target.js';

/** How long a spare connection waits to be used; well under the edge's 10 s handshake timeout. */
export const SPARE_IDLE_MS = 3_000;

export interface EdgeConnections {
  /**
   * A connection for one tunnel: the spare if there is a usable one (unless `fresh`), else a new
   * connection. Opens the next spare afterwards while the edge has been answering.
   */
  take(options?: { fresh?: boolean }): { socket: tls.TLSSocket; spare: boolean };
  /** What became of a dial: spares are kept only while the edge answers (none while it is down). */
  report(opened: boolean): void;
  /** Closes the spare, if any (the listener stopped, or the app is quitting). */
  close(): void;
}

interface Spare {
  socket: tls.TLSSocket;
  timer: NodeJS.Timeout;
}

export function edgeConnections(target: EdgeTarget, options: { idleMs?: number } = {}): EdgeConnections {
  const idleMs = options.idleMs ?? SPARE_IDLE_MS;
  // Building a context (parsing --ca, loading the root store) costs about a millisecond: once per target.
  const secureContext = tls.createSecureContext(target.ca ? { ca: target.ca } : {});
  const { host, port } = target;
  // The last TLS session the edge gave us: resuming it skips the certificate exchange and check.
  let session: Buffer | undefined;
  let spare: Spare | undefined;

  const connect = (): tls.TLSSocket => {
    const socket = tls.connect({
      host,
      port,
      servername: target.servername || undefined,
      secureContext,
      ...(session ? { session } : {}),
    });
    // Frames are written whole and often small (a keystroke): Nagle would hold them for an ACK.
    socket.setNoDelay(true);
    socket.on('session', (ticket: Buffer) => (session = ticket));
    return socket;
  };

  const dropSpare = () => {
    if (!spare) return;
    clearTimeout(spare.timer);
    spare.socket.destroy();
    spare = undefined;
  };

  let closed = false;
  let answering = true;
  const openSpare = () => {
    if (spare || closed || !answering) return;
    const socket = connect();
    // A spare that fails (edge down, certificate refused) is dropped quietly: the next real
    // connection dials afresh and reports the failure to whoever asked for it.
    const forget = () => {
      if (spare?.socket !== socket) return;
      clearTimeout(spare.timer);
      spare = undefined;
    };
    socket.on('error', () => socket.destroy());
    socket.once('close', forget);
    const timer = setTimeout(dropSpare, idleMs);
    timer.unref();
    socket.unref(); // a spare alone never keeps the process running
    spare = { socket, timer };
  };

  return {
    take(options = {}) {
      const ready = spare;
      // A spare the edge has already ended (FIN read, not yet destroyed) is no use either.
      const usable =
        ready !== undefined && !ready.socket.destroyed && ready.socket.writable && !ready.socket.readableEnded;
      if (ready && !usable) dropSpare();
      let result: { socket: tls.TLSSocket; spare: boolean };
      if (!options.fresh && ready && usable) {
        clearTimeout(ready.timer);
        spare = undefined;
        ready.socket.ref(); // its quiet 'error' handler stays: the request adds its own next tick
        result = { socket: ready.socket, spare: true };
      } else {
        result = { socket: connect(), spare: false };
      }
      // After this turn: making a TLS socket costs about a millisecond of CPU, which must not
      // delay the upgrade request the caller writes on the connection it was just given.
      setImmediate(openSpare);
      return result;
    },
    report(opened) {
      answering = opened;
      if (!opened) dropSpare();
    },
    close() {
      closed = true;
      dropSpare();
    },
  };
}
