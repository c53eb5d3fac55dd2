// One tunnel carried over a pair of streams instead of a local port: what OpenSSH's ProxyCommand
// needs (`airlock access ssh`), where ssh itself talks to our stdin and stdout.
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AirlockError, isAirlockError } from '../shared/errors.js';
import { webSocketStream } from '../shared/websocket-stream.js';
import { credentialHeaders, type Credential } from './credentials.js';
import type { EdgeTarget } from './edge-target.js';
import { dialTunnel, releaseEdgeConnections } from './tunnel-dial.js';

export interface StdioTunnelOptions {
  target: EdgeTarget;
  headers?: Record<string, string>;
  credential: () => Promise<Credential>;
  /** The edge asked for a sign-in: get a new credential; the dial is then tried once more. */
  onAuthRequired?: (error: AirlockError) => Promise<void>;
  input: Readable;
  output: Writable;
}

/** Resolves when the far end has finished sending (the session is over); rejects if the tunnel breaks. */
export async function carryOverTunnel(options: StdioTunnelOptions): Promise<void> {
  const { target, input, output } = options;
  const dial = async () =>
    dialTunnel({ target, headers: { ...options.headers, ...credentialHeaders(await options.credential()) } });
  let opened;
  try {
    opened = await dial();
  } catch (error) {
    if (!isAirlockError(error) || error.code !== 'AUTH_REQUIRED' || !options.onAuthRequired) throw error;
    await options.onAuthRequired(error);
    opened = await dial();
  }
  const tunnel = webSocketStream(opened.ws, opened.socket, { halfClose: opened.halfClose });
  // Our input ending (ssh closing its end) is a half-close, not the end of the session.
  input.pipe(tunnel);
  input.once('error', (error) => tunnel.destroy(error));
  try {
    await pipeline(tunnel, output, { end: false });
  } catch (error) {
    throw new AirlockError('ORIGIN_FAILED', `tunnel closed: ${(error as Error).message}`);
  } finally {
    input.unpipe(tunnel);
    releaseEdgeConnections(target);
  }
}
