// The tray menu as plain data, built from state by a pure function; src/main turns it into an
// Electron Menu and maps each item's `command` to a call on the ResourceManager.
import { formatBytes } from '../../shared/contract/duration.js';
import {
  edgeHost,
  type Discovery,
  type EdgeSession,
  type Resource,
  type ResourceStatus,
} from '../../shared/contract/api.js';
import { isSwitchedOn, stateLabel } from '../../shared/contract/status.js';

export type TrayCommand =
  | { type: 'connect'; id: string }
  | { type: 'disconnect'; id: string }
  /** An app an edge lists (discovery) that is not saved yet: save it and switch it on. */
  | { type: 'connect-discovered'; edge: string; hostname: string }
  | { type: 'connect-all' }
  | { type: 'disconnect-all' }
  | { type: 'open' }
  | { type: 'sign-out' }
  /** A browser sign-in waits for the user: open its page again, or stop it. */
  | { type: 'open-sign-in'; url: string }
  | { type: 'cancel-sign-in'; edge: string }
  | { type: 'sign-in'; edge: string }
  | { type: 'toggle-start-at-login' }
  | { type: 'quit' };

export type TrayMenuItem =
  | { kind: 'separator' }
  | { kind: 'label'; label: string }
  | { kind: 'item'; label: string; command: TrayCommand; enabled: boolean; checked?: boolean; sublabel?: string };

export interface TrayState {
  resources: Resource[];
  statuses: ResourceStatus[];
  startAtLogin: boolean;
  signedIn: boolean;
  /** What each signed-in edge last listed (ResourceManager.discoveredApps()). */
  discovered?: Discovery[];
  /** Sign-in per edge: a waiting sign-in gets its own items at the top. */
  sessions?: EdgeSession[];
}

/** The row's words in the menu: the same state as the window shows, then what matters for it. */
export function describeStatus(status: ResourceStatus | undefined): string {
  if (!status) return stateLabel('off');
  switch (status.state) {
    case 'in-use':
      return `${stateLabel(status.state)} · ${status.localAddress} · ${status.activeConnections} open · ↑${formatBytes(status.bytesUp)} ↓${formatBytes(status.bytesDown)}`;
    case 'ready':
    case 'listening':
      return `${stateLabel(status.state)} · ${status.localAddress}`;
    case 'reconnecting':
      return `${stateLabel(status.state)} · ${status.localAddress} · ${status.activeConnections} open, nothing lost yet`;
    case 'signing-in':
      return `${stateLabel(status.state)} · see “Sign in to…” above`;
    case 'error':
      return `${stateLabel(status.state)}: ${status.lastError?.message ?? 'unknown'}`;
    case 'off':
    case 'signed-out':
      return stateLabel(status.state);
  }
}

/** Menu labels are short: long names and messages are cut so the menu stays usable. */
function short(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function buildTrayMenu(state: TrayState): TrayMenuItem[] {
  const byId = new Map(state.statuses.map((status) => [status.id, status]));
  const items: TrayMenuItem[] = [];
  // What only the user can do comes first: a sign-in waiting in the browser, or one that is needed.
  for (const session of state.sessions ?? []) {
    const host = edgeHost(session.edge);
    if (session.signingIn) {
      if (session.signingIn.url)
        items.push({
          kind: 'item',
          label: short(`Sign in to ${host}…`),
          sublabel: 'Opens the sign-in page in your browser',
          enabled: true,
          command: { type: 'open-sign-in', url: session.signingIn.url },
        });
      else items.push({ kind: 'label', label: short(`Signing in to ${host}…`) });
      items.push({
        kind: 'item',
        label: 'Cancel sign-in',
        enabled: true,
        command: { type: 'cancel-sign-in', edge: session.edge },
      });
    } else if (!session.signedIn && session.signInAvailable && needsSignIn(state.statuses, session.edge)) {
      items.push({
        kind: 'item',
        label: short(`Sign in to ${host}…`),
        enabled: true,
        command: { type: 'sign-in', edge: session.edge },
      });
    }
  }
  if (items.length > 0) items.push({ kind: 'separator' });
  const sorted = [...state.resources].sort((a, b) => a.name.localeCompare(b.name));
  if (sorted.length === 0) items.push({ kind: 'label', label: 'No resources yet — open Airlock to add one' });
  for (const resource of sorted) {
    const status = byId.get(resource.id);
    const connected = status !== undefined && isSwitchedOn(status);
    items.push({
      kind: 'item',
      label: short(resource.name, 40),
      sublabel: short(describeStatus(status)),
      checked: connected,
      enabled: true,
      command: connected ? { type: 'disconnect', id: resource.id } : { type: 'connect', id: resource.id },
    });
  }
  // Discovered apps not saved yet, under their edge: one click saves and connects.
  for (const discovery of state.discovered ?? []) {
    const unsaved = discovery.apps.filter((app) => !app.savedAs).sort((a, b) => a.hostname.localeCompare(b.hostname));
    if (unsaved.length === 0) continue;
    items.push({ kind: 'separator' }, { kind: 'label', label: short(`Available on ${edgeHost(discovery.edge)}`) });
    for (const app of unsaved) {
      items.push({
        kind: 'item',
        label: short(`Connect ${app.name ?? app.hostname}`, 40),
        sublabel: short(app.hostname),
        enabled: true,
        command: { type: 'connect-discovered', edge: discovery.edge, hostname: app.hostname },
      });
    }
  }
  const anyConnected = state.statuses.some((status) => isSwitchedOn(status));
  const anyDisconnected = sorted.some((resource) => {
    const status = byId.get(resource.id);
    return status === undefined || !isSwitchedOn(status);
  });
  items.push(
    { kind: 'separator' },
    { kind: 'item', label: 'Connect all', command: { type: 'connect-all' }, enabled: anyDisconnected },
    { kind: 'item', label: 'Disconnect all', command: { type: 'disconnect-all' }, enabled: anyConnected },
    { kind: 'separator' },
    { kind: 'item', label: 'Open Airlock', command: { type: 'open' }, enabled: true },
    { kind: 'item', label: 'Sign out everywhere', command: { type: 'sign-out' }, enabled: state.signedIn },
    {
      kind: 'item',
      label: 'Start at login',
      command: { type: 'toggle-start-at-login' },
      enabled: true,
      checked: state.startAtLogin,
    },
    { kind: 'separator' },
    { kind: 'item', label: 'Quit Airlock', command: { type: 'quit' }, enabled: true },
  );
  return items;
}

/** A switched-on resource of this edge waits for a sign-in (its error says so). */
function needsSignIn(statuses: ResourceStatus[], edge: string): boolean {
  return statuses.some((status) => status.edge === edge && status.lastError?.action === 'sign-in');
}

/** The tray tooltip: a one-line summary. */
export function trayTooltip(state: TrayState): string {
  const ready = state.statuses.filter((status) => status.state === 'ready' || status.state === 'in-use').length;
  const failing = state.statuses.filter((status) => status.state === 'error').length;
  const waiting = state.statuses.filter((status) => status.state === 'signing-in').length;
  const parts = [
    ready > 0 ? `${ready} ready` : '',
    waiting > 0 ? `${waiting} waiting for sign-in` : '',
    failing > 0 ? `${failing} with errors` : '',
  ].filter(Boolean);
  return parts.length === 0 ? 'Airlock — nothing connected' : `Airlock — ${parts.join(', ')}`;
}
