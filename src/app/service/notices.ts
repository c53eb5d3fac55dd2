// Desktop notifications for what the user must know without the window open: a resource became
// ready, a sign-in waits in the browser (click to open it), the session expired (click to sign in
// again), the edge is unreachable (with the egress hint).
import { edgeHost, type EdgeSession, type Resource, type ResourceStatus } from '../../shared/contract/api.js';
import { isGreen } from '../../shared/contract/status.js';

export interface Notice {
  title: string;
  body: string;
  /** What a click does: sign in to the resource's edge again. */
  signInResourceId?: string;
  /** What a click does: open this sign-in page in the browser. */
  openUrl?: string;
}

/** Pure: compares two status snapshots and says what is worth a notification. */
export function noticesFor(
  previous: Map<string, ResourceStatus>,
  next: ResourceStatus[],
  resources: Resource[],
): Notice[] {
  const names = new Map(resources.map((resource) => [resource.id, resource.name]));
  const notices: Notice[] = [];
  for (const status of next) {
    const before = previous.get(status.id);
    const name = names.get(status.id) ?? 'resource';
    if (status.state === 'ready' && !(before && isGreen(before.state))) {
      notices.push({ title: `${name} is ready`, body: `Use ${status.localAddress}` });
    }
    const error = status.lastError;
    if (error && error.at !== before?.lastError?.at) {
      if (error.code === 'AUTH_REQUIRED')
        notices.push({ title: `${name}: sign-in needed`, body: 'Click to sign in.', signInResourceId: status.id });
      else if (error.code === 'EDGE_UNREACHABLE')
        notices.push({ title: `${name}: edge unreachable`, body: error.message }); // transport errors already end with the egress hint for the edge's port
      else if (error.code === 'PORT_IN_USE') notices.push({ title: `${name}: port in use`, body: error.message });
      else if (error.code === 'ACCESS_DENIED') notices.push({ title: `${name}: access denied`, body: error.message });
    }
  }
  return notices;
}

/** Pure: a sign-in that now waits for the user in the browser, once per sign-in. */
export function signInNoticesFor(previous: EdgeSession[], next: EdgeSession[]): Notice[] {
  const before = new Map(previous.map((session) => [session.edge, session]));
  const notices: Notice[] = [];
  for (const session of next) {
    const url = session.signingIn?.url;
    if (!url || before.get(session.edge)?.signingIn?.url === url) continue;
    notices.push({
      title: `Sign in to ${edgeHost(session.edge)}`,
      body: 'Finish signing in in your browser. Click to open the sign-in page again.',
      openUrl: url,
    });
  }
  return notices;
}
