/**
 * Test support: a capture's bytes (.zscap) decoded into a SessionStore, as a session loading
 * it would store them (budget that evicts nothing).
 */
import { CaptureReader } from '../../protocol/capture/index.js';
import { BudgetAccount, MemoryBudget } from '../../server/store/memory-budget.js';
import { readerForStore, SessionStore } from '../../server/store/session-store.js';

export function decodeCaptureStore(capture: Uint8Array): SessionStore {
  const store = new SessionStore(new BudgetAccount(new MemoryBudget(2 ** 40)));
  const reader = readerForStore(store);
  const cr = new CaptureReader((bytes) => reader.push(bytes));
  cr.push(capture);
  const end = cr.end();
  if (end.cutBytes !== 0) throw new Error(`capture cut: ${end.cutBytes} bytes`);
  return store;
}
