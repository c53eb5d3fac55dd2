// The service side of the UI contract, one object both transports call: saved resources and
// settings (ResourceStore), what is switched on (ResourceConnections), sign-in per edge
// (EdgeSessions), discovery (DiscoveredApps) and the Logs view's ring buffer (LogRing).
import { EventEmitter } from 'node:events';
import {
  ApiError,
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
  withoutCliSyntax,
} from '../../shared/contract/api.js';
import { sshConfigBlock } from '../../shared/contract/ssh-config.js';
import { NoAuth, type AuthProvider } from './auth-provider.js';
import { DiscoveredApps } from './discovered-apps.js';
import { EdgeSessions } from './edge-sessions.js';
import { LogRing } from './log-ring.js';
import { ResourceConnections } from './resource-connections.js';
import { ResourceStore, type StorageBackend } from './resource-store.js';
import { exportDocument, importEntries, parseImport } from './resource-transfer.js';

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
  /** How often a ready resource's edge is asked again while nothing is connected (default 60 s). */
  idleRecheckMs?: number;
  /** Shows the full window; only the desktop app has one. */
  showWindow?: () => void;
  /** Hides the tray panel; only the desktop app has one. */
  hideTray?: () => void;
  /**
   * Ends the app: called once the answer to `quit` is on its way (the desktop app's app.quit(),
   * browser mode's stop of its server and listeners). Without it, `quit` is refused.
   */
  quit?: () => void;
  /** How ssh's ProxyCommand runs the airlock CLI, one word each (default: `airlock` on the PATH). */
  airlockCommand?: readonly string[];
}

/** Emits 'event' (ApiEvent) for every UI. */
export class ResourceManager extends EventEmitter<{ event: [ApiEvent] }> implements ApiService {
  private readonly store: ResourceStore;
  private readonly auth: AuthProvider;
  private readonly connections: ResourceConnections;
  private readonly discovered = new DiscoveredApps();
  private readonly logs: LogRing;
  private readonly edgeSessions: EdgeSessions;

  constructor(private readonly options: ResourceManagerOptions) {
    super();
    this.setMaxListeners(50);
    this.store = new ResourceStore(options.storage);
    this.auth = options.auth ?? new NoAuth();
    this.logs = new LogRing(options.logLimit ?? 500);
    this.edgeSessions = new EdgeSessions(this.auth, (level, message) => this.log(level, message));
    this.connections = new ResourceConnections({
      ...options, // caFile, tickMs, recheckMs, idleRecheckMs
      auth: this.auth,
      find: (id) => this.store.get().resources.find((resource) => resource.id === id),
      log: (level, message, resourceId) => this.log(level, message, resourceId),
      onChange: () => this.emitStatus(),
      ports: () => this.store.get().resources.map((resource) => resource.localPort),
      resources: () => this.store.get().resources,
      resume: () => this.store.settings().resume,
    });
    this.auth.watch?.(() => this.onSignInChange());
  }

  async listResources(): Promise<Resource[]> {
    return this.store.get().resources;
  }

  async addResource(input: ApiValidParams<'addResource'>): Promise<Resource> {
    const resource = this.store.add(input);
    this.log(
      'info',
      `added ${resource.name} (${resource.hostname} on ${resource.localHost}:${resource.localPort})`,
      resource.id,
    );
    this.emitResources();
    return resource;
  }

  async updateResource({ id, changes }: ApiValidParams<'updateResource'>): Promise<Resource> {
    const { before, after } = this.store.edit(id, changes);
    this.log('info', `updated ${after.name}`, id);
    // A listener on the old address or for the old app would lie: reopen it as edited.
    const moved = (['localPort', 'localHost', 'hostname', 'edge'] as const).some(
      (field) => after[field] !== before[field],
    );
    if (this.connections.isOn(id) && moved) {
      await this.disconnect({ id });
      await this.connect({ id });
    }
    this.emitResources();
    return after;
  }

  async removeResource({ id }: ApiValidParams<'removeResource'>): Promise<void> {
    await this.disconnect({ id });
    const resource = this.store.remove(id);
    this.log('info', `removed ${resource.name}`);
    this.emitResources();
  }

