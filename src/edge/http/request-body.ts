// What the edge reads from requests: bodies (sign-in forms, admin API calls), small, read whole,
// bounded before anything is parsed, so a peer cannot make the edge buffer more than 16 KB; and
// %-escaped path segments, refused with a reason when malformed.
import type { IncomingMessage } from 'node:http';
import { AirlockError } from '../../shared/errors.js';

/** The small bodies the edge reads: 16 KB is far above any form or admin call. */
const MAX_BODY_BYTES = 16 * 1024;

/**
 * The one body reader: a JSON object, or with `forms` (the token endpoint, RFC 6749 §4.1.3) an
 * urlencoded form unless the content type says JSON. A JSON-only call without a body has no fields.
 */
export async function readObjectBody(
  req: IncomingMessage,
  { forms = false }: { forms?: boolean } = {},
): Promise<Record<string, unknown>> {
  const text = await readBounded(req);
  const declaresJson = (req.headers['content-type'] ?? '').startsWith('application/json');
  if (forms && !declaresJson) return Object.fromEntries(new URLSearchParams(text));
  try {
    const parsed: unknown = JSON.parse(forms ? text : text || '{}');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // falls through to the error below
  }
  throw new AirlockError('BAD_ARGUMENT', 'body must be a JSON object');
}

async function readBounded(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new AirlockError('BAD_ARGUMENT', 'request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A %-escaped path segment, decoded; malformed escapes are the sender's error (400), never ours. */
export function decodePathSegment(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new AirlockError('BAD_ARGUMENT', `${what} in the path has a malformed %-escape`);
  }
}
