// Saved resources and settings: one versioned document, migrated forward on load, behind a
// storage interface (electron-store in the app, a JSON file in browser mode and tests).
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import {
  ApiError,
  LIMITS,
  RESOURCE_KINDS,
  THEMES,
  resourceSchema,
  type Resource,
  type ResourceChanges,
  type ResourceFields,
  type ResourceKind,
  type Settings,
  type Theme,
} from '../../shared/contract/api.js';
import { AirlockError } from '../../shared/errors.js';
import { parseHostPort } from '../../shared/host.js';
import { checkConflicts } from './resource-transfer.js';

export const STORE_VERSION = 2;

/** What is saved. Settings' auto-connect list is not stored: it is each resource's autoConnect. */
export interface StoreDocument {
  version: typeof STORE_VERSION;
  resources: Resource[];
  settings: { startAtLogin: boolean; theme: Theme; resume: boolean };
}

export interface StorageBackend {
  /** The saved document as it was written, or undefined when nothing was saved yet. */
  read(): unknown;
  write(document: StoreDocument): void;
}

export function emptyDocument(): StoreDocument {
  return { version: STORE_VERSION, resources: [], settings: { startAtLogin: false, theme: 'system', resume: true } };
}

const documentSchema = z.object({
  version: z.literal(STORE_VERSION),
  resources: z.array(resourceSchema),
  // resume came later within version 2: a document without it gets the default.
  settings: z.object({ startAtLogin: z.boolean(), theme: z.enum(THEMES), resume: z.boolean().default(true) }),
});

/**
 * Version 0 (unversioned, the first prototype): `{ resources: [{ name, hostname, url: "127.0.0.1:2222",
 * autoConnect? }] }` — the local address as the CLI's --url takes it.
 * Version 1: ids, localHost/localPort split, tags; settings { startAtLogin, theme }.
 * Version 2: optional edge URL per resource and a kind hint (ssh, postgres, …) for "Copy command";
 * later settings.resume (absent means on).
 */
const migrations: Record<number, (document: Record<string, unknown>) => Record<string, unknown>> = {
  0: (document) => {
    const resources = arrayOf(document.resources).map((entry) => {
      const local = parseHostPort(String(entry.url ?? '')) ?? { host: '127.0.0.1', port: Number(entry.port) };
      return {
        id: randomUUID(),
        name: entry.name,
        hostname: entry.hostname,
        localHost: local.host,
        localPort: local.port,
        tags: [],
        autoConnect: entry.autoConnect === true,
      };
    });
    return { version: 1, resources, settings: { startAtLogin: false, theme: 'system' } };
  },
  1: (document) => ({
    ...document,
    version: 2,
    resources: arrayOf(document.resources).map((entry) => ({
      ...entry,
      kind: guessKind(Number(entry.localPort), String(entry.name ?? '')),
    })),
  }),
};

/** Brings any saved version up to the current one; refuses documents from a newer app. */
export function migrate(raw: unknown): StoreDocument {
  if (raw === undefined || raw === null) return emptyDocument();
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new AirlockError('CONFIG_INVALID', 'saved resources are not an object; move the file aside to start afresh');
  let document = raw as Record<string, unknown>;
  let version = document.version === undefined ? 0 : Number(document.version);
  if (!Number.isInteger(version) || version < 0)
    throw new AirlockError('CONFIG_INVALID', `saved resources have an unknown version "${String(document.version)}"`);
  if (version > STORE_VERSION) {
    throw new AirlockError(
      'CONFIG_INVALID',
      `saved resources were written by a newer Airlock (version ${version}); update the app`,
    );
  }
  while (version < STORE_VERSION) {
    document = migrations[version]!(document);
    version = Number(document.version);
  }
  const parsed = documentSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AirlockError(
      'CONFIG_INVALID',
      `saved resources are invalid at ${issue.path.join('.') || 'top level'}: ${issue.message}`,
    );
  }
  return parsed.data as StoreDocument;
}

export function guessKind(port: number, name: string): ResourceKind {
  const byPort: Record<number, ResourceKind> = { 22: 'ssh', 5432: 'postgres', 6379: 'redis', 3389: 'rdp' };
  if (byPort[port]) return byPort[port];
  const lower = name.toLowerCase();
  return (
    RESOURCE_KINDS.find((kind) => kind !== 'other' && lower.includes(kind)) ??
    (lower.includes('pg') ? 'postgres' : 'other')
  );
}

