// The tray menu as plain data, built from state by a pure function; src/main turns it into an
// Electron Menu and maps each item's `command` to a call on the ResourceManager.
import { formatBytes } from '../shared/duration.js';
import type { Discovery, Resource, ResourceStatus } from '../shared/api.js';

export type TrayCommand =
  | { type: 'connect'; id: string }
  | { type: 'disconnect'; id: string }
  /** An app an edge lists (discovery) that is not saved yet: save it and switch it on. */
  | { type: 'connect-discovered'; edge: string; hostname: string }
  | { type: 'connect-all' }
  | { type: 'disconnect-all' }
  | { type: 'open' }
  | { type: 'sign-out' }
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
}

export function describeStatus(status: ResourceStatus | undefined): string {
  if (!status) return 'disconnected';
  switch (status.state) {
    case 'listening':
      return status.activeConnections > 0
        ? `${status.localAddress} · ${status.activeConnections} open · ↑${formatBytes(status.bytesUp)} ↓${formatBytes(status.bytesDown)}`
        : `on ${status.localAddress}`;
    case 'starting':
      return 'connecting…';
    case 'error':
      return `error: ${status.lastError?.message ?? 'unknown'}`;
    case 'stopped':
      return 'disconnected';
  }
}

/** Menu labels are short: long names and messages are cut so the menu stays usable. */
function short(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function buildTrayMenu(state: TrayState): TrayMenuItem[] {
  const byId = new Map(state.statuses.map((status) => [status.id, status]));
  const items: TrayMenuItem[] = [];
  const sorted = [...state.resources].sort((a, b) => a.name.localeCompare(b.name));
  if (sorted.length === 0) items.push({ kind: 'label', label: 'No resources yet — open Airlock to add one' });
  for (const resource of sorted) {
    const status = byId.get(resource.id);
    const connected = status?.state === 'listening' || status?.state === 'starting';
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
    items.push({ kind: 'separator' }, { kind: 'label', label: short(`Available on ${hostOf(discovery.edge)}`) });
    for (const app of unsaved) {
      items.push({ kind: 'item', label: short(`Connect ${app.name ?? app.hostname}`, 40), sublabel: short(app.hostname), enabled: true, command: { type: 'connect-discovered', edge: discovery.edge, hostname: app.hostname } });
    }
  }
  const anyConnected = state.statuses.some((status) => status.state === 'listening' || status.state === 'starting');
  const anyDisconnected = sorted.some((resource) => {
    const state = byId.get(resource.id)?.state;
    return state !== 'listening' && state !== 'starting';
  });
  items.push(
    { kind: 'separator' },
    { kind: 'item', label: 'Connect all', command: { type: 'connect-all' }, enabled: anyDisconnected },
    { kind: 'item', label: 'Disconnect all', command: { type: 'disconnect-all' }, enabled: anyConnected },
    { kind: 'separator' },
    { kind: 'item', label: 'Open Airlock', command: { type: 'open' }, enabled: true },
    { kind: 'item', label: 'Sign out', command: { type: 'sign-out' }, enabled: state.signedIn },
    { kind: 'item', label: 'Start at login', command: { type: 'toggle-start-at-login' }, enabled: true, checked: state.startAtLogin },
    { kind: 'separator' },
    { kind: 'item', label: 'Quit Airlock', command: { type: 'quit' }, enabled: true },
  );
  return items;
}

function hostOf(edge: string): string {
  return URL.canParse(edge) ? new URL(edge).host : edge;
}

/** The tray tooltip: a one-line summary. */
export function trayTooltip(state: TrayState): string {
  const connected = state.statuses.filter((status) => status.state === 'listening').length;
  return connected === 0 ? 'Airlock — nothing connected' : `Airlock — ${connected} connected`;
}
