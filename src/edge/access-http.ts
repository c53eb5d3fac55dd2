// How the sign-in endpoints read bodies and answer: redirects, HTML pages (strict CSP, no framing)
// and JSON, never cached.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AirlockError } from '../shared/errors.js';
import { readBoundedBody } from './request-body.js';

export async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readBoundedBody(req);
  if ((req.headers['content-type'] ?? '').startsWith('application/json')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // falls through to the error below
    }
    throw new AirlockError('BAD_ARGUMENT', 'body is not a JSON object');
  }
  return Object.fromEntries(new URLSearchParams(text));
}

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

export function json(res: ServerResponse, status: number, body: unknown, cacheControl = 'no-store'): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': cacheControl });
  res.end(JSON.stringify(body));
}
