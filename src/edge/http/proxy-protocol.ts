// The client's real address behind a TCP load balancer: PROXY protocol version 2 (HAProxy's
// proxy-protocol.txt §2.2), read before TLS, from the addresses in edge.yaml `trustedProxies` only.
// A trusted peer must send a valid header; anyone else's bytes go to TLS untouched, so a header
// from an untrusted address is never honoured (the handshake just fails).
import net from 'node:net';
import type { Logger } from '../../shared/logger.js';
import { cidrMatcher, normaliseAddress } from '../config/cidr.js';

/** §2.2: the 12-byte signature that starts every version 2 header. */
const SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const FIXED = 16;
/** A header is at most 16 + 65535 bytes; HAProxy's with TLVs are a few hundred. Larger is refused. */
const MAX_HEADER = 4_096;

export type ProxyHeader =
  | { kind: 'incomplete' }
  | { kind: 'invalid'; reason: string }
  /** `source` absent: LOCAL (the balancer's own health check) or an unspecified family: use the real peer. */
  | { kind: 'header'; length: number; source?: { address: string; port: number } };

/** Parses a PROXY v2 header at the start of `data` (pure: the functional core of this file). */
export function parseProxyHeader(data: Buffer): ProxyHeader {
  const prefix = data.subarray(0, Math.min(data.length, SIGNATURE.length));
  if (!prefix.equals(SIGNATURE.subarray(0, prefix.length))) return { kind: 'invalid', reason: 'no PROXY v2 signature' };
  if (data.length < FIXED) return { kind: 'incomplete' };
  const version = data[12]! >> 4;
  const command = data[12]! & 0x0f;
  if (version !== 2) return { kind: 'invalid', reason: `PROXY protocol version ${version}` };
  if (command > 1) return { kind: 'invalid', reason: `unknown PROXY command ${command}` };
  const family = data[13]! >> 4;
  const transport = data[13]! & 0x0f;
  const length = FIXED + data.readUInt16BE(14);
  if (length > MAX_HEADER) return { kind: 'invalid', reason: `PROXY header of ${length} bytes` };
  if (data.length < length) return { kind: 'incomplete' };
  if (command === 0) return { kind: 'header', length }; // LOCAL
  // AF_INET or AF_INET6 over a stream; UNSPEC and UNIX sockets carry no client address to use.
  if ((family === 1 || family === 2) && transport !== 1)
    return { kind: 'invalid', reason: 'PROXY header for a datagram' };
  if (family === 1) {
    if (length < FIXED + 12) return { kind: 'invalid', reason: 'PROXY header too short for IPv4' };
    const address = [...data.subarray(FIXED, FIXED + 4)].join('.');
    return { kind: 'header', length, source: { address, port: data.readUInt16BE(FIXED + 8) } };
  }
  if (family === 2) {
    if (length < FIXED + 36) return { kind: 'invalid', reason: 'PROXY header too short for IPv6' };
    const groups: string[] = [];
    for (let offset = FIXED; offset < FIXED + 16; offset += 2) groups.push(data.readUInt16BE(offset).toString(16));
    const address = normaliseAddress(new net.SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address);
    return { kind: 'header', length, source: { address, port: data.readUInt16BE(FIXED + 32) } };
  }
  return { kind: 'header', length };
}

const clientAddresses = new WeakMap<net.Socket, string>();

/**
 * The address a request really comes from: the PROXY header's source when a trusted balancer
 * sent one, else the TCP peer. Takes the TLS socket (req.socket) or the TCP one under it.
 */
export function clientAddress(socket: net.Socket): string {
  // A TLSSocket keeps the TCP socket it wraps as _parent (Node's tls, undocumented but stable since 0.x).
  const parent = (socket as net.Socket & { _parent?: net.Socket })._parent;
  return normaliseAddress(
    clientAddresses.get(socket) ?? (parent && clientAddresses.get(parent)) ?? socket.remoteAddress ?? '',
  );
}

/**
 * Makes `server` (the edge's HTTPS server, already given its other 'connection' listeners: call it
 * last) read a PROXY v2 header first on connections from `trustedProxies`: the header is consumed
 * and its source remembered, then the connection goes to TLS and the rest as if just accepted.
 */
export function readProxyHeaders(
  server: net.Server,
  options: { trustedProxies: string[]; timeoutMs: number; log: Logger },
): void {
  const trusted = cidrMatcher(options.trustedProxies);
  const accept = server.listeners('connection') as ((socket: net.Socket) => void)[];
  server.removeAllListeners('connection');
  const handOn = (socket: net.Socket) => {
    for (const listener of accept) listener.call(server, socket);
  };
  server.on('connection', (socket: net.Socket) => {
    const peer = normaliseAddress(socket.remoteAddress ?? '');
    if (!trusted(peer)) return handOn(socket);
    let received = Buffer.alloc(0);
    const refuse = (reason: string) => {
      options.log.warn({ ip: peer, reason }, 'connection from a trusted proxy refused: no valid PROXY v2 header');
      socket.destroy();
    };
    const timer = setTimeout(() => refuse('no header in time'), options.timeoutMs);
    socket.on('error', () => undefined);
    socket.once('close', () => clearTimeout(timer));
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const header = parseProxyHeader(received);
      if (header.kind === 'incomplete') return;
      socket.off('data', onData);
      socket.pause();
      clearTimeout(timer);
      if (header.kind === 'invalid') return refuse(header.reason);
      if (header.source) clientAddresses.set(socket, header.source.address);
      // Left in the socket's buffer, the first TLS bytes are read by the TLS layer that takes it over.
      const rest = received.subarray(header.length);
      if (rest.length > 0) socket.unshift(rest);
      handOn(socket);
    };
    socket.on('data', onData);
  });
}
