// The service side of the UI contract: saved resources, one LocalListener per connected resource,
// status snapshots, settings and a ring buffer of recent log lines. Both the Electron main process
// and the browser-mode server hand calls to one of these.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  ApiError,
  LIMITS,
  type About,
  type ApiEvent,
  type ApiService,
  type ApiValidParams,
  type Discovery,
  type EdgeSession,
  type ImportResult,
  type LogEntry,
  type LogLevel,
  type Resource,
  type ResourceStatus,
  type Settings,
  type StatusSnapshot,
} from '../../shared/contract/api.js';
import { isAirlockError } from '../../shared/errors.js';
import type { ListenerEvent } from '../../shared/contract/status.js';
import { NoAuth, type AuthProvider } from './auth-provider.js';
import { credentialHeaders } from '../../core/credentials.js';
import { DiscoveredApps } from './discovered-apps.js';
import { EdgeSessions } from './edge-sessions.js';
import { resolveEdgeTarget } from '../../core/edge-target.js';
import { LocalListener } from '../../core/local-listener.js';
import { LogRing } from './log-ring.js';
import { ResourceHealth } from './resource-health.js';
import { listenerLogLine, resourceStatus } from './resource-state.js';
import { ResourceStore, type StorageBackend } from './resource-store.js';
import { exportDocument, parseImport } from './resource-transfer.js';
import { checkAccess } from '../../core/tunnel-dial.js';

export interface ResourceManagerOptions {
  storage: StorageBackend;
  auth?: AuthProvider;
  /** CA file for development edges with a private CA. */
  caFile?: string;
  /** How many log entries to keep (default 500). */
  logLimit?: number;
  /** Writes a desktop shortcut for a resource; only the desktop app has one. */
  createShortcut?: (resource: Resource) => Promise<string>;
  /** Status ticks while connections are open, so byte counters move (default 1000 ms). */
  tickMs?: number;
  /** How often an unreachable edge is asked again while its resource is on (default 15 s). */
  recheckMs?: number;
  /** Shows the full window; only the desktop app has one. */
  showWindow?: () => void;
}

export declare interface ResourceManager {
  on(event: 'event', listener: (event: ApiEvent) => void): this;
  off(event: 'event', listener: (event: ApiEvent) => void): this;
}

export class ResourceManager extends EventEmitter implements ApiService {
  private readonly store: ResourceStore;
  private readonly auth: AuthProvider;
  private readonly localListeners = new Map<string, LocalListener>();
  /** Failures to start a listener, kept until the next connect or disconnect. */
  private readonly failures = new Map<string, { code: string; message: string; at: string }>();
  private readonly discovered = new DiscoveredApps();
  private readonly health: ResourceHealth;
  private readonly logs: LogRing;
  private readonly edgeSessions: EdgeSessions;
  private tick: NodeJS.Timeout | undefined;

  constructor(private readonly options: ResourceManagerOptions) {
    super();
    this.setMaxListeners(50);
    this.store = new ResourceStore(options.storage);
    this.auth = options.auth ?? new NoAuth();
    this.logs = new LogRing(options.logLimit ?? 500);
    this.edgeSessions = new EdgeSessions(this.auth, (level, message) => this.log(level, message));
    this.health = new ResourceHealth({
      preflight: (resource) => this.preflight(resource),
      signIn: (resource) => this.auth.signIn(this.auth.edgeOf(resource), resource),
      isOn: (id) => this.localListeners.has(id),
      find: (id) => this.store.get().resources.find((resource) => resource.id === id),
      edgeOf: (resource) => this.auth.edgeOf(resource),
      onChange: () => this.emitStatus(),
      log: (level, message, resourceId) => this.log(level, message, resourceId),
      ...(options.recheckMs ? { recheckMs: options.recheckMs } : {}),
    });
    this.auth.watch?.(() => this.onSignInChange());
  }

  async listResources(): Promise<Resource[]> {
    return this.store.get().resources;
  }