  async importResources({ json }: ApiValidParams<'importResources'>): Promise<ImportResult> {
    const result = await importEntries(parseImport(json), (fields) => this.addResource(fields));
    this.log('info', `imported ${result.added.length} resource(s), skipped ${result.skipped.length}`);
    return result;
  }

  async exportResources(): Promise<{ json: string }> {
    return { json: exportDocument(this.store.get().resources) };
  }

  async connect({ id }: ApiValidParams<'connect'>): Promise<ResourceStatus> {
    const resource = this.store.find(id);
    await this.connections.connect(resource);
    return this.statusOf(resource);
  }

  async testResource({ id }: ApiValidParams<'testResource'>): Promise<ResourceStatus> {
    const resource = this.store.find(id);
    await this.connections.test(resource);
    return this.statusOf(resource);
  }

  async disconnect({ id }: ApiValidParams<'disconnect'>): Promise<void> {
    this.store.find(id);
    await this.connections.disconnect(id);
  }

  async connectAll(): Promise<void> {
    await this.connectEach(() => true);
  }

  async disconnectAll(): Promise<void> {
    await Promise.all(this.connections.switchedOn().map((id) => this.disconnect({ id })));
  }

  /** Connects the resources marked auto-connect; the app calls this once at start. */
  async connectAutomatic(): Promise<void> {
    await this.connectEach((resource) => resource.autoConnect);
  }

  private async connectEach(which: (resource: Resource) => boolean): Promise<void> {
    await Promise.all(
      this.store
        .get()
        .resources.filter(which)
        .map(({ id }) => this.connect({ id })),
    );
  }

  async getStatus(): Promise<StatusSnapshot> {
    const resources = this.store.get().resources;
    return {
      resources: resources.map((resource) => this.statusOf(resource)),
      sessions: await this.sessions(resources),
    };
  }

  async signIn({ edge }: ApiValidParams<'signIn'>): Promise<EdgeSession> {
    const resources = this.store.get().resources;
    const open = this.openThrough(edge, resources);
    // Signed in, but the session behind open connections ends soon: "Sign in again" renews it.
    if ((await this.edgeSessions.session(edge, await this.streamsThrough(open))).expiryWarning) {
      await this.edgeSessions.renew(edge, open);
      // The edge that issued the new tokens carries the streams over; showing them covers any other.
      this.connections.recheck(open);
    } else await this.edgeSessions.signIn(edge, resources);
    this.connections.recheckEdge(edge, this.store.get().resources);
    this.emitStatus();
    return this.edgeSessions.session(edge);
  }

  async cancelSignIn({ edge }: ApiValidParams<'cancelSignIn'>): Promise<EdgeSession> {
    this.edgeSessions.cancel(edge);
    return this.edgeSessions.session(edge);
  }

  async signOut({ edge }: ApiValidParams<'signOut'>): Promise<EdgeSession> {
    // Refuse first, then revoke: a program connecting meanwhile must not start a browser sign-in.
    this.connections.signOut(edge, this.store.get().resources);
    await this.edgeSessions.signOut(edge);
    this.emitStatus();
    return this.edgeSessions.session(edge);
  }

