import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CaptureStreamBuilder } from '../../protocol/capture/stream-builder.js';
import { concatChunks, LZ4_SIZE } from '../../protocol/tracy/index.js';
import { FIXTURES_PRESENT, fixture } from '../../test/support/inspect-fixtures.js';
import { decodeStream, exportAndReopen, type Decoded } from '../../test/support/store-export.js';
import { expectSameSnapshot, storeSnapshot } from '../../test/support/store-snapshot.js';
import { BudgetAccount, MemoryBudget } from '../store/memory-budget.js';
import { readerForStore, SessionStore } from '../store/session-store.js';
import { RANGE_EXPORT_SOURCE } from './store-to-capture.js';

function expectSelfContained(d: Decoded): void {
  expect(d.terminated).toBe(true);
  expect(d.replies).toBe(d.queries); // every query the receiver would send is answered in the stream
}

describe.skipIf(!FIXTURES_PRESENT)('exportStoreToCapture with the medium recording', () => {
  const original = FIXTURES_PRESENT ? decodeStream(new Uint8Array(readFileSync(fixture('medium.client.bin')))) : (null as never);

  it('re-encodes the whole session into a capture that decodes to the same zones, frames, plots and messages', () => {
    const x = exportAndReopen(original.store, original.welcome);
    expectSelfContained(x.again);
    const expected = storeSnapshot(original.store);
    expect(expected.zoneCount).toBe(202_201);
    expectSameSnapshot(storeSnapshot(x.again.store), expected);
    expect(x.result).toMatchObject({ zones: 202_201, orphanZones: 0, openZonesEnded: 0, plotSamples: 48_000, messages: original.store.messages.total });
    expect(x.result.frames).toBe(12_000 + 3_000 + 6_000);
    expect(x.result.bytes).toBe(x.chunks.reduce((n, c) => n + c.length, 0));
    // bounded: the head, then one LZ4 frame per chunk
    expect(Math.max(...x.chunks.map((c) => c.length))).toBeLessThanOrEqual(4 + LZ4_SIZE);
    expect(x.chunks.length).toBeGreaterThan(10);
  });

  it('writes a header from the session and a welcome in nanosecond ticks', () => {
    const x = exportAndReopen(original.store, original.welcome);
    const w = original.welcome!;
    expect(x.header).toMatchObject({ formatVersion: 1, app: w.programName, pid: Number(w.pid), hostInfo: w.hostInfo, wallClockStartMs: 1_780_000_000_123, source: RANGE_EXPORT_SOURCE, sessionId: 's1', remote: '127.0.0.1:1234', onDemand: null });
    expect(x.header.note).toMatch(/^re-encoded from session s1; memory usage, locks and CPU usage are not included$/);
    expect(x.again.welcome).toMatchObject({ timerMul: 1, initBegin: 0n, programName: w.programName, hostInfo: w.hostInfo, pid: w.pid, epoch: w.epoch, cpuArch: w.cpuArch, cpuManufacturer: w.cpuManufacturer });
    expect(x.again.welcome!.resolution).toBe(BigInt(Math.trunc(Number(w.resolution) * w.timerMul)));
  });

  it('exports a range as exactly the zones intersecting it, with their nesting, and the marks, samples and messages in it', () => {
    const last = original.store.lastNs;
    const t0 = Math.round(last * 0.4) + 0.5;
    const t1 = Math.round(last * 0.43);
    const x = exportAndReopen(original.store, original.welcome, { t0, t1 });
    expectSelfContained(x.again);
    const expected = storeSnapshot(original.store, t0, t1);
    expect(expected.zoneCount).toBeGreaterThan(1000);
    expect(expected.zoneCount).toBeLessThan(202_201 / 5);
    expectSameSnapshot(storeSnapshot(x.again.store), expected);
    expect(x.result.zones).toBe(expected.zoneCount);
    expect(x.header.note).toContain(`range [${t0}, ${t1}] ns`);
    // a range keeps the session's time line
    expect(storeSnapshot(x.again.store).zones.size).toBeGreaterThan(0);
  });

  it('leaves out zones whose parent was evicted, keeps every other stored zone at its depth', () => {
    const small = decodeStream(new Uint8Array(readFileSync(fixture('medium.client.bin'))), 6 * 2 ** 20);
    const stored = storeSnapshot(small.store);
    expect(stored.zoneCount).toBeLessThan(202_201); // the budget evicted some
    const x = exportAndReopen(small.store, small.welcome);
    expectSelfContained(x.again);
    const again = storeSnapshot(x.again.store);
    expect(again.zoneCount + x.result.orphanZones).toBe(stored.zoneCount);
    for (const [key, rows] of again.zones) {
      const have = new Set(stored.zones.get(key));
      for (const row of rows) if (!have.has(row)) throw new Error(`zone ${row} at ${key} is not stored there in the original`);
    }
  });
});