  async addResource(input: ApiValidParams<'addResource'>): Promise<Resource> {
    const resources = this.store.get().resources;
    if (resources.length >= LIMITS.resources) throw new ApiError('CONFLICT', `at most ${LIMITS.resources} resources`);
    const resource: Resource = { ...input, id: randomUUID() };
    checkConflicts(resource, resources);
    this.store.update((document) => document.resources.push(resource));
    this.log('info', `added ${resource.name} (${resource.hostname} on ${resource.localHost}:${resource.localPort})`, resource.id);
    this.emitResources();
    return resource;
  }

  async updateResource({ id, changes }: ApiValidParams<'updateResource'>): Promise<Resource> {
    const current = this.find(id);
    const { edge, ...rest } = changes;
    const next: Resource = { ...current, ...rest };
    if (edge === null) delete next.edge;
    else if (edge !== undefined) next.edge = edge;
    checkConflicts(next, this.store.get().resources);
    this.store.update((document) => {
      document.resources = document.resources.map((resource) => (resource.id === id ? next : resource));
    });
    this.log('info', `updated ${next.name}`, id);
    const running = this.localListeners.get(id);
    const addressChanged = next.localPort !== current.localPort || next.localHost !== current.localHost || next.hostname !== current.hostname || next.edge !== current.edge;
    if (running && addressChanged) {
      await this.disconnect({ id });
      await this.connect({ id });
    }
    this.emitResources();
    return next;
  }

  async removeResource({ id }: ApiValidParams<'removeResource'>): Promise<void> {
    const resource = this.find(id);
    await this.disconnect({ id });
    this.failures.delete(id);
    this.store.update((document) => {
      document.resources = document.resources.filter((entry) => entry.id !== id);
    });
    this.log('info', `removed ${resource.name}`);
    this.emitResources();
  }

  async importResources({ json }: ApiValidParams<'importResources'>): Promise<ImportResult> {
    const result: ImportResult = { added: [], skipped: [] };
    for (const entry of parseImport(json)) {
      if (!entry.ok) {
        result.skipped.push({ name: entry.name, reason: entry.reason });
        continue;
      }
      try {
        result.added.push(await this.addResource(entry.fields));
      } catch (error) {
        result.skipped.push({ name: entry.name, reason: error instanceof Error ? error.message : String(error) });
      }
    }
    this.log('info', `imported ${result.added.length} resource(s), skipped ${result.skipped.length}`);
    return result;
  }

  async exportResources(): Promise<{ json: string }> {
    return { json: exportDocument(this.store.get().resources) };
  }

  async connect({ id }: ApiValidParams<'connect'>): Promise<ResourceStatus> {
    const resource = this.find(id);
    if (this.localListeners.has(id)) return this.statusOf(resource);
    this.failures.delete(id);
    let listener: LocalListener;
    try {
      const target = resolveEdgeTarget({ hostname: resource.hostname, ...(resource.edge ? { edge: resource.edge } : {}), ...(this.options.caFile ? { caFile: this.options.caFile } : {}) });
      listener = new LocalListener({
        target,
        local: { host: resource.localHost, port: resource.localPort },
        credential: () => this.auth.credentialFor(this.find(id)),
        onAuthRequired: () => this.auth.signIn(this.auth.edgeOf(this.find(id)), this.find(id)),
      });
    } catch (error) {
      return this.fail(resource, error);
    }
    listener.on('event', (event) => this.onListenerEvent(resource, event));
    this.localListeners.set(id, listener);
    try {
      await listener.start();
    } catch (error) {
      this.localListeners.delete(id);
      return this.fail(resource, error);
    }
    // Open is not ready: ask the edge now (and sign in when it asks), so the row tells the truth.
    void this.health.check(resource, 'user');
    return this.statusOf(resource);
  }

