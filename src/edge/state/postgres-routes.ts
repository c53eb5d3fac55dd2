// Tunnels and routes operators register through the admin API, shared by several edges: one JSON
// document in PostgreSQL, changed in a transaction that locks it (so two edges never overwrite each
// other's change) and announced with NOTIFY, so every edge routes a new hostname within a second.
import type { Logger } from '../../shared/logger.js';
import { RouteStore } from '../tunnels/route-store.js';
import { CHANNEL, type PostgresState } from './postgres.js';
import { RELOAD_INTERVAL_MS, storeUnavailable } from './postgres-stores.js';

const WHERE = 'the shared route store (PostgreSQL table airlock_route_store)';

export async function openSharedRouteStore(
  state: PostgresState,
  log: Logger,
): Promise<{ store: RouteStore; close(): void }> {
  const load = async () =>
    (await state.pool.query<{ doc: unknown }>('SELECT doc FROM airlock_route_store WHERE id = 1')).rows[0]?.doc;
  const store = RouteStore.shared(WHERE, await load(), async (update) => {
    const client = await state.pool.connect().catch((error: Error) => {
      throw storeUnavailable(error);
    });
    // A connection whose ROLLBACK fails too (a database that stopped answering) leaves the pool.
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ doc: Parameters<typeof update>[0] }>(
        'SELECT doc FROM airlock_route_store WHERE id = 1 FOR UPDATE',
      );
      const next = update(rows[0]!.doc);
      await client.query('UPDATE airlock_route_store SET doc = $1 WHERE id = 1', [JSON.stringify(next)]);
      await client.query('SELECT pg_notify($1, $2)', [CHANNEL.routes, 'changed']);
      await client.query('COMMIT');
      return next;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollback: Error) => (broken = rollback));
      throw storeUnavailable(error);
    } finally {
      client.release(broken);
    }
  });
  const reload = async () => {
    try {
      store.replace(await load());
    } catch (error) {
      log.warn({ error: (error as Error).message }, 'could not reload the shared routes; keeping the ones known');
    }
  };
  state.listen(
    CHANNEL.routes,
    () => void reload(),
    () => void reload(),
  );
  const timer = setInterval(() => void reload(), RELOAD_INTERVAL_MS);
  timer.unref();
  return { store, close: () => clearInterval(timer) };
}
