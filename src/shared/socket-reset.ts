// Ending a TCP socket with a RST, so its peer sees a failure rather than an orderly end (a cut
// transfer must never look complete). Shared by the client and the connector.
import type { Socket } from 'node:net';

/**
 * Resets `socket` (RST). libuv refuses a reset once the socket's FIN has been requested (EINVAL,
 * and the handle would then never close): such a socket is destroyed instead, its FIN being out.
 */
export function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.writableEnded) socket.destroy();
  else socket.resetAndDestroy();
}
