// What the UI may ask and with which fields: the resource and settings schemas and, per call,
// the schema its params must pass (both transports check them, src/shared/contract/api-transport.ts).
import { z } from 'zod';
import { API_METHOD_NAMES, type ApiMethodName } from './api-channels.js';

export const RESOURCE_KINDS = ['ssh', 'postgres', 'redis', 'rdp', 'other'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];
export const THEMES = ['light', 'dark', 'system'] as const;
export type Theme = (typeof THEMES)[number];
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Ports below this need privileges on most systems; the UI recommends a port at or above it. */
export const RECOMMENDED_MIN_PORT = 1024;
export const LIMITS = {
  nameLength: 64,
  hostnameLength: 253,
  tags: 16,
  tagLength: 32,
  resources: 500,
  importBytes: 512 * 1024,
} as const;

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
      return (
        url.protocol === 'https:' && !url.username && !url.password && (url.pathname === '/' || url.pathname === '')
      );
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
const localHost = z
  .string()
  .trim()
  .regex(/^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|::1)$/, 'a loopback address such as 127.0.0.1');
const tag = z
  .string()
  .trim()
  .min(1)
  .max(LIMITS.tagLength, `tags are at most ${LIMITS.tagLength} characters`)
  .regex(tagPattern, 'tags are letters, digits, - and _');
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
  /** Ask for resumable streams, so a restarted edge or a network cut loses no byte (on by default). */
  resume: z.boolean(),
});
export type Settings = z.output<typeof settingsSchema>;

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
  signOutAll: z.undefined(),
  cancelSignIn: z.strictObject({ edge: edge }),
  discover: z.strictObject({ edge: edge }),
  addDiscovered: z.strictObject({ edge: edge, hostname, connect: z.boolean() }),
  getSettings: z.undefined(),
  updateSettings: settingsSchema.partial().strict(),
  getLogs: z
    .strictObject({
      level: z.enum(LOG_LEVELS).optional(),
      search: z.string().max(200).optional(),
      limit: z.number().int().min(1).max(1000).optional(),
    })
    .optional(),
  createShortcut: z.strictObject({ id }),
  getAbout: z.undefined(),
  openWindow: z.undefined(),
  hideTray: z.undefined(),
  quit: z.undefined(),
  sshConfig: z.strictObject({ id }),
} as const;

export type ApiMethod = keyof typeof requestSchemas;
export const API_METHODS: readonly ApiMethod[] = API_METHOD_NAMES;
// Compile-time check: the channel list and the schemas name exactly the same calls.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const methodListsMatch: Same<ApiMethod, ApiMethodName> = true;
void methodListsMatch;
export type ApiParams<M extends ApiMethod> = z.input<(typeof requestSchemas)[M]>;
export type ApiValidParams<M extends ApiMethod> = z.output<(typeof requestSchemas)[M]>;
