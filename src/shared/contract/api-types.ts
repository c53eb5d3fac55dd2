// What the calls answer and what the core pushes to every UI: statuses, sessions, logs,
// discovery, and the service and client shapes both transports carry.
import type { ResourceState } from './status.js';
import type { ExpiryWarning } from './session-expiry.js';
import type {
  ApiMethod,
  ApiParams,
  ApiValidParams,
  LogLevel,
  Resource,
  ResourceKind,
  Settings,
} from './api-schemas.js';

/** What the UI offers next to an error: sign in to its edge, edit the resource, or test again. */
export type ErrorAction = 'sign-in' | 'edit' | 'test';

export interface ResourceStatus {
  id: string;
  /** One state machine for window, tray and notifications (shared/contract/status.ts ResourceState). */
  state: ResourceState;
  /** The edge whose session this resource uses, as `sessions` names it. */
  edge: string;
  localAddress?: string;
  activeConnections: number;
  totalConnections: number;
  bytesUp: number;
  bytesDown: number;
  /** Set in state `error`: what failed, in words that say what to do. */
  lastError?: {
    code: string;
    message: string;
    at: string;
    action: ErrorAction;
    /** PORT_IN_USE: a free local port the window offers with one click ("Use port N"). */
    suggestedPort?: number;
  };
  /** When the edge last answered for this resource (preflight or tunnel), ISO time. */
  checkedAt?: string;
  /** When a local program last opened a connection to it (since the app started), ISO time. */
  lastUsedAt?: string;
  /** False once its edge's discovery list is known and no longer has this hostname (kept, marked). */
  offered?: boolean;
}

/** How every view names an edge: its host[:port] (an edge is an https:// origin). */
export function edgeHost(edge: string): string {
  return URL.canParse(edge) ? new URL(edge).host : edge;
}

export interface EdgeSession {
  /** https:// origin of the edge. */
  edge: string;
  signedIn: boolean;
  email?: string;
  /** ISO time the token expires. */
  expiresAt?: string;
  /** False when this build or machine cannot sign in (then `message` says why). */
  signInAvailable: boolean;
  message?: string;
  /** A browser sign-in is waiting for the user: the page to open (once known) and since when. */
  /** expiresAt: when the browser sign-in gives up (LOGIN_TIMEOUT), for the prompt's countdown. */
  signingIn?: { url?: string; startedAt: string; expiresAt?: string };
  /** How the last sign-in attempt failed (cancelled, timed out, denied), until the next one. */
  signInError?: { code: string; message: string; at: string };
  /** Open streams end with this session soon (session-expiry.ts); signIn on this edge renews it. */
  expiryWarning?: ExpiryWarning;
}

export interface StatusSnapshot {
  resources: ResourceStatus[];
  sessions: EdgeSession[];
}

export interface LogEntry {
  seq: number;
  time: string;
  level: LogLevel;
  message: string;
  resourceId?: string;
}

export interface ImportResult {
  added: Resource[];
  skipped: { name: string; reason: string }[];
}

export interface ApiResults {
  listResources: Resource[];
  addResource: Resource;
  updateResource: Resource;
  removeResource: void;
  importResources: ImportResult;
  exportResources: { json: string };
  connect: ResourceStatus;
  disconnect: void;
  /** Asks the edge now (the preflight) and answers with the resource's state after it. */
  testResource: ResourceStatus;
  connectAll: void;
  disconnectAll: void;
  getStatus: StatusSnapshot;
  signIn: EdgeSession;
  signOut: EdgeSession;
  /** Sign out everywhere: every edge's session revoked there, every token forgotten. */
  signOutAll: void;
  cancelSignIn: EdgeSession;
  discover: Discovery;
  /** The resource saved from the edge's list (and switched on when `connect`). */
  addDiscovered: Resource;
  getSettings: Settings;
  updateSettings: Settings;
  getLogs: LogEntry[];
  /** Path of the shortcut written. */
  createShortcut: { path: string };
  getAbout: About;
  /** Shows the full window (the desktop app's tray popover asks for it). */
  openWindow: void;
  /** Hides the tray panel (Esc in it); only the desktop app has one. */
  hideTray: void;
  /** Stops every listener and ends the app (desktop) or the `airlock ui` process (browser mode). */
  quit: void;
  /** The ~/.ssh/config block that reaches an SSH resource's host through Airlock (ProxyCommand). */
  sshConfig: { text: string };
}

/** Facts about this install the Settings view shows. */
export interface About {
  /** Where sign-in tokens are kept: the OS keychain, an encrypted file, or a 0600 file. */
  tokenStore?: { kind: 'keychain' | 'encrypted-file' | 'file'; detail: string };
}

/** An app an edge lets the signed-in user reach (discovery), with what edge.yaml says to show. */
export interface DiscoveredApp {
  hostname: string;
  name?: string;
  description?: string;
  kind?: ResourceKind;
  localPort?: number;
}

export interface Discovery {
  edge: string;
  /** The --edge address the edge's resources dial, for new resources made from this list. */
  edgeAddress?: string;
  /** savedAs: the saved resource for this hostname; port: a free local port to connect it on. */
  apps: Array<DiscoveredApp & { savedAs?: string; port: number }>;
}

/** Pushed to every UI: status is sent on every change and about once a second while bytes move. */
export type ApiEvent =
  | { type: 'status'; data: StatusSnapshot }
  | { type: 'resources'; data: Resource[] }
  | { type: 'settings'; data: Settings }
  | { type: 'log'; data: LogEntry };

/** The service side: what ResourceManager implements and both transports call. */
export type ApiService = { [M in ApiMethod]: (params: ApiValidParams<M>) => Promise<ApiResults[M]> };

/** What the renderer holds: typed calls plus an event subscription. */
export type AirlockApi = {
  [M in ApiMethod]: undefined extends ApiParams<M>
    ? (params?: ApiParams<M>) => Promise<ApiResults[M]>
    : (params: ApiParams<M>) => Promise<ApiResults[M]>;
} & {
  onEvent(listener: (event: ApiEvent) => void): () => void;
};
