// What the edge reads from requests: bodies (sign-in forms, admin API calls), small, read whole,
// bounded before anything is parsed, so a peer cannot make the edge buffer more than maxBytes;
// and %-escaped path segments, refused with a reason when malformed.
import type { IncomingMessage } from 'node:http';
import { AirlockError } from '../shared/errors.js';

/** The small bodies the edge reads: 16 KB is far above any form or admin call. */
export const MAX_BODY_BYTES = 16 * 1024;

export async function readBoundedBody(req: IncomingMessage, maxBytes: number = MAX_BODY_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new AirlockError('BAD_ARGUMENT', 'request body too large');
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