  /** Discovery: the apps an edge lets the signed-in user reach, each marked when already saved. */
  async discover({ edge }: ApiValidParams<'discover'>): Promise<Discovery> {
    const apps = await this.edgeSessions.discover(edge);
    const discovery = await this.discovered.record(edge, apps, this.store.get().resources);
    this.emitStatus();
    return discovery;
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

  /**
   * Sign out everywhere (the tray's "Sign out everywhere", the window's signOutAll): every edge a
   * saved resource uses or Browse signed in to, at once; each edge ends the streams of the session.
   */
  async signOutAll(): Promise<void> {
    const edges = this.edgeSessions.edges(this.store.get().resources.map((resource) => this.auth.edgeOf(resource)));
    await Promise.all(edges.map((edge) => this.edgeSessions.signOut(edge)));
    this.emitStatus();
  }

  async getSettings(): Promise<Settings> {
    return this.store.settings();
  }

  async updateSettings(changes: ApiValidParams<'updateSettings'>): Promise<Settings> {
    const settings = this.store.updateSettings(changes);
    this.emitEvent({ type: 'settings', data: settings });
    if (changes.autoConnect) this.emitResources();
    return settings;
  }

  async getLogs(query: ApiValidParams<'getLogs'>): Promise<LogEntry[]> {
    return this.logs.query(query ?? {});
  }

  async createShortcut({ id }: ApiValidParams<'createShortcut'>): Promise<{ path: string }> {
    const resource = this.store.find(id);
    if (!this.options.createShortcut)
      throw new ApiError('UNSUPPORTED', 'desktop shortcuts are created by the desktop app, not in browser mode');
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

  async hideTray(): Promise<void> {
    if (!this.options.hideTray) throw new ApiError('UNSUPPORTED', 'there is no tray panel in browser mode');
    this.options.hideTray();
  }

  async quit(): Promise<void> {
    const quit = this.options.quit;
    if (!quit) throw new ApiError('UNSUPPORTED', 'this Airlock cannot be quit from its window');
    this.log('info', 'quitting: every listener stops');
    // After this call's answer has left: the shell may close the very connection that carries it.
    setImmediate(quit);
  }

  /** For an SSH resource: the ssh_config block that reaches its host through `airlock access ssh`. */
  async sshConfig({ id }: ApiValidParams<'sshConfig'>): Promise<{ text: string }> {
    const resource = this.store.find(id);
    if (resource.kind !== 'ssh')
      throw new ApiError('INVALID_INPUT', `${resource.name} is not an SSH resource; its kind is ${resource.kind}`);
    const extraArguments = [
      ...(resource.edge ? ['--edge', resource.edge] : []),
      ...(this.options.caFile ? ['--ca', this.options.caFile] : []),
    ];
    return {
      text: sshConfigBlock({
        hostPattern: resource.hostname,
        command: this.options.airlockCommand ?? ['airlock'],
        extraArguments,
      }),
    };
  }

  /** Finds a resource by its name, as deep links and the tray name them. */
  findByName(name: string): Resource | undefined {
    return this.store.get().resources.find((resource) => resource.name.toLowerCase() === name.toLowerCase());
  }

  /** A line for the Logs view; the engine's CLI advice (flags, commands) is left out of it. */
  log(level: LogLevel, message: string, resourceId?: string): void {
    this.emitEvent({ type: 'log', data: this.logs.add(level, withoutCliSyntax(message), resourceId) });
  }

  /** Stops every listener; the process can then exit. */
  async close(): Promise<void> {
    await this.connections.close();
  }

  private onSignInChange(): void {
    this.edgeSessions.announce(this.store.get().resources.map((resource) => this.auth.edgeOf(resource)));
    this.emitStatus();
  }

  private statusOf(resource: Resource): ResourceStatus {
    // Discovery's last list for this resource's edge: an app that left it is marked, never deleted.
    return this.connections.statusOf(resource, this.discovered.offers(this.auth.edgeOf(resource), resource.hostname));
  }

  private async sessions(resources: Resource[]): Promise<EdgeSession[]> {
    const edges = this.edgeSessions.edges(resources.map((resource) => this.auth.edgeOf(resource)));
    const sessions = await Promise.all(
      edges.map(async (edge) =>
        this.edgeSessions.session(edge, await this.streamsThrough(this.openThrough(edge, resources))),
      ),
    );
    // A new sign-in lists its edge's apps in the background, so the tray menu offers them too.
    for (const session of sessions) {
      if (session.signedIn && this.auth.discover)
        this.discovered.prefetch(session.edge, () => this.discover({ edge: session.edge }));
    }
    return sessions;
  }

  /** The resources of `edge` with connections open now. */
  private openThrough(edge: string, resources: Resource[]): Resource[] {
    return resources.filter(
      (resource) => this.auth.edgeOf(resource) === edge && this.statusOf(resource).activeConnections > 0,
    );
  }

  /** How many connections are open through these resources, and when the earliest token behind them expires. */
  private async streamsThrough(open: Resource[]): Promise<{ open: number; expiresAt?: string }> {
    const count = open.reduce((sum, resource) => sum + this.statusOf(resource).activeConnections, 0);
    const expiries = await Promise.all(
      open.map((resource) => this.auth.tokenExpiry?.(resource).catch(() => undefined)),
    );
    const earliest = expiries.filter((at): at is string => at !== undefined).sort()[0];
    return { open: count, ...(earliest ? { expiresAt: earliest } : {}) };
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
