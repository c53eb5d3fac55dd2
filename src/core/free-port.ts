// A free local port, for listeners the user did not give a port to (discovery, `access tcp`
// without --url): the one suggested, or the next one after it that nothing listens on.
import net from 'node:net';
import { DEFAULTS } from '../shared/constants.js';

/** `from`, or the next port after it that is free on 127.0.0.1 and not in `taken` (100 tries); 0 when none. */
export async function firstFreePort(from: number, taken: ReadonlySet<number> = new Set()): Promise<number> {
  for (let port = from; port < Math.min(from + 100, 65536); port++) {
    if (taken.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, DEFAULTS.localHost, () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  return 0;
}
