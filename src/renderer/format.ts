import { formatBytes } from '../shared/contract/duration.js';
import type { ResourceStatus } from '../shared/contract/api.js';
import { isSwitchedOn, stateLabel as labelOf } from '../shared/contract/status.js';

export { formatBytes };

export function stateLabel(status: ResourceStatus | undefined): string {
  return labelOf(status?.state ?? 'off');
}

/** The switch is on while the listener is open, whatever the edge answered. */
export function isOn(status: ResourceStatus | undefined): boolean {
  return status !== undefined && isSwitchedOn(status);
}

export function relativeExpiry(iso: string | undefined): string {
  if (!iso) return '';
  const ms = new Date(iso).getTime() - Date.now();
  if (ms <= 0) return 'expired';
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  return hours > 0 ? `expires in ${hours} h ${minutes} min` : `expires in ${minutes} min`;
}

/** "just now", "5 min ago", "3 h ago", else the date: for "last used" and "checked". */
export function relativeTime(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '';
  const ms = now - new Date(iso).getTime();
  if (ms < 60_000) return 'just now';
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`;
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)} h ago`;
  return new Date(iso).toLocaleDateString();
}

/** The switch's classes: on, and amber while the edge has not admitted the user yet, red on an error. */
export function toggleClasses(status: ResourceStatus | undefined): string {
  if (!isOn(status)) return 'toggle';
  const state = status!.state;
  return `toggle on${state === 'listening' || state === 'signing-in' || state === 'reconnecting' ? ' pending' : ''}${state === 'error' ? ' failing' : ''}`;
}