  async testResource({ id }: ApiValidParams<'testResource'>): Promise<ResourceStatus> {
    const resource = this.find(id);
    const outcome = await this.health.check(resource, 'user');
    if (!this.localListeners.has(id)) {
      // Off: nothing to show on the row, so the answer is the reply.
      if (!outcome.ok) throw new ApiError(outcome.code, outcome.message);
      this.log('info', `${resource.name}: the edge answered and admits you (switch it on to use it)`, id);
    }
    return this.statusOf(resource);
  }

  async disconnect({ id }: ApiValidParams<'disconnect'>): Promise<void> {
    this.find(id);
    this.failures.delete(id);
    this.health.forget(id);
    const listener = this.localListeners.get(id);
    if (!listener) return this.emitStatus();
    this.localListeners.delete(id);
    await listener.stop();
    this.emitStatus();
  }

  async connectAll(): Promise<void> {
    await Promise.all(this.store.get().resources.map((resource) => this.connect({ id: resource.id })));
  }

  async disconnectAll(): Promise<void> {
    await Promise.all([...this.localListeners.keys()].map((id) => this.disconnect({ id })));
  }

  /** Connects the resources marked auto-connect; the app calls this once at start. */
  async connectAutomatic(): Promise<void> {
    await Promise.all(this.store.get().resources.filter((resource) => resource.autoConnect).map((resource) => this.connect({ id: resource.id })));
  }

  async getStatus(): Promise<StatusSnapshot> {
    const resources = this.store.get().resources;
    return { resources: resources.map((resource) => this.statusOf(resource)), sessions: await this.sessions(resources) };
  }

  /** The edge a resource signs in at, as sessions name it (its sign-in domain once known). */
  edgeOf(resource: Resource): string {
    return this.auth.edgeOf(resource);
  }

  async signIn({ edge }: ApiValidParams<'signIn'>): Promise<EdgeSession> {
    const resource = this.store.get().resources.find((entry) => this.auth.edgeOf(entry) === edge);
    try {
      await this.auth.signIn(edge, resource);
      this.log('info', `signed in to ${edge}`);
      this.recheckEdge(edge);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log('warn', `sign-in to ${edge} failed: ${message}`);
      throw new ApiError(isAirlockError(error) ? error.code : 'FAILED', message);
    }
    this.emitStatus();
    return this.session(edge);
  }

  async cancelSignIn({ edge }: ApiValidParams<'cancelSignIn'>): Promise<EdgeSession> {
    if (!this.auth.cancelSignIn?.(edge)) throw new ApiError('NOT_FOUND', `no sign-in to ${edge} is waiting`);
    return this.session(edge);
  }

  async signOut({ edge }: ApiValidParams<'signOut'>): Promise<EdgeSession> {
    await this.auth.signOut(edge);
    this.log('info', `signed out of ${edge}`);
    this.emitStatus();
    return this.session(edge);
  }

  /** Discovery: the apps an edge lets the signed-in user reach, each marked when already saved. */
  async discover({ edge }: ApiValidParams<'discover'>): Promise<Discovery> {
    if (!this.auth.discover) throw new ApiError('AUTH_REQUIRED', this.auth.unavailableReason ?? 'discovery is not available in this build');
    try {
      const discovery = await this.discovered.record(edge, await this.auth.discover(edge), this.store.get().resources);
      this.emitStatus();
      return discovery;
    } catch (error) {
      throw new ApiError(isAirlockError(error) ? error.code : 'FAILED', error instanceof Error ? error.message : String(error));
    }
  }

  /** Saves an app from its edge's last list as a resource on its free port, and switches it on when asked. */
  async addDiscovered({ edge, hostname, connect }: ApiValidParams<'addDiscovered'>): Promise<Resource> {
    const fields = this.discovered.resourceFor(edge, hostname);
    if (!fields) throw new ApiError('NOT_FOUND', `${hostname} is not in the list ${edge} last gave; open Browse again`);
    const resource = await this.addResource(fields);
    this.discovered.markSaved(edge, hostname, resource.id);
    if (connect) await this.connect({ id: resource.id });
    return resource;
  }

