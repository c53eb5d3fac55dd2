// What the edge last said for each switched-on resource: the preflight on connect and on "Test",
// every tunnel that opened or failed, and a re-check on a timer while the edge is unreachable.
// The state each row shows is derived from these facts by resource-state.ts.
import { edgeHost, type Resource } from '../../shared/contract/api.js';
import { isAirlockError } from '../../shared/errors.js';
import type { LogLevel } from '../../shared/contract/api.js';
import type { ListenerEvent } from '../../shared/contract/status.js';
import { mergeOutcome, shouldRecheck, type CheckOutcome, type CheckSource } from './resource-state.js';

export interface ResourceHealthDeps {
  /** The edge's answer for this resource with its current credential; throws an AirlockError when refused. */
  preflight(resource: Resource): Promise<void>;
  /** Signs in to the resource's edge (the browser); resolves once a credential is stored. */
  signIn(resource: Resource): Promise<void>;
  /** A credential without a browser (the edge's session mints this app's token); false when none. */
  renew?(resource: Resource): Promise<boolean>;
  /** Whether the resource is still switched on (a late answer for a switched-off one is dropped). */
  isOn(id: string): boolean;
  /** The resource as saved now, or undefined once removed. */
  find(id: string): Resource | undefined;
  /** The sign-in origin a resource uses, for messages. */
  edgeOf(resource: Resource): string;
  onChange(): void;
  log(level: LogLevel, message: string, resourceId?: string): void;
  /** Re-check interval while the edge is unreachable (default 15 s). */
  recheckMs?: number;
  /** While ready and idle, how often the edge is asked whether that is still so (default 60 s). */
  idleRecheckMs?: number;
}

export class ResourceHealth {
  private readonly outcomes = new Map<string, CheckOutcome>();
  private readonly running = new Map<string, { work: Promise<CheckOutcome>; source: Exclude<CheckSource, 'tunnel'> }>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; due: number }>();
  private readonly lastUsed = new Map<string, string>();

  constructor(private readonly deps: ResourceHealthDeps) {}

  outcome(id: string): CheckOutcome | undefined {
    return this.outcomes.get(id);
  }

  lastUsedAt(id: string): string | undefined {
    return this.lastUsed.get(id);
  }

  /**
   * Asks the edge now. `user` (connect or "Test") may open a browser sign-in when the edge asks for
   * one, then asks again; `recheck` never does: a timer must not open browser windows.
   */
  check(resource: Resource, source: Exclude<CheckSource, 'tunnel'>): Promise<CheckOutcome> {
    const running = this.running.get(resource.id);
    // One check at a time; but the user's own must not end as a timer's, which never signs in.
    if (running && (running.source === 'user' || source === 'recheck')) return running.work;
    if (running) return running.work.then(() => this.check(resource, source));
    const work = this.ask(resource, source).then((outcome) => {
      this.running.delete(resource.id);
      this.record(resource.id, outcome, source);
      return outcome;
    });
    this.running.set(resource.id, { work, source });
    return work;
  }

  /** Tunnels are the best evidence: one that opened proves the edge admits the user. */
  onListenerEvent(resource: Resource, event: ListenerEvent): void {
    if (event.type === 'connection-opened') this.lastUsed.set(resource.id, new Date().toISOString());
    // A resumed stream went through the edge's checks again: as good a proof as a new tunnel.
    else if (event.type === 'tunnel-opened' || event.type === 'connection-resumed')
      this.record(resource.id, { ok: true, at: new Date().toISOString() }, 'tunnel');
    else if (event.type === 'connection-closed') {
      if (event.error) this.record(resource.id, { ok: false, ...event.error, at: new Date().toISOString() }, 'tunnel');
      // Did the edge go away (a restart ends tunnels cleanly too)? Ask it, soon and once however
      // many connections close: its answer names the cause better than the closed tunnel.
      this.schedule(resource.id, 1000);
    }
  }

  /** A fact learnt without asking the edge (the user signed out of it): shown at once. */
  set(id: string, outcome: CheckOutcome): void {
    this.record(id, outcome, 'user');
  }

  /** Switched off or removed: what the edge said no longer applies. */
  forget(id: string): void {
    this.outcomes.delete(id);
    clearTimeout(this.timers.get(id)?.timer);
    this.timers.delete(id);
  }

  close(): void {
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private async ask(resource: Resource, source: Exclude<CheckSource, 'tunnel'>): Promise<CheckOutcome> {
    try {
      await this.deps.preflight(resource);
      return { ok: true, at: new Date().toISOString() };
    } catch (error) {
      if (!isAuthRequired(error)) return this.failure(resource, error);
      if (source === 'recheck') {
        // Signed in to the edge (from another row, Browse or the tray) but no token for this app
        // yet: the edge's session mints one without a browser; a timer never opens one.
        if (!(await this.deps.renew?.(resource).catch(() => false))) return this.failure(resource, error);
        try {
          await this.deps.preflight(resource);
          return { ok: true, at: new Date().toISOString() };
        } catch (renewedError) {
          return this.failure(resource, renewedError);
        }
      }
      try {
        await this.deps.signIn(resource);
        await this.deps.preflight(resource);
        return { ok: true, at: new Date().toISOString() };
      } catch (signInError) {
        return this.failure(resource, signInError);
      }
    }
  }

  private failure(resource: Resource, error: unknown): CheckOutcome {
    const code = isAirlockError(error) ? error.code : 'EDGE_ERROR';
    const said = error instanceof Error ? error.message : String(error);
    const message =
      code === 'AUTH_REQUIRED'
        ? `sign in to ${edgeHost(this.deps.edgeOf(resource))} to use ${resource.hostname}`
        : said;
    return { ok: false, code, message, at: new Date().toISOString() };
  }

  private record(id: string, next: CheckOutcome, source: CheckSource): void {
    if (!this.deps.isOn(id)) return;
    const previous = this.outcomes.get(id);
    const kept = mergeOutcome(previous, next, source);
    this.outcomes.set(id, kept);
    const resource = this.deps.find(id);
    if (
      resource &&
      !kept.ok &&
      (previous?.ok !== false || previous.code !== kept.code || previous.message !== kept.message)
    ) {
      this.deps.log('error', `${resource.name}: ${kept.message}`, id);
    } else if (resource && kept.ok && previous && !previous.ok) {
      this.deps.log('info', `${resource.name}: the edge answers again; ready`, id);
    }
    if (shouldRecheck(kept)) this.schedule(id, this.deps.recheckMs ?? 15_000);
    // Ready stays true only while the edge says so: an edge that dies while nothing is connected
    // would otherwise show Ready until the next connection. One GET a minute per resource.
    else if (kept.ok) this.schedule(id, this.deps.idleRecheckMs ?? 60_000);
    this.deps.onChange();
  }

  /** One timer per resource: a sooner re-check replaces a later one, a later one waits its turn. */
  private schedule(id: string, delayMs: number): void {
    const due = Date.now() + delayMs;
    const pending = this.timers.get(id);
    if (pending && pending.due <= due) return;
    clearTimeout(pending?.timer);
    const timer = setTimeout(() => {
      this.timers.delete(id);
      const resource = this.deps.find(id);
      if (resource && this.deps.isOn(id)) void this.check(resource, 'recheck');
    }, delayMs);
    timer.unref();
    this.timers.set(id, { timer, due });
  }
}

function isAuthRequired(error: unknown): boolean {
  return isAirlockError(error) && error.code === 'AUTH_REQUIRED';
}
