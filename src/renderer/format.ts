import { formatBytes } from '../shared/duration.js';
import type { ResourceStatus } from '../shared/api.js';

export { formatBytes };

export function stateLabel(status: ResourceStatus | undefined): string {
  switch (status?.state) {
    case 'listening':
      return 'Connected';
    case 'starting':
      return 'Connecting…';
    case 'error':
      return 'Error';
    default:
      return 'Disconnected';
  }
}

export function isOn(status: ResourceStatus | undefined): boolean {
  return status?.state === 'listening' || status?.state === 'starting';
}

export function relativeExpiry(iso: string | undefined): string {
  if (!iso) return '';
  const ms = new Date(iso).getTime() - Date.now();
  if (ms <= 0) return 'expired';
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  return hours > 0 ? `expires in ${hours} h ${minutes} min` : `expires in ${minutes} min`;
}
