// The native app's redirect_url must be its own loopback listener (RFC 8252 §7.3, §8.3): anything
// else would let a crafted login link deliver a one-time code to someone else's server.
//
// Integration: access-routes.ts calls checkLoopbackRedirect(query.redirect_url) on PATH.cli and
// answers 400 with the error's message when it throws.
import { AirlockError } from '../../shared/errors.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Returns the normalised URL, or throws BAD_ARGUMENT saying what is wrong with it. */
export function checkLoopbackRedirect(text: unknown): URL {
  if (typeof text !== 'string' || text.length === 0) throw refuse('redirect_url is missing');
  if (text.length > 2048) throw refuse('redirect_url is too long');
  // Rejected on the raw text too: URL parsing would silently drop or re-encode some of these.
  if (/[\s\\#@]/.test(text) || /[\u0000-\u001f\u007f]/.test(text)) {
    throw refuse('redirect_url contains a character that is not allowed (whitespace, backslash, "#" or "@")');
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw refuse('redirect_url is not a URL');
  }
  if (url.protocol !== 'http:')
    throw refuse(`redirect_url must use http on the loopback interface, not ${url.protocol}`);
  if (url.username || url.password) throw refuse('redirect_url must not carry a user name or password');
  if (!LOOPBACK_HOSTS.has(url.hostname)) throw refuse('redirect_url must point at 127.0.0.1, [::1] or localhost');
  if (url.hash) throw refuse('redirect_url must not carry a fragment');
  // The raw host must be exactly what was parsed: refuses "127.1", "0x7f.0.0.1", "127.0.0.1." and friends.
  const rawHost = /^http:\/\/([^/?]*?)(?::\d{1,5})?(?=[/?]|$)/i.exec(text)?.[1]?.toLowerCase();
  if (rawHost !== url.hostname) throw refuse('redirect_url host is not written in its plain form');
  return url;
}

function refuse(message: string): AirlockError {
  return new AirlockError('BAD_ARGUMENT', `${message}; the Airlock client sends http://127.0.0.1:PORT/callback`);
}