describe('exportStoreToCapture after eviction', () => {
  it('skips zones whose parent segment was evicted and counts them as orphans', () => {
    // depth 0: 30 000 zones; only zones 16 000..16 383 have a child, so depth 1's one segment
    // is younger than depth 0's first (full) segment, which the budget evicts first.
    const chunks: Uint8Array[] = [];
    const b = new CaptureStreamBuilder({ app: 'evict', pid: 1, hostInfo: '', epochS: 1 }, (c) => chunks.push(c));
    const top = b.srcloc('top', 'f', 'a.ts', 1, 0);
    const child = b.srcloc('child', 'f', 'a.ts', 2, 0);
    for (let i = 0; i < 30_000; i++) {
      b.zoneBegin(1, i * 100, top);
      if (i >= 16_000 && i < 16_384) {
        b.zoneBegin(1, i * 100 + 10, child);
        b.zoneEnd(1, i * 100 + 20);
      }
      b.zoneEnd(1, i * 100 + 50);
    }
    b.finish();
    // room for one full depth-0 segment (16 384 zones at 10 bytes) and depth 1, not for two
    const budget = new MemoryBudget(290_000);
    const store = new SessionStore(new BudgetAccount(budget));
    readerForStore(store).push(concatChunks(chunks));
    const t = store.threads.get(1)!;
    expect(t.depths[0]!.firstRow).toBe(16_384);
    expect(t.depths[1]!.firstRow).toBe(0);

    const x = exportAndReopen(store, null);
    expectSelfContained(x.again);
    expect(x.result).toMatchObject({ zones: 30_000 - 16_384, orphanZones: 384 });
    const again = storeSnapshot(x.again.store);
    expect([...again.zones.keys()]).toEqual(['1/0']);
    expect(again.zones.get('1/0')).toEqual(storeSnapshot(store).zones.get('1/0'));
  });
});

describe('exportStoreToCapture with zones still running', () => {
  /** A live store: thread 1 has two zones open, the inner one with a finished child. */
  function liveStore(): SessionStore {
    const chunks: Uint8Array[] = [];
    const b = new CaptureStreamBuilder({ app: 'live', pid: 7, hostInfo: 'h', epochS: 1 }, (c) => chunks.push(c));
    b.threadName(1, 'main');
    const loop = b.srcloc('loop', 'main', 'a.ts', 1, 0);
    const step = b.srcloc('step', 'main', 'a.ts', 2, 0);
    const leaf = b.srcloc('leaf', 'f', 'a.ts', 3, 0x00ff00);
    b.zoneBegin(1, 100, step);
    b.zoneEnd(1, 200);
    b.zoneBegin(1, 300, loop);
    b.zoneText(1, 'running');
    b.zoneBegin(1, 400, step);
    b.zoneBegin(1, 500, leaf);
    b.zoneEnd(1, 600);
    b.plot('p', 5000, 1);
    b.flush();
    const store = new SessionStore(new BudgetAccount(new MemoryBudget(2 ** 30)));
    readerForStore(store).push(concatChunks(chunks));
    expect(store.threads.get(1)!.openCount).toBe(2);
    return store;
  }

  it('ends them at the end of the range (or of the data) with their finished children inside, and says so', () => {
    const store = liveStore();
    const x = exportAndReopen(store, null);
    expectSelfContained(x.again);
    expect(x.result).toMatchObject({ zones: 4, openZonesEnded: 2 });
    expect(x.header.note).toContain('2 zones still running were ended at 5000 ns');
    const s = storeSnapshot(x.again.store);
    expect(s.zones.get('1/0')).toEqual(['100,200,step|main|a.ts|2|0,', '300,5000,loop|main|a.ts|1|0,"running"|null|-1|-']);
    expect(s.zones.get('1/1')).toEqual(['400,5000,step|main|a.ts|2|0,']);
    expect(s.zones.get('1/2')).toEqual(['500,600,leaf|f|a.ts|3|65280,']);
    expect(s.threads).toEqual(['1 "main"']);

    const ranged = exportAndReopen(store, null, { t0: 0, t1: 450 });
    expect(ranged.result).toMatchObject({ zones: 3, openZonesEnded: 2 });
    expect(storeSnapshot(ranged.again.store).zones.get('1/1')).toEqual(['400,450,step|main|a.ts|2|0,']);
    expect(ranged.again.store.threads.get(1)!.depths.length).toBe(2); // the leaf starts after t1
  });
});
