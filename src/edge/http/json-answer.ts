// How the edge answers in JSON: one serializer, written to an HTTP response or, for a request
// refused before (or instead of) an upgrade, straight to the socket. A refusal's `error` must be
// a code declared in src/shared/contract/error-catalogue.ts; an undeclared one does not compile.
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { EdgeRefusalCode } from '../../shared/contract/error-catalogue.js';
import type { EdgeRefusal } from '../../shared/edge-response.js';

/** The token endpoint's refusals keep OAuth 2.0's member names (RFC 6749 §5.2). */
export interface OAuthRefusal {
  error: EdgeRefusalCode;
  error_description: string;
}

/** Any other answer has no `error` member, so every refusal is one of the two kinds above. */
type JsonDocument =
  { readonly error?: never; readonly [member: string]: unknown } | (object & { readonly error?: never });

export type JsonAnswer = EdgeRefusal | OAuthRefusal | JsonDocument;

const JSON_TYPE = 'application/json; charset=utf-8';

function serialize(body: JsonAnswer): string {
  return JSON.stringify(body);
}

/**
 * A JSON answer. `headers` replaces the default `cache-control: no-store` (and may name another
 * JSON content type). For HEAD, Node sends the head only.
 */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: JsonAnswer,
  headers: Record<string, string> = { 'cache-control': 'no-store' },
): void {
  res.writeHead(status, { 'content-type': JSON_TYPE, ...headers });
  res.end(serialize(body));
}

/** An answer written to the socket of an upgrade request, which has no ServerResponse; then closed. */
export function writeRawResponse(
  socket: Duplex,
  status: number,
  headers: Record<string, string>,
  body?: JsonAnswer,
): void {
  if (socket.destroyed) return;
  const text = body === undefined ? '' : serialize(body);
  const all: Record<string, string> = {
    'content-length': String(Buffer.byteLength(text)),
    connection: 'close',
    ...(text ? { 'content-type': JSON_TYPE } : {}),
    ...headers,
  };
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    ...Object.entries(all).map(([name, value]) => `${name}: ${value}`),
  ].join('\r\n');
  socket.end(`${head}\r\n\r\n${text}`);
}
