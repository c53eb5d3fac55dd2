// The one contract between the UI and the client core. Electron's preload and the browser-mode
// WebSocket both carry exactly these calls and events; every call is validated at the boundary
// by the schemas below, on both sides of either transport.
import { z } from 'zod';
import type { ResourceState } from './status.js';
import { API_METHOD_NAMES, IPC, UI_SOCKET_PATH, type ApiMethodName } from './api-channels.js';

export { IPC, UI_SOCKET_PATH };

export const RESOURCE_KINDS = ['ssh', 'postgres', 'redis', 'rdp', 'other'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];
export const THEMES = ['light', 'dark', 'system'] as const;
export type Theme = (typeof THEMES)[number];
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Ports below this need privileges on most systems; the UI recommends a port at or above it. */
export const RECOMMENDED_MIN_PORT = 1024;
export const LIMITS = { nameLength: 64, hostnameLength: 253, tags: 16, tagLength: 32, resources: 500, importBytes: 512 * 1024 } as const;

// Names end up in deep links (airlock://connect/NAME), file names and menus: keep them plain.
const namePattern = /^[A-Za-z0-9][A-Za-z0-9._ -]*$/;
const hostnamePattern = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const tagPattern = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

const name = z
  .string()
  .trim()
  .min(1, 'a name is required')
  .max(LIMITS.nameLength, `at most ${LIMITS.nameLength} characters`)
  .regex(namePattern, 'letters, digits, spaces, dots, dashes and underscores; start with a letter or digit');
const hostname = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, 'a hostname is required')
  .regex(hostnamePattern, 'not a valid hostname (e.g. ssh.example.com)');
const edge = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'https:' && !url.username && !url.password && (url.pathname === '/' || url.pathname === '');
    } catch {
      return false;
    }
  }, 'must be an https:// URL such as https://edge.example.com')
  .transform((value) => new URL(value).origin);
const localPort = z
  .number({ message: 'a port number (1024–65535 recommended)' })
  .int('a whole number')
  .min(1, 'between 1 and 65535')
  .max(65535, 'between 1 and 65535');
const localHost = z.string().trim().regex(/^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|::1)$/, 'a loopback address such as 127.0.0.1');
const tag = z.string().trim().min(1).max(LIMITS.tagLength, `tags are at most ${LIMITS.tagLength} characters`).regex(tagPattern, 'tags are letters, digits, - and _');
const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a resource id');

const tags = z.array(tag).max(LIMITS.tags, `at most ${LIMITS.tags} tags`);
const kind = z.enum(RESOURCE_KINDS);

export const resourceInputSchema = z.strictObject({
  name,
  hostname,
  edge: edge.optional(),
  localPort,
  localHost: localHost.default('127.0.0.1'),
  tags: tags.default([]),
  autoConnect: z.boolean().default(false),
  kind: kind.default('other'),
});
/** An edit: only the fields given change (no defaults filled in); `edge: null` removes the edge. */
export const resourceChangesSchema = z.strictObject({
  name: name.optional(),
  hostname: hostname.optional(),
  edge: edge.nullable().optional(),
  localPort: localPort.optional(),
  localHost: localHost.optional(),
  tags: tags.optional(),
  autoConnect: z.boolean().optional(),
  kind: kind.optional(),
});
export type ResourceChanges = z.output<typeof resourceChangesSchema>;
export type ResourceInput = z.input<typeof resourceInputSchema>;
export type ResourceFields = z.output<typeof resourceInputSchema>;
export interface Resource extends ResourceFields {
  id: string;
}
export const resourceSchema = resourceInputSchema.extend({ id });

export const settingsSchema = z.strictObject({
  startAtLogin: z.boolean(),
  /** Ids of the resources connected when the app starts; the same fact as each resource's autoConnect. */
  autoConnect: z.array(id).max(LIMITS.resources),
  theme: z.enum(THEMES),
});
export type Settings = z.output<typeof settingsSchema>;

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
  lastError?: { code: string; message: string; at: string; action: ErrorAction };
  /** When the edge last answered for this resource (preflight or tunnel), ISO time. */
  checkedAt?: string;
  /** When a local program last opened a connection to it (since the app started), ISO time. */
  lastUsedAt?: string;
  /** False once its edge's discovery list is known and no longer has this hostname (kept, marked). */
  offered?: boolean;
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
  signingIn?: { url?: string; startedAt: string };
  /** How the last sign-in attempt failed (cancelled, timed out, denied), until the next one. */
  signInError?: { code: string; message: string; at: string };
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

/** Every call the UI can make: params schema (validated at the boundary) and result type. */
export const requestSchemas = {
  listResources: z.undefined(),
  addResource: resourceInputSchema,
  updateResource: z.strictObject({ id, changes: resourceChangesSchema }),
  removeResource: z.strictObject({ id }),
  importResources: z.strictObject({ json: z.string().max(LIMITS.importBytes, 'the file is too large') }),
  exportResources: z.undefined(),
  connect: z.strictObject({ id }),
  disconnect: z.strictObject({ id }),
  testResource: z.strictObject({ id }),
  connectAll: z.undefined(),
  disconnectAll: z.undefined(),
  getStatus: z.undefined(),
  signIn: z.strictObject({ edge: edge }),
  signOut: z.strictObject({ edge: edge }),
  cancelSignIn: z.strictObject({ edge: edge }),
  discover: z.strictObject({ edge: edge }),
  addDiscovered: z.strictObject({ edge: edge, hostname, connect: z.boolean() }),
  getSettings: z.undefined(),
  updateSettings: settingsSchema.partial().strict(),
  getLogs: z.strictObject({ level: z.enum(LOG_LEVELS).optional(), search: z.string().max(200).optional(), limit: z.number().int().min(1).max(1000).optional() }).optional(),
  createShortcut: z.strictObject({ id }),
  getAbout: z.undefined(),
  openWindow: z.undefined(),
} as const;

