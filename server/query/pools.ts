import type { MemoryPool, SessionStore } from '../store/session-store.js';
import { memoryPlotName } from './series-query.js';

/** A pool's name as the API gives it: 'default' for the unnamed pool. */
export function poolName(store: SessionStore, pool: MemoryPool): string {
  return pool.namePtr === 0 ? 'default' : store.names.strings.get(pool.namePtr) ?? String(pool.namePtr);
}

/**
 * The pool named `want`: 'default' (the unnamed pool), a named pool's name, or its plot's name
 * ("Memory usage: NAME"); undefined or '': the default pool, or the only one.
 * @returns the pool, or a message naming the pools there are
 */
export function findPool(store: SessionStore, want: string | undefined): MemoryPool | string {
  const pools = [...store.memory.values()];
  let found: MemoryPool | undefined;
  if (want === undefined || want === '') found = store.memory.get(0) ?? (pools.length === 1 ? pools[0] : undefined);
  else found = pools.find((p) => poolName(store, p) === want || memoryPlotName(store, p.namePtr) === want);
  if (found) return found;
  const names = pools.map((p) => poolName(store, p));
  const what = want ? `no memory pool "${want.slice(0, 100)}"` : 'a pool is needed';
  return `${what}; this session's pools: ${names.length ? names.map((n) => JSON.stringify(n)).join(', ') : 'none (no memory events)'}`;
}
