// "Copy command": the line a user pastes to use a connected resource through its local port.
import type { Resource } from './api.js';

export function connectCommand(resource: Pick<Resource, 'kind' | 'localHost' | 'localPort'>): string {
  const host = resource.localHost.includes(':') ? `[${resource.localHost}]` : resource.localHost;
  switch (resource.kind) {
    case 'ssh':
      return `ssh -p ${resource.localPort} user@${host}`;
    case 'postgres':
      return `psql -h ${host} -p ${resource.localPort}`;
    case 'redis':
      return `redis-cli -h ${host} -p ${resource.localPort}`;
    case 'rdp':
    case 'other':
      return `${host}:${resource.localPort}`;
  }
}
