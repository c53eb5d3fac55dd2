// A TCP proxy on loopback that can black-hole what it carries, as a failover that drops
// connections silently does: stall() stops forwarding without closing anything (the connections
// open at that moment stay dead for good, their bytes dropped), and resume() forwards new ones
// again. No root, no firewall rules.
import net from 'node:net';

export interface StallProxy {
  port: number;
  /** Black-holes every open connection and every new one until resume(). */
  stall(): void;
  /** New connections are forwarded again; the stalled ones stay dead. */
  resume(): void;
  /** Connections that are open and black-holed now. */
  stalledCount(): number;
  close(): Promise<void>;
}

export async function startStallProxy(upstream: { host: string; port: number }): Promise<StallProxy> {
  let stalled = false;
  const live = new Set<{ client: net.Socket; server: net.Socket }>();
  const dead = new Set<net.Socket>();
  const blackHole = (client: net.Socket) => {
    client.unpipe();
    client.removeAllListeners('data');
    client.on('data', () => undefined); // read and dropped: the peer sees an open, silent connection
    client.on('error', () => undefined);
    dead.add(client);
    client.once('close', () => dead.delete(client));
  };
  const server = net.createServer((client) => {
    client.on('error', () => undefined);
    if (stalled) return blackHole(client);
    const upstreamSocket = net.connect(upstream.port, upstream.host);
    const pair = { client, server: upstreamSocket };
    live.add(pair);
    upstreamSocket.on('error', () => client.destroy());
    client.on('close', () => (live.delete(pair), upstreamSocket.destroy()));
    upstreamSocket.on('close', () => {
      live.delete(pair);
      if (!dead.has(client)) client.destroy();
    });
    client.pipe(upstreamSocket);
    upstreamSocket.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    stall() {
      stalled = true;
      for (const pair of [...live]) {
        live.delete(pair);
        // The old primary is gone: its side ends; the client's side hears nothing, ever.
        pair.server.unpipe();
        blackHole(pair.client);
        pair.server.destroy();
      }
    },
    resume() {
      stalled = false;
    },
    stalledCount: () => dead.size,
    async close() {
      for (const pair of live) (pair.client.destroy(), pair.server.destroy());
      for (const socket of dead) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
