// How the sign-in endpoints answer: redirects, HTML pages (strict CSP, no framing) and JSON, never
// cached unless said.
import type { ServerResponse } from 'node:http';
import { sendJson, type JsonAnswer } from '../http/json-answer.js';

export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'cache-control': 'no-store' });
  res.end();
}

export function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'x-frame-options': 'DENY',
  });
  res.end(body);
}

/** The sign-in endpoints' JSON goes out as bare application/json, as their clients have always read it. */
export function json(res: ServerResponse, status: number, body: JsonAnswer, cacheControl = 'no-store'): void {
  sendJson(res, status, body, { 'content-type': 'application/json', 'cache-control': cacheControl });
}