export type ApiMethod = keyof typeof requestSchemas;
export const API_METHODS: readonly ApiMethod[] = API_METHOD_NAMES;
// Compile-time check: the channel list and the schemas name exactly the same calls.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const methodListsMatch: Same<ApiMethod, ApiMethodName> = true;
void methodListsMatch;
export type ApiParams<M extends ApiMethod> = z.input<(typeof requestSchemas)[M]>;
export type ApiValidParams<M extends ApiMethod> = z.output<(typeof requestSchemas)[M]>;

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
export type AirlockApi = { [M in ApiMethod]: undefined extends ApiParams<M> ? (params?: ApiParams<M>) => Promise<ApiResults[M]> : (params: ApiParams<M>) => Promise<ApiResults[M]> } & {
  onEvent(listener: (event: ApiEvent) => void): () => void;
};

export type ApiErrorCode = 'INVALID_INPUT' | 'UNKNOWN_METHOD' | 'NOT_FOUND' | 'CONFLICT' | 'UNSUPPORTED' | 'FAILED';

/** The only error shape that crosses a transport; `fields` maps a form field to its message. */
export interface ApiErrorBody {
  code: ApiErrorCode | string;
  message: string;
  fields?: Record<string, string>;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: ApiErrorCode | string,
    message: string,
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
  }
  toBody(): ApiErrorBody {
    return { code: this.code, message: this.message, ...(Object.keys(this.fields).length ? { fields: this.fields } : {}) };
  }
}

export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiErrorBody };

/** Browser mode: the frames the WebSocket carries. */
export interface SocketRequest {
  id: number;
  method: string;
  params?: unknown;
}
export type SocketMessage = ({ id: number } & ApiResult<unknown>) | { event: ApiEvent };

export function isApiMethod(value: unknown): value is ApiMethod {
  return typeof value === 'string' && Object.hasOwn(requestSchemas, value);
}

/** Validates one call; throws ApiError INVALID_INPUT with a message per field. */
export function validateRequest<M extends ApiMethod>(method: M, params: unknown): ApiValidParams<M> {
  if (!isApiMethod(method)) throw new ApiError('UNKNOWN_METHOD', `unknown call "${String(method)}"`);
  const result = requestSchemas[method].safeParse(params);
  if (result.success) return result.data as ApiValidParams<M>;
  const fields: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const path = issue.path.filter((part) => typeof part !== 'symbol').join('.') || '_';
    fields[path.replace(/^changes\./, '')] ??= issue.message;
  }
  const summary = Object.entries(fields)
    .map(([field, message]) => (field === '_' ? message : `${field}: ${message}`))
    .join('; ');
  throw new ApiError('INVALID_INPUT', `invalid ${method}: ${summary}`, fields);
}

/** Runs one call against a service with validation and the error envelope; used by both transports. */
export async function dispatch(service: ApiService, method: unknown, params: unknown): Promise<ApiResult<unknown>> {
  try {
    if (!isApiMethod(method)) throw new ApiError('UNKNOWN_METHOD', `unknown call "${String(method).slice(0, 40)}"`);
    const valid = validateRequest(method, params);
    const call = service[method] as (params: unknown) => Promise<unknown>;
    const value = await call.call(service, valid);
    return { ok: true, value: value ?? null };
  } catch (error) {
    return { ok: false, error: toErrorBody(error) };
  }
}

export function toErrorBody(error: unknown): ApiErrorBody {
  if (error instanceof ApiError) return error.toBody();
  if (error instanceof Error && typeof (error as { code?: unknown }).code === 'string') {
    return { code: (error as Error & { code: string }).code, message: error.message };
  }
  return { code: 'FAILED', message: error instanceof Error ? error.message : String(error) };
}

/** What a transport must do; preload's window.airlock and the browser WebSocket both are one. */
export interface ApiTransport {
  invoke(method: ApiMethod, params: unknown): Promise<ApiResult<unknown>>;
  subscribe(listener: (event: ApiEvent) => void): () => void;
}

/** Typed client over any transport: checks params before sending, unwraps the envelope into values or ApiError. */
export function createApiClient(transport: ApiTransport): AirlockApi {
  const client: Record<string, unknown> = {
    onEvent: (listener: (event: ApiEvent) => void) => transport.subscribe(listener),
  };
  for (const method of API_METHODS) {
    client[method] = async (params?: unknown) => {
      validateRequest(method, params);
      const result = await transport.invoke(method, params);
      if (result.ok) return result.value ?? undefined;
      throw new ApiError(result.error.code, result.error.message, result.error.fields ?? {});
    };
  }
  return client as AirlockApi;
}
