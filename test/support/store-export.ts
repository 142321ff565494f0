/**
 * Test support for the store -> .zscap exporter: decode a client stream into a fresh store, and
 * export a store, open the .zscap again and decode its stream. Only tests import this file.
 */
import { expect } from 'vitest';
import { CaptureReader, type CaptureHeader } from '../../protocol/capture/zscap.js';
import { concatChunks, type WelcomeMessage } from '../../protocol/tracy/index.js';
import { exportStoreToCapture, type StoreCaptureOptions, type StoreCaptureResult } from '../../server/capture/store-to-capture.js';
import { BudgetAccount, MemoryBudget } from '../../server/store/memory-budget.js';
import { readerForStore, SessionStore } from '../../server/store/session-store.js';

export interface Decoded {
  store: SessionStore;
  welcome: WelcomeMessage | null;
  terminated: boolean;
  queries: number;
  replies: number;
}

export function decodeStream(bytes: Uint8Array, budget = 2 ** 40): Decoded {
  const store = new SessionStore(new BudgetAccount(new MemoryBudget(budget)));
  const reader = readerForStore(store);
  reader.push(bytes);
  expect(reader.truncation()).toBeNull();
  return { store, welcome: reader.welcome, terminated: reader.decoder.terminated, queries: reader.decoder.queries.length, replies: reader.decoder.repliesCounted };
}

export interface Exported {
  chunks: Uint8Array[];
  result: StoreCaptureResult;
  header: CaptureHeader;
  again: Decoded;
}

/** Exports, then opens the .zscap again and decodes its stream into a new store. */
export function exportAndReopen(store: SessionStore, welcome: WelcomeMessage | null, o: Partial<StoreCaptureOptions> = {}): Exported {
  const gen = exportStoreToCapture(store, { welcome, sessionId: 's1', remote: '127.0.0.1:1234', wallClockStartMs: 1_780_000_000_123, ...o });
  const chunks: Uint8Array[] = [];
  let next = gen.next();
  while (!next.done) {
    chunks.push(next.value);
    next = gen.next();
  }
  const stream: Uint8Array[] = [];
  const reader = new CaptureReader((b) => stream.push(b.slice()));
  for (const c of chunks) reader.push(c);
  expect(reader.end().cutBytes).toBe(0);
  const again = decodeStream(concatChunks(stream));
  return { chunks, result: next.value, header: reader.header!, again };
}