function arrayOf(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value)
    ? value.filter((entry): entry is Record<string, unknown> => typeof entry === 'object' && entry !== null)
    : [];
}

/** Loads, migrates and saves through a backend; writes back at once when a migration ran. */
export class ResourceStore {
  private document: StoreDocument;

  constructor(private readonly backend: StorageBackend) {
    const raw = backend.read();
    this.document = migrate(raw);
    if (raw !== undefined && (raw as { version?: unknown }).version !== STORE_VERSION) backend.write(this.document);
  }

  get(): StoreDocument {
    return structuredClone(this.document);
  }

  update(change: (document: StoreDocument) => void): StoreDocument {
    const next = structuredClone(this.document);
    change(next);
    this.document = documentSchema.parse(next) as StoreDocument;
    this.backend.write(this.document);
    return this.get();
  }
  /** The saved resource with this id, or NOT_FOUND. */
  find(id: string): Resource {
    const resource = this.get().resources.find((entry) => entry.id === id);
    if (!resource) throw new ApiError('NOT_FOUND', `no resource with id ${id}; it may have been removed`);
    return resource;
  }

  /** Saves a new resource; refuses one past the limit, or a name or local address another one uses. */
  add(input: ResourceFields): Resource {
    const resources = this.get().resources;
    if (resources.length >= LIMITS.resources) throw new ApiError('CONFLICT', `at most ${LIMITS.resources} resources`);
    const resource: Resource = { ...input, id: randomUUID() };
    checkConflicts(resource, resources);
    this.update((document) => document.resources.push(resource));
    return resource;
  }

  /** Applies an edit (only the fields given; `edge: null` removes the edge), and says what it was. */
  edit(id: string, changes: ResourceChanges): { before: Resource; after: Resource } {
    const before = this.find(id);
    const { edge, ...rest } = changes;
    const after: Resource = { ...before, ...rest };
    if (edge === null) delete after.edge;
    else if (edge !== undefined) after.edge = edge;
    checkConflicts(after, this.get().resources);
    this.update((document) => {
      document.resources = document.resources.map((resource) => (resource.id === id ? after : resource));
    });
    return { before, after };
  }

  remove(id: string): Resource {
    const resource = this.find(id);
    this.update((document) => {
      document.resources = document.resources.filter((entry) => entry.id !== id);
    });
    return resource;
  }

  /** Settings as the UI sees them: autoConnect is each resource's own flag, listed by id. */
  settings(): Settings {
    const { resources, settings } = this.get();
    return {
      ...settings,
      autoConnect: resources.filter((resource) => resource.autoConnect).map((resource) => resource.id),
    };
  }

  /** Applies a settings change; an autoConnect list naming an unknown resource changes nothing. */
  updateSettings(changes: Partial<Settings>): Settings {
    const { autoConnect, ...rest } = changes;
    if (autoConnect) {
      const known = new Set(this.get().resources.map((resource) => resource.id));
      const unknown = autoConnect.find((id) => !known.has(id));
      if (unknown)
        throw new ApiError('NOT_FOUND', `no resource with id ${unknown}`, { autoConnect: 'unknown resource' });
    }
    this.update((document) => {
      Object.assign(document.settings, rest);
      if (autoConnect)
        for (const resource of document.resources) resource.autoConnect = autoConnect.includes(resource.id);
    });
    return this.settings();
  }
}

/** A JSON file written atomically (temp file + rename) and readable only by the user. */
export class JsonFileStorage implements StorageBackend {
  constructor(readonly path: string) {}

  read(): unknown {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new AirlockError('CONFIG_UNREADABLE', `cannot read ${this.path}: ${(error as Error).message}`);
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new AirlockError('CONFIG_INVALID', `${this.path} is not valid JSON; fix it or move it aside`);
    }
  }

  write(document: StoreDocument): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(document, null, 2)}\n`, { mode: 0o600 });
    renameSync(temporary, this.path);
  }
}

export class MemoryStorage implements StorageBackend {
  constructor(public saved: unknown = undefined) {}
  read(): unknown {
    return this.saved === undefined ? undefined : structuredClone(this.saved);
  }
  write(document: StoreDocument): void {
    this.saved = structuredClone(document);
  }
}
