// HTTP answers written straight to a socket, for requests refused before (or instead of) an upgrade.
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';

export function writeRawResponse(socket: Duplex, status: number, headers: Record<string, string>, body = ''): void {
  if (socket.destroyed) return;
  const all: Record<string, string> = {
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
    ...(body ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    ...headers,
  };
  const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`, ...Object.entries(all).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
  socket.end(`${head}\r\n\r\n${body}`);
}