  /** Every edge's last list, for the tray menu. */
  discoveredApps(): Discovery[] {
    return this.discovered.all();
  }

  /** Signs out of every edge a saved resource uses (the tray's "Sign out"). */
  async signOutAll(): Promise<void> {
    const edges = new Set(this.store.get().resources.map((resource) => this.auth.edgeOf(resource)));
    for (const edge of edges) await this.signOut({ edge });
  }

  async getSettings(): Promise<Settings> {
    const { resources, settings } = this.store.get();
    return { ...settings, autoConnect: resources.filter((resource) => resource.autoConnect).map((resource) => resource.id) };
  }

  async updateSettings(changes: ApiValidParams<'updateSettings'>): Promise<Settings> {
    const { autoConnect, ...rest } = changes;
    if (autoConnect) {
      const known = new Set(this.store.get().resources.map((resource) => resource.id));
      const unknown = autoConnect.find((id) => !known.has(id));
      if (unknown) throw new ApiError('NOT_FOUND', `no resource with id ${unknown}`, { autoConnect: 'unknown resource' });
    }
    this.store.update((document) => {
      Object.assign(document.settings, rest);
      if (autoConnect) for (const resource of document.resources) resource.autoConnect = autoConnect.includes(resource.id);
    });
    const settings = await this.getSettings();
    this.emitEvent({ type: 'settings', data: settings });
    if (autoConnect) this.emitResources();
    return settings;
  }

  async getLogs(query: ApiValidParams<'getLogs'>): Promise<LogEntry[]> {
    return this.logs.query(query ?? {});
  }

  async createShortcut({ id }: ApiValidParams<'createShortcut'>): Promise<{ path: string }> {
    const resource = this.find(id);
    if (!this.options.createShortcut) throw new ApiError('UNSUPPORTED', 'desktop shortcuts are created by the desktop app, not in browser mode');
    const path = await this.options.createShortcut(resource);
    this.log('info', `created a desktop shortcut for ${resource.name} at ${path}`, id);
    return { path };
  }

  async getAbout(): Promise<About> {
    const tokenStore = await this.auth.describeStore?.().catch(() => undefined);
    return tokenStore ? { tokenStore } : {};
  }

  async openWindow(): Promise<void> {
    if (!this.options.showWindow) throw new ApiError('UNSUPPORTED', 'there is no desktop window in browser mode');
    this.options.showWindow();
  }

  /** Finds a resource by its name, as deep links and the tray name them. */
  findByName(name: string): Resource | undefined {
    return this.store.get().resources.find((resource) => resource.name.toLowerCase() === name.toLowerCase());
  }

  log(level: LogLevel, message: string, resourceId?: string): void {
    this.emitEvent({ type: 'log', data: this.logs.add(level, message, resourceId) });
  }

  /** Stops every listener; the process can then exit. */
  async close(): Promise<void> {
    await this.disconnectAll();
    this.health.close();
    this.stopTick();
  }

  private find(id: string): Resource {
    const resource = this.store.get().resources.find((entry) => entry.id === id);
    if (!resource) throw new ApiError('NOT_FOUND', `no resource with id ${id}; it may have been removed`);
    return resource;
  }

  /** The edge's answer for a resource with its current credential: GET / answered 426 means admitted. */
  private async preflight(resource: Resource): Promise<void> {
    const target = resolveEdgeTarget({ hostname: resource.hostname, ...(resource.edge ? { edge: resource.edge } : {}), ...(this.options.caFile ? { caFile: this.options.caFile } : {}) });
    const credential = await this.auth.credentialFor(resource);
    await checkAccess({ target, headers: credentialHeaders(credential) });
  }

  /** After a sign-in: the switched-on resources of that edge ask again, so their rows turn ready. */
  private recheckEdge(edge: string): void {
    for (const resource of this.store.get().resources) {
      if (this.localListeners.has(resource.id) && this.auth.edgeOf(resource) === edge && this.health.outcome(resource.id)?.ok !== true) {
        void this.health.check(resource, 'recheck');
      }
    }
  }

