// What each signed-in edge last listed for the user (discovery), for the Browse view, the tray
// menu and the "no longer offered" mark. Saved resources stay the user's own: this only reads
// them, and builds the fields of a new one from a listed app.
import type { DiscoveredApp, Discovery, Resource, ResourceFields } from '../../shared/contract/api.js';
import { firstFreePort } from '../../core/free-port.js';

/** Where ports for discovered apps without a suggestion start: above the well-known ranges users type. */
const DISCOVERED_PORT_BASE = 10_000;

export class DiscoveredApps {
  /** edge → its last list. */
  private readonly lists = new Map<string, Discovery>();
  private readonly fetching = new Set<string>();

  /**
   * Records an edge's list, each app marked when saved and given a free local port (its saved one,
   * the suggested one, or the next free one, never one another resource uses).
   */
  async record(
    edge: string,
    found: { apps: DiscoveredApp[]; edgeAddress?: string },
    saved: Resource[],
  ): Promise<Discovery> {
    const taken = new Set(saved.map((resource) => resource.localPort));
    const apps: Discovery['apps'] = [];
    for (const app of found.apps) {
      const match = saved.find((resource) => resource.hostname === app.hostname);
      const port = match?.localPort ?? (await firstFreePort(app.localPort ?? DISCOVERED_PORT_BASE, taken));
      taken.add(port);
      apps.push({ ...app, ...(match ? { savedAs: match.id } : {}), port });
    }
    const discovery: Discovery = { edge, ...(found.edgeAddress ? { edgeAddress: found.edgeAddress } : {}), apps };
    this.lists.set(edge, discovery);
    return discovery;
  }

  /** Every edge's last list. */
  all(): Discovery[] {
    return [...this.lists.values()];
  }

  /** Whether the edge's last list has the hostname; undefined when that edge has not been listed. */
  offers(edge: string, hostname: string): boolean | undefined {
    const list = this.lists.get(edge);
    return list ? list.apps.some((app) => app.hostname === hostname) : undefined;
  }

  /** A new resource's fields for a listed app, or undefined when the edge's last list lacks it. */
  resourceFor(edge: string, hostname: string): ResourceFields | undefined {
    const list = this.lists.get(edge);
    const app = list?.apps.find((entry) => entry.hostname === hostname);
    if (!list || !app) return undefined;
    return {
      name: (app.name ?? hostname.split('.')[0] ?? hostname).slice(0, 64),
      hostname,
      ...(list.edgeAddress ? { edge: list.edgeAddress } : {}),
      localPort: app.port,
      localHost: '127.0.0.1',
      tags: [],
      autoConnect: false,
      kind: app.kind ?? 'other',
    };
  }

  markSaved(edge: string, hostname: string, id: string): void {
    const app = this.lists.get(edge)?.apps.find((entry) => entry.hostname === hostname);
    if (app) app.savedAs = id;
  }

  /** Lists an edge once in the background (a new sign-in), unless it is listed or being listed. */
  prefetch(edge: string, list: () => Promise<unknown>): void {
    if (this.lists.has(edge) || this.fetching.has(edge)) return;
    this.fetching.add(edge);
    void list()
      .catch(() => undefined)
      .finally(() => this.fetching.delete(edge));
  }
}
