// The switched-on side of the saved resources: one LocalListener per connected resource, what its
// edge last said (ResourceHealth), why a listener failed to open, and the status tick that moves
// the byte counters. The ResourceManager hands connect, disconnect and Test here.
import { ApiError, edgeHost, type LogLevel, type Resource, type ResourceStatus } from '../../shared/contract/api.js';
import type { ListenerEvent } from '../../shared/contract/status.js';
import { AirlockError, isAirlockError } from '../../shared/errors.js';
import { credentialHeaders } from '../../core/credentials.js';
import { resolveEdgeTarget, type EdgeTarget } from '../../core/edge-target.js';
import { firstFreePort } from '../../core/free-port.js';
import { LocalListener } from '../../core/local-listener.js';
import { checkAccess } from '../../core/tunnel-dial.js';
import type { AuthProvider } from './auth-provider.js';
import { ResourceHealth } from './resource-health.js';
import { listenerLogLine, resourceStatus } from './resource-state.js';

export interface ResourceConnectionsOptions {
  auth: AuthProvider;
  /** The resource as saved now (it may have been edited or removed since it was connected). */
  find(id: string): Resource | undefined;
  log(level: LogLevel, message: string, resourceId?: string): void;
  /** Something a status snapshot shows changed. */
  onChange(): void;
  /** Every saved resource's local port, so a suggested port is not one of theirs. */
  ports?(): number[];
  /** Every saved resource, so a sign-in through one row brings the edge's other rows back too. */
  resources?(): Resource[];
  /** The resume setting as it is now: asked when a resource is switched on. */
  resume?(): boolean;
  caFile?: string;
  tickMs?: number;
  recheckMs?: number;
  idleRecheckMs?: number;
}

export class ResourceConnections {
  private readonly listeners = new Map<string, LocalListener>();
  /** Failures to open a listener, kept until the next connect or disconnect. */
  private readonly failures = new Map<string, { code: string; message: string; at: string; suggestedPort?: number }>();
  private readonly health: ResourceHealth;
  /** Edges the user signed out of: their programs are refused at once, never sent to a hidden browser. */
  private readonly signedOut = new Set<string>();
  private tick: NodeJS.Timeout | undefined;

  constructor(private readonly options: ResourceConnectionsOptions) {
    const { auth } = options;
    this.health = new ResourceHealth({
      preflight: (resource) => this.preflight(resource),
      signIn: async (resource) => {
        const edge = auth.edgeOf(resource);
        await auth.signIn(edge, resource);
        // Sign-in is per edge: the other rows of this edge (e.g. all "Signed out") ask again now.
        this.recheckEdge(edge, options.resources?.() ?? []);
      },
      ...(auth.renew ? { renew: (resource: Resource) => auth.renew!(resource) } : {}),
      isOn: (id) => this.listeners.has(id),
      find: (id) => options.find(id),
      edgeOf: (resource) => auth.edgeOf(resource),
      onChange: () => options.onChange(),
      log: (level, message, resourceId) => options.log(level, message, resourceId),
      ...(options.recheckMs ? { recheckMs: options.recheckMs } : {}),
      ...(options.idleRecheckMs ? { idleRecheckMs: options.idleRecheckMs } : {}),
    });
  }

  isOn(id: string): boolean {
    return this.listeners.has(id);
  }

  switchedOn(): string[] {
    return [...this.listeners.keys()];
  }

  async connect(resource: Resource): Promise<void> {
    const { id } = resource;
    this.signedOut.delete(this.options.auth.edgeOf(resource)); // the user's own click may sign in
    if (this.listeners.has(id)) return;
    this.failures.delete(id);
    const current = () => this.options.find(id) ?? resource;
    let listener: LocalListener;
    try {
      const target = this.targetOf(resource);
      listener = new LocalListener({
        target,
        local: { host: resource.localHost, port: resource.localPort },
        credential: () => this.options.auth.credentialFor(current()),
        onAuthRequired: () => this.signInFor(current()),
        resume: this.options.resume?.() ?? true,
      });
    } catch (error) {
      return this.fail(resource, error);
    }
    listener.on('event', (event) => this.onListenerEvent(resource, event));
    this.listeners.set(id, listener);
    try {
      await listener.start();
    } catch (error) {
      this.listeners.delete(id);
      return this.fail(resource, error);
    }
    // Open is not ready: ask the edge now (and sign in when it asks), so the row tells the truth.
    void this.health.check(resource, 'user');
  }

  /** "Test": asks the edge now; for a switched-off resource the answer is the reply. */
  async test(resource: Resource): Promise<void> {
    this.signedOut.delete(this.options.auth.edgeOf(resource));
    const outcome = await this.health.check(resource, 'user');
    if (this.listeners.has(resource.id)) return;
    if (!outcome.ok) throw new ApiError(outcome.code, outcome.message);
    this.options.log(
      'info',
      `${resource.name}: the edge answered and admits you (switch it on to use it)`,
      resource.id,
    );
  }

  async disconnect(id: string): Promise<void> {
    this.failures.delete(id);
    this.health.forget(id);
    const listener = this.listeners.get(id);
    if (!listener) return this.options.onChange();
    this.listeners.delete(id);
    await listener.stop();
    this.options.onChange();
  }

