// oidc-provider storage for the development IdP: an in-memory map with expiry. Saying so in code
// (rather than relying on the library's quick-start default) keeps its start-up warning away.
import type { Adapter, AdapterPayload } from 'oidc-provider';

type Store = Map<string, { payload: AdapterPayload; expiresAt: number }>;

/** One set of stores per provider, so two IdPs in one process (tests) never share state. */
export function memoryAdapterFactory(): (name: string) => Adapter {
  const stores = new Map<string, Store>();
  return (name) => {
    const store = stores.get(name) ?? new Map();
    stores.set(name, store);
    return new MemoryAdapter(store);
  };
}

class MemoryAdapter implements Adapter {
  constructor(private readonly store: Store) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    this.store.set(id, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const entry = this.store.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.store.delete(id);
      return undefined;
    }
    return entry.payload;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return [...this.store.values()].find((entry) => entry.payload.userCode === userCode)?.payload;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return [...this.store.values()].find((entry) => entry.payload.uid === uid)?.payload;
  }

  async consume(id: string): Promise<void> {
    const entry = this.store.get(id);
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.store.delete(id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const [id, entry] of this.store) if (entry.payload.grantId === grantId) this.store.delete(id);
  }
}
