// The bench origin, run as its own process: an echo server, a source that sends as fast as the
// reader takes, and a sink that reads at a fixed rate (or as fast as possible with rate 0).
// Prints one JSON line with the ports, then serves until SIGTERM.
import net from 'node:net';

const SINK_RATE = Number(process.argv[2] ?? 1024 * 1024); // bytes per second the sink reads

function listen(onSocket: (socket: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => {});
    onSocket(socket);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const port = (server: net.Server) => (server.address() as net.AddressInfo).port;

const echo = await listen((socket) => socket.pipe(socket));

const chunk = Buffer.alloc(64 * 1024, 0x5a);
const source = await listen((socket) => {
  const pump = () => {
    while (!socket.destroyed && socket.write(chunk));
  };
  socket.on('drain', pump);
  socket.on('data', () => {}); // the reader may say something; ignore it
  pump();
});

const fastSink = await listen((socket) => socket.resume());

const sink = await listen((socket) => {
  const started = Date.now();
  let received = 0;
  socket.on('data', (data: Buffer) => {
    received += data.length;
    const aheadMs = (received / SINK_RATE) * 1000 - (Date.now() - started);
    if (aheadMs > 0) {
      socket.pause();
      setTimeout(() => socket.resume(), aheadMs);
    }
  });
});

process.stdout.write(
  `${JSON.stringify({ echo: port(echo), source: port(source), sink: port(sink), fastSink: port(fastSink) })}\n`,
);
process.on('SIGTERM', () => process.exit(0));
