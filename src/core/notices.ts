// Desktop notifications for what the user must know without the window open: a resource came up,
// the session expired (click to sign in again), the edge is unreachable (with the egress hint).
import type { Resource, ResourceStatus } from '../shared/api.js';
import { EGRESS_HINT } from '../shared/errors.js';

export interface Notice {
  title: string;
  body: string;
  /** What a click does: sign in to the resource's edge again. */
  signInResourceId?: string;
}

/** Pure: compares two status snapshots and says what is worth a notification. */
export function noticesFor(previous: Map<string, ResourceStatus>, next: ResourceStatus[], resources: Resource[]): Notice[] {
  const names = new Map(resources.map((resource) => [resource.id, resource.name]));
  const notices: Notice[] = [];
  for (const status of next) {
    const before = previous.get(status.id);
    const name = names.get(status.id) ?? 'resource';
    if (status.state === 'listening' && before?.state !== 'listening') {
      notices.push({ title: `${name} connected`, body: `Listening on ${status.localAddress}` });
    }
    const error = status.lastError;
    if (error && error.at !== before?.lastError?.at) {
      if (error.code === 'AUTH_REQUIRED') notices.push({ title: `${name}: session expired`, body: 'Click to sign in again.', signInResourceId: status.id });
      else if (error.code === 'EDGE_UNREACHABLE') notices.push({ title: `${name}: edge unreachable`, body: error.message.includes(EGRESS_HINT) ? error.message : `${error.message}; ${EGRESS_HINT}` });
      else if (error.code === 'PORT_IN_USE') notices.push({ title: `${name}: port in use`, body: error.message });
    }
  }
  return notices;
}
