// Ending a socket with a reset (RST) so a cut transfer never looks complete, where TCP still can.
import type net from 'node:net';

/**
 * resetAndDestroy() once our side has sent its FIN (end() called) fails with EINVAL: libuv refuses
 * uv_tcp_close_reset after uv_shutdown, and Node then never closes the handle (a leaked
 * descriptor, and a process spinning at exit). The peer already has our FIN then; destroy it.
 */
export function resetSocket(socket: net.Socket): void {
  if (socket.destroyed) return;
  if (socket.writableEnded) socket.destroy();
  else socket.resetAndDestroy();
}
