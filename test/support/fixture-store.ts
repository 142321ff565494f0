/**
 * A real recording decoded into a SessionStore, as a session would store it (test support for
 * the store and query tests; read in place from ../shared).
 */
import { readFileSync } from 'node:fs';
import { BudgetAccount, MemoryBudget } from '../../server/store/memory-budget.js';
import { readerForStore, SessionStore } from '../../server/store/session-store.js';
import { fixture } from './inspect-fixtures.js';

/** Decodes `NAME.client.bin` into a fresh store under a budget that evicts nothing. */
export function decodeFixtureStore(name: string): SessionStore {
  const store = new SessionStore(new BudgetAccount(new MemoryBudget(2 ** 40)));
  readerForStore(store).push(new Uint8Array(readFileSync(fixture(`${name}.client.bin`))));
  return store;
}