  /**
   * The user signed out of `edge`: its switched-on rows say so at once, and until the user signs in
   * again (or connects or tests one of them) a program's connection is refused with SIGNED_OUT.
   */
  signOut(edge: string, resources: Resource[]): void {
    this.signedOut.add(edge);
    for (const resource of resources) {
      if (!this.listeners.has(resource.id) || this.options.auth.edgeOf(resource) !== edge) continue;
      const { code, message } = this.signedOutError(resource);
      this.health.set(resource.id, { ok: false, code, message, at: new Date().toISOString() });
    }
  }

  /** After a sign-in: the switched-on resources of that edge ask again, so their rows turn ready. */
  recheckEdge(edge: string, resources: Resource[]): void {
    this.signedOut.delete(edge);
    for (const resource of resources) {
      if (
        this.listeners.has(resource.id) &&
        this.options.auth.edgeOf(resource) === edge &&
        this.health.outcome(resource.id)?.ok !== true
      ) {
        void this.health.check(resource, 'recheck');
      }
    }
  }

  /** Asks the edge now with each resource's current token (after a sign-in again: the edge sees the new one). */
  recheck(resources: Resource[]): void {
    for (const resource of resources) if (this.listeners.has(resource.id)) void this.health.check(resource, 'recheck');
  }

  statusOf(resource: Resource, offered: boolean | undefined): ResourceStatus {
    const edge = this.options.auth.edgeOf(resource);
    const startFailure = this.failures.get(resource.id);
    const check = this.health.outcome(resource.id);
    const lastUsedAt = this.health.lastUsedAt(resource.id);
    return resourceStatus({
      id: resource.id,
      edge,
      listener: this.listeners.get(resource.id)?.status(),
      signingIn: this.options.auth.pendingSignIn?.(edge) !== undefined,
      ...(startFailure ? { startFailure } : {}),
      ...(check ? { check } : {}),
      ...(lastUsedAt ? { lastUsedAt } : {}),
      ...(offered === undefined ? {} : { offered }),
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.switchedOn().map((id) => this.disconnect(id)));
    this.health.close();
    clearInterval(this.tick);
    this.tick = undefined;
  }

  /** Where a resource's tunnels and checks go: its --edge address, else its own hostname. */
  private targetOf(resource: Resource): EdgeTarget {
    const caFile = this.options.caFile;
    return resolveEdgeTarget({
      hostname: resource.hostname,
      ...(resource.edge ? { edge: resource.edge } : {}),
      ...(caFile ? { caFile } : {}),
    });
  }

  /** The edge's answer for a resource with its current credential: GET / answered 426 means admitted. */
  private async preflight(resource: Resource): Promise<void> {
    const target = this.targetOf(resource);
    const credential = await this.options.auth.credentialFor(resource);
    const signedOut = () => this.signedOut.has(this.options.auth.edgeOf(resource));
    try {
      await checkAccess({ target, headers: credentialHeaders(credential) });
    } catch (error) {
      if (signedOut() && isAirlockError(error) && error.code === 'AUTH_REQUIRED') throw this.signedOutError(resource);
      throw error;
    }
    // A check that was under way when the user signed out (its token not yet revoked) must not
    // turn the row green again.
    if (signedOut()) throw this.signedOutError(resource);
  }

  /** A program's connection asked for a sign-in: the browser opens, unless the user signed out. */
  private signInFor(resource: Resource): Promise<void> {
    const edge = this.options.auth.edgeOf(resource);
    if (this.signedOut.has(edge)) return Promise.reject(this.signedOutError(resource));
    return this.options.auth.signIn(edge, resource);
  }

  private signedOutError(resource: Resource): AirlockError {
    const host = edgeHost(this.options.auth.edgeOf(resource));
    return new AirlockError('SIGNED_OUT', `you signed out of ${host}; sign in again to use ${resource.name}`);
  }

  private fail(resource: Resource, error: unknown): void {
    const code = isAirlockError(error) ? error.code : 'FAILED';
    const message = error instanceof Error ? error.message : String(error);
    const failure: { code: string; message: string; at: string; suggestedPort?: number } = {
      code,
      message,
      at: new Date().toISOString(),
    };
    this.failures.set(resource.id, failure);
    this.options.log('error', `${resource.name}: ${message}`, resource.id);
    this.options.onChange();
    // A busy port: find the next free one, so the window can offer it in one click.
    if (code === 'PORT_IN_USE')
      void firstFreePort(resource.localPort + 1, new Set(this.options.ports?.() ?? [])).then((port) => {
        if (port === 0 || this.failures.get(resource.id) !== failure) return;
        failure.suggestedPort = port;
        this.options.onChange();
      });
  }

  private onListenerEvent(resource: Resource, event: ListenerEvent): void {
    this.health.onListenerEvent(resource, event);
    if (event.type === 'connection-opened') this.startTick();
    const line = listenerLogLine(resource.name, event);
    if (line) this.options.log(line.level, line.message, resource.id);
    this.options.onChange();
  }

  /** While connections are open, a status every tick so the byte counters move. */
  private startTick(): void {
    if (this.tick) return;
    this.tick = setInterval(() => {
      const active = [...this.listeners.values()].some((listener) => listener.status().activeConnections > 0);
      this.options.onChange();
      if (!active) {
        clearInterval(this.tick);
        this.tick = undefined;
      }
    }, this.options.tickMs ?? 1000);
    this.tick.unref();
  }
}
