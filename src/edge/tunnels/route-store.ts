// Tunnels and routes created by operators, kept in the edge's state directory as one JSON
// file. edge.yaml stays the source of truth for policy; this file only says which tunnel and
// service serve a hostname whose app the file already declares.
//
// Writes go to a temporary file in the same directory, then rename: a crash leaves the old file or
// the new one, never half of one. A file that does not parse stops the edge, naming the file; it is
// never overwritten, so an operator can look at what went wrong.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { AirlockError } from '../../shared/errors.js';
import { hashSecret, newSecret } from '../../shared/secrets.js';

const tunnelSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/),
  name: z.string().min(1).max(128),
  secretHash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  owner: z.string().min(1),
  createdAt: z.string().min(1),
});

const routeSchema = z.strictObject({
  hostname: z.string().min(1).max(253),
  tunnelId: z.string().min(1),
  service: z.string().regex(/^tcp:\/\//),
  owner: z.string().min(1),
  createdAt: z.string().min(1),
});

const fileSchema = z.strictObject({
  version: z.literal(1),
  tunnels: z.array(tunnelSchema),
  routes: z.array(routeSchema),
});

export type StoredTunnel = z.infer<typeof tunnelSchema>;
export type StoredRoute = z.infer<typeof routeSchema>;
export type RouteStoreData = z.infer<typeof fileSchema>;
type StoreData = RouteStoreData;

/** Where changes are kept: the state directory's file, or (several edges) PostgreSQL. */
export type RouteStorePersistence = (update: (data: StoreData) => StoreData, current: StoreData) => Promise<StoreData>;

export const EMPTY_ROUTE_STORE: RouteStoreData = { version: 1, tunnels: [], routes: [] };

export class RouteStore {
  /** Bumped on every change, so views built from the store know when to rebuild. */
  version = 0;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    /** Where it is kept, for messages. */
    readonly file: string,
    private data: StoreData,
    private readonly persist: RouteStorePersistence = async (update, current) => {
      const next = update(current);
      await writeAtomically(file, `${JSON.stringify(next, null, 2)}\n`);
      return next;
    },
  ) {}

  /** A store kept elsewhere (src/edge/state/postgres-routes.ts); `data` is checked like a file's. */
  static shared(where: string, data: unknown, persist: RouteStorePersistence): RouteStore {
    return new RouteStore(where, validated(where, data), persist);
  }

  /** Another edge changed the shared store: take its data as it now is. */
  replace(data: unknown): void {
    this.data = validated(this.file, data);
    this.version += 1;
  }

  /** Reads the store; a missing file is an empty store, an unreadable or invalid one is an error. */
  static async open(file: string): Promise<RouteStore> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return new RouteStore(file, { version: 1, tunnels: [], routes: [] });
      throw new AirlockError('CONFIG_UNREADABLE', `cannot read the route store ${file}: ${(error as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw corrupted(file, `not JSON (${(error as Error).message})`);
    }
    return new RouteStore(file, validated(file, parsed));
  }

  tunnels(): readonly StoredTunnel[] {
    return this.data.tunnels;
  }

  routes(): readonly StoredRoute[] {
    return this.data.routes;
  }

  tunnelByName(name: string): StoredTunnel | undefined {
    return this.data.tunnels.find((tunnel) => tunnel.name === name);
  }

  tunnelById(id: string): StoredTunnel | undefined {
    return this.data.tunnels.find((tunnel) => tunnel.id === id);
  }

  route(hostname: string): StoredRoute | undefined {
    return this.data.routes.find((route) => route.hostname === hostname);
  }

  /** A new tunnel and its secret; the store keeps only the hash. */
  async createTunnel(name: string, owner: string, now = new Date()): Promise<{ tunnel: StoredTunnel; secret: string }> {
    const secret = newSecret();
    const tunnel: StoredTunnel = {
      id: `t-${randomBytes(8).toString('hex')}`,
      name,
      secretHash: hashSecret(secret),
      owner,
      createdAt: now.toISOString(),
    };
    await this.change((data) => ({ ...data, tunnels: [...data.tunnels, tunnel] }));
    return { tunnel, secret };
  }

  /** A new secret for a tunnel; connectors holding the old one are refused when they reconnect. */
  async rotateSecret(id: string): Promise<string> {
    const secret = newSecret();
    await this.change((data) => ({
      ...data,
      tunnels: data.tunnels.map((tunnel) =>
        tunnel.id === id ? { ...tunnel, secretHash: hashSecret(secret) } : tunnel,
      ),
    }));
    return secret;
  }

  /** Removes the tunnel and every route through it. */
  async deleteTunnel(id: string): Promise<StoredRoute[]> {
    const removed = this.data.routes.filter((route) => route.tunnelId === id);
    await this.change((data) => ({
      ...data,
      tunnels: data.tunnels.filter((tunnel) => tunnel.id !== id),
      routes: data.routes.filter((route) => route.tunnelId !== id),
    }));
    return removed;
  }

  /** Adds or replaces the route for route.hostname (the caller has checked who may). */
  async putRoute(route: StoredRoute): Promise<void> {
    await this.change((data) => ({
      ...data,
      routes: [...data.routes.filter((existing) => existing.hostname !== route.hostname), route],
    }));
  }

  private change(update: (data: StoreData) => StoreData): Promise<void> {
    // Changes apply one after another, each to the data the previous one left.
    const write = this.writing.then(async () => {
      this.data = validated(this.file, await this.persist(update, this.data));
      this.version += 1;
    });
    this.writing = write.catch(() => {});
    return write;
  }
}

function validated(where: string, data: unknown): StoreData {
  const result = fileSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw corrupted(where, `${issue.path.join('.') || 'top level'}: ${issue.message}`);
  }
  const ids = new Set(result.data.tunnels.map((tunnel) => tunnel.id));
  const orphan = result.data.routes.find((route) => !ids.has(route.tunnelId));
  if (orphan)
    throw corrupted(where, `route ${orphan.hostname} names tunnel ${orphan.tunnelId}, which is not in the file`);
  return result.data;
}

async function writeAtomically(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

function corrupted(file: string, problem: string): AirlockError {
  return new AirlockError(
    'CONFIG_INVALID',
    `the route store ${file} is damaged (${problem}); the edge will not start and will not overwrite it: restore it from a backup, or move it away to start with no routes`,
  );
}