  private onSignInChange(): void {
    this.edgeSessions.announce(this.store.get().resources.map((resource) => this.auth.edgeOf(resource)));
    this.emitStatus();
  }

  private fail(resource: Resource, error: unknown): ResourceStatus {
    const code = isAirlockError(error) ? error.code : 'FAILED';
    const message = error instanceof Error ? error.message : String(error);
    this.failures.set(resource.id, { code, message, at: new Date().toISOString() });
    this.log('error', `${resource.name}: ${message}`, resource.id);
    this.emitStatus();
    return this.statusOf(resource);
  }

  private statusOf(resource: Resource): ResourceStatus {
    const edge = this.auth.edgeOf(resource);
    const startFailure = this.failures.get(resource.id);
    const check = this.health.outcome(resource.id);
    const lastUsedAt = this.health.lastUsedAt(resource.id);
    // Discovery's last list for this resource's edge: an app that left it is marked, never deleted.
    const offered = this.discovered.offers(edge, resource.hostname);
    return resourceStatus({
      id: resource.id,
      edge,
      listener: this.localListeners.get(resource.id)?.status(),
      signingIn: this.auth.pendingSignIn?.(edge) !== undefined,
      ...(startFailure ? { startFailure } : {}),
      ...(check ? { check } : {}),
      ...(lastUsedAt ? { lastUsedAt } : {}),
      ...(offered === undefined ? {} : { offered }),
    });
  }

  private async sessions(resources: Resource[]): Promise<EdgeSession[]> {
    const edges = this.edgeSessions.edges(resources.map((resource) => this.auth.edgeOf(resource)));
    const sessions = await Promise.all(edges.map((edge) => this.session(edge)));
    // A new sign-in lists its edge's apps in the background, so the tray menu offers them too.
    for (const session of sessions) {
      if (session.signedIn && this.auth.discover) this.discovered.prefetch(session.edge, () => this.discover({ edge: session.edge }));
    }
    return sessions;
  }

  private session(edge: string): Promise<EdgeSession> {
    return this.edgeSessions.session(edge);
  }

  private onListenerEvent(resource: Resource, event: ListenerEvent): void {
    this.health.onListenerEvent(resource, event);
    if (event.type === 'connection-opened') this.startTick();
    const line = listenerLogLine(resource.name, event);
    if (line) this.log(line.level, line.message, resource.id);
    this.emitStatus();
  }

  private startTick(): void {
    if (this.tick) return;
    this.tick = setInterval(() => {
      const active = [...this.localListeners.values()].some((listener) => listener.status().activeConnections > 0);
      this.emitStatus();
      if (!active) this.stopTick();
    }, this.options.tickMs ?? 1000);
    this.tick.unref();
  }

  private stopTick(): void {
    clearInterval(this.tick);
    this.tick = undefined;
  }

  private emitStatus(): void {
    if (this.listenerCount('event') === 0) return;
    this.getStatus().then(
      (data) => this.emitEvent({ type: 'status', data }),
      () => {},
    );
  }

  /** The list changed: send it, and a status snapshot (a new resource may bring a new edge). */
  private emitResources(): void {
    this.emitEvent({ type: 'resources', data: this.store.get().resources });
    this.emitStatus();
  }

  private emitEvent(event: ApiEvent): void {
    this.emit('event', event);
  }
}

function checkConflicts(resource: Resource, resources: Resource[]): void {
  for (const other of resources) {
    if (other.id === resource.id) continue;
    if (other.name.toLowerCase() === resource.name.toLowerCase()) {
      throw new ApiError('CONFLICT', `a resource named "${other.name}" already exists`, { name: `"${other.name}" already exists` });
    }
    if (other.localPort === resource.localPort && other.localHost === resource.localHost) {
      throw new ApiError('CONFLICT', `local port ${resource.localPort} is already used by "${other.name}"`, {
        localPort: `port ${resource.localPort} is already used by "${other.name}"`,
      });
    }
  }
}
