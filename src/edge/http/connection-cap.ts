// A per-address cap on open connections keeps one client from exhausting the edge. Counted at TCP
// accept, so connections that never finish the TLS handshake count as well.
import type { Server, Socket } from 'node:net';
import type { Logger } from '../../shared/logger.js';
import { clientAddress } from './proxy-protocol.js';

/** Refuses a connection past `max` from one address; returns the open ones, for closing at stop. */
export function capConnectionsPerAddress(server: Server, max: number, log: Logger): ReadonlySet<Socket> {
  const sockets = new Set<Socket>();
  const perAddress = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const ip = clientAddress(socket);
    const open = (perAddress.get(ip) ?? 0) + 1;
    if (open > max) {
      log.warn({ ip, open }, 'per-address connection limit reached');
      socket.destroy();
      return;
    }
    perAddress.set(ip, open);
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      const left = (perAddress.get(ip) ?? 1) - 1;
      if (left <= 0) perAddress.delete(ip);
      else perAddress.set(ip, left);
    });
  });
  return sockets;
}
