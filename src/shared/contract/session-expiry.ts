// The warning before a session's access ends (docs/desktop-app.md "Sessions that end"): the edge
// ends open streams when the session behind them expires (docs/security.md "What ends when"), so
// the tray says so 5 minutes before, while a sign-in again still carries them over.
import { edgeHost } from './api-types.js';

/** How long before the session's end the warning shows. */
export const EXPIRY_WARNING_MS = 5 * 60_000;

/** On EdgeSession while the warning stands: when its session ends and how many streams it would end. */
export interface ExpiryWarning {
  /** ISO time the session behind the open streams expires. */
  endsAt: string;
  openStreams: number;
}

/** Pure: the warning for a session ending at `expiresAt` with `openStreams` open, at `now`, if due. */
export function expiryWarning(
  expiresAt: string | undefined,
  openStreams: number,
  now: number = Date.now(),
): ExpiryWarning | undefined {
  if (!expiresAt || openStreams <= 0) return undefined;
  const endsAt = new Date(expiresAt).getTime();
  if (!Number.isFinite(endsAt) || endsAt <= now || endsAt - now > EXPIRY_WARNING_MS) return undefined;
  return { endsAt: new Date(endsAt).toISOString(), openStreams };
}

/** "Sessions to staging.example.com end at 17:40 — sign in again to keep them" (time in the user's zone). */
export function expiryWarningText(edge: string, warning: ExpiryWarning): string {
  const at = new Date(warning.endsAt).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  const what = warning.openStreams === 1 ? 'The connection' : 'Sessions';
  return `${what} to ${edgeHost(edge)} ${warning.openStreams === 1 ? 'ends' : 'end'} at ${at} — sign in again to keep ${warning.openStreams === 1 ? 'it' : 'them'}`;
}
