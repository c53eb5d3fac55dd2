// A loopback TCP proxy that can black-hole its path: paused, it forwards nothing either way and
// closes nothing (new connections are accepted and held), like a dead Wi-Fi or a NAT that lost
// its mapping; unpaused, everything held flows again. It can also cut every connection through it
// (a reset to both sides, like `ss -K`). For client-side network faults.
import net from 'node:net';

export interface PausableProxy {
  port: number;
  pause(): void;
  unpause(): void;
  /** Resets every connection through the proxy, both sides; later connections pass as before. */
  cut(): number;
  close(): Promise<void>;
}

export async function startPausableProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<PausableProxy> {
  let paused = false;
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (paused) socket.pause();
  };
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    track(client);
    const upstream = net.connect({ port: targetPort, host: targetHost, allowHalfOpen: true });
    track(upstream);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      from.on('data', (chunk: Buffer) => to.write(chunk));
      from.on('end', () => to.end());
      from.on('close', () => to.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    // A paused socket is not read: its bytes, its FIN, wait in the kernel until unpause.
    pause() {
      paused = true;
      for (const socket of sockets) socket.pause();
    },
    unpause() {
      paused = false;
      for (const socket of sockets) socket.resume();
    },
    cut() {
      const count = sockets.size;
      for (const socket of sockets) socket.resetAndDestroy();
      return count;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
