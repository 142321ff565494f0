import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../test/support/tracy-streams.js';
import { giveArray, POOL_BYTES, pooledArrayBytes, reclaimState } from './array-pool.js';
import { BudgetAccount, MemoryBudget } from './memory-budget.js';
import { SEGMENT_ROWS, ZONE_SEGMENT_OBJECT_BYTES, ZoneColumns, type ZoneExtra } from './zone-columns.js';

/** A narrow segment's row: start offset u32, duration u32, source location u16. */
const ROW_BYTES = 4 + 4 + 2;
const FULL_SEGMENT_BYTES = SEGMENT_ROWS * ROW_BYTES + ZONE_SEGMENT_OBJECT_BYTES;

interface Zone {
  start: number;
  end: number;
  srcloc: number;
}

/** Non-overlapping zones in time order: gaps and durations of 0 included. */
function randomZones(seed: number, n: number, maxGap = 50, maxDur = 100, from = 0): Zone[] {
  const rand = mulberry32(seed);
  const out: Zone[] = [];
  let t = from;
  for (let i = 0; i < n; i++) {
    const start = t + Math.floor(rand() * (maxGap + 1));
    const end = start + Math.floor(rand() * (maxDur + 1));
    out.push({ start, end, srcloc: Math.floor(rand() * 0x10000) });
    t = end;
  }
  return out;
}

function track(limit = 2 ** 40): { budget: MemoryBudget; account: BudgetAccount; cols: ZoneColumns } {
  const budget = new MemoryBudget(limit);
  const account = new BudgetAccount(budget);
  return { budget, account, cols: new ZoneColumns(account, 0) };
}

function appendAll(cols: ZoneColumns, zones: readonly Zone[]): void {
  for (const z of zones) cols.append(z.start, z.end, z.srcloc, null);
}

/** Row `row` read back through segmentOf, or null when it is not stored. */
function readRow(cols: ZoneColumns, row: number): Zone | null {
  const seg = cols.segmentOf(row);
  if (seg === null) return null;
  const slot = row % SEGMENT_ROWS;
  return { start: seg.startAt(slot), end: seg.endAt(slot), srcloc: seg.srcloc[slot]! };
}

/** Bytes of the typed arrays of every stored segment, and what each segment object costs. */
function storedBytes(...tracks: ZoneColumns[]): number {
  let n = 0;
  for (const cols of tracks) {
    for (const seg of cols.segments) if (seg) n += ZONE_SEGMENT_OBJECT_BYTES + seg.startOff.byteLength + (seg.wide?.byteLength ?? 0) + seg.dur.byteLength + seg.srcloc.byteLength;
  }
  return n;
}

function bruteFirstEndingAfter(zones: readonly Zone[], firstRow: number, t: number): number {
  for (let r = firstRow; r < zones.length; r++) if (zones[r]!.end > t) return r;
  return zones.length;
}

function bruteFirstStartingAtOrAfter(zones: readonly Zone[], firstRow: number, t: number, from: number): number {
  for (let r = Math.max(firstRow, from); r < zones.length; r++) if (zones[r]!.start >= t) return r;
  return zones.length;
}

/** The binary searches against a linear scan, at random times and at every kind of boundary. */
function checkSearches(cols: ZoneColumns, zones: readonly Zone[], seed: number, queries = 1500): void {
  const rand = mulberry32(seed);
  const last = zones[zones.length - 1]!.end;
  const times: number[] = [-Infinity, Infinity, -1, 0, last, last + 1];
  for (let i = 0; i < queries; i++) {
    const z = zones[Math.floor(rand() * zones.length)]!;
    const kind = i % 4;
    times.push(kind === 0 ? z.start : kind === 1 ? z.end : kind === 2 ? z.start - 0.5 : rand() * (last + 10));
  }
  for (const t of times) {
    expect(cols.firstEndingAfter(t), `firstEndingAfter(${t})`).toBe(bruteFirstEndingAfter(zones, cols.firstRow, t));
    expect(cols.firstEndingAtOrAfter(t), `firstEndingAtOrAfter(${t})`).toBe(bruteFirstEndingAfter(zones, cols.firstRow, t - 1e-6));
    expect(cols.firstStartingAfter(t), `firstStartingAfter(${t})`).toBe(bruteFirstStartingAtOrAfter(zones, cols.firstRow, t + 1e-6, 0));
    const from = Math.floor(rand() * zones.length);
    expect(cols.firstStartingAtOrAfter(t), `firstStartingAtOrAfter(${t})`).toBe(bruteFirstStartingAtOrAfter(zones, cols.firstRow, t, 0));
    expect(cols.firstStartingAtOrAfter(t, from), `firstStartingAtOrAfter(${t}, ${from})`).toBe(bruteFirstStartingAtOrAfter(zones, cols.firstRow, t, from));
    expect(cols.gallopStartingAtOrAfter(t, from), `gallopStartingAtOrAfter(${t}, ${from})`).toBe(bruteFirstStartingAtOrAfter(zones, cols.firstRow, t, from));
  }
}

describe('ZoneColumns', () => {
  it('reads back the exact start, end and source location of every zone', () => {
    const { cols } = track();
    // large absolute times (days in ns) stay exact in float64
    const zones = randomZones(1, 3 * SEGMENT_ROWS + 77, 5000, 100_000, 9e15);
    appendAll(cols, zones);
    expect(cols.count).toBe(zones.length);
    expect(cols.firstRow).toBe(0);
    expect(cols.segments.length).toBe(4);
    for (let r = 0; r < zones.length; r++) {
      const z = zones[r]!;
      const got = readRow(cols, r);
      if (got === null || got.start !== z.start || got.end !== z.end || got.srcloc !== z.srcloc) {
        expect(got, `row ${r}`).toEqual(z);
      }
      if (cols.startAt(r) !== z.start || cols.endAt(r) !== z.end) expect([cols.startAt(r), cols.endAt(r)], `row ${r}`).toEqual([z.start, z.end]);
    }
    expect(cols.segmentOf(-1)).toBeNull();
    expect(cols.segmentOf(zones.length)).toBeNull();
    expect(cols.segments[3]!.count).toBe(77);
  });

  it('stores starts as u32 offsets from the segment base while they fit, exactly far from 0', () => {
    const { account, cols } = track();
    // past 2^32 and past 2^48 ns: the base carries the high part, the offsets stay exact
    const zones = randomZones(21, SEGMENT_ROWS + 500, 50, 100, 2 ** 48 + 12_345);
    appendAll(cols, zones);
    for (const seg of cols.segments) expect(seg!.wide).toBeNull();
    expect(cols.segments[0]!.base).toBe(zones[0]!.start);
    expect(cols.segments[1]!.base).toBe(zones[SEGMENT_ROWS]!.start);
    for (let r = 0; r < zones.length; r++) {
      const got = readRow(cols, r)!;
      if (got.start !== zones[r]!.start || got.end !== zones[r]!.end) expect(got, `row ${r}`).toEqual(zones[r]);
    }
    expect(cols.segments[0]!.bytes).toBe(FULL_SEGMENT_BYTES);
    expect(account.bytes).toBe(storedBytes(cols));
    // whole-ns times only: at 2^48 a double has no room for checkSearches' 1e-6 nudges
    for (let r = 0; r < zones.length; r += 97) {
      for (const t of [zones[r]!.start, zones[r]!.end, zones[r]!.start - 1]) {
        expect(cols.firstStartingAtOrAfter(t)).toBe(bruteFirstStartingAtOrAfter(zones, 0, t, 0));
        expect(cols.gallopStartingAtOrAfter(t, r >> 1)).toBe(bruteFirstStartingAtOrAfter(zones, 0, t, r >> 1));
        expect(cols.firstEndingAfter(t)).toBe(bruteFirstEndingAfter(zones, 0, t));
      }
    }
  });

  it('turns a segment wide (exact f64 starts) when a start is 2^32 ns or more past its base, or not a whole ns', () => {
    const { account, cols } = track();
    const zones = randomZones(23, 3 * SEGMENT_ROWS, 50, 100);
    // segment 0: a gap of 2^32 ns at row 5000; segment 1: a start of x.5 ns at row 20000; segment 2 stays narrow
    const shift = (from: number, by: number) => {
      for (let r = from; r < zones.length; r++) zones[r] = { ...zones[r]!, start: zones[r]!.start + by, end: zones[r]!.end + by };
    };
    shift(5000, 2 ** 32);
    shift(20_000, 0.5);
    shift(2 * SEGMENT_ROWS, 0.5); // whole again from segment 2 on (its base is x.0: offsets are whole)
    const before: number[] = [];
    for (let r = 0; r < zones.length; r++) {
      cols.append(zones[r]!.start, zones[r]!.end, zones[r]!.srcloc, null);
      if (r === 4999 || r === 5000) before.push(account.bytes);
      expect(account.bytes === storedBytes(cols) || r % 1000 !== 0, `bytes after row ${r}`).toBe(true);
    }
    const [seg0, seg1, seg2] = cols.segments;
    expect(seg0!.wide).not.toBeNull();
    expect(seg0!.startOff.length).toBe(0);
    expect(seg1!.wide).not.toBeNull();
    expect(seg2!.wide).toBeNull();
    // widening at row 5000 charged the f64 column and gave the offsets back
    expect(before[1]! - before[0]!).toBe(8192 * 8 - 8192 * 4);
    expect(seg0!.bytes).toBe(SEGMENT_ROWS * (8 + 4 + 2) + ZONE_SEGMENT_OBJECT_BYTES);
    expect(seg2!.bytes).toBe(FULL_SEGMENT_BYTES);
    expect(account.bytes).toBe(storedBytes(cols));
    for (let r = 0; r < zones.length; r++) {
      const got = readRow(cols, r)!;
      if (got.start !== zones[r]!.start || got.end !== zones[r]!.end) expect(got, `row ${r}`).toEqual(zones[r]);
    }
    checkSearches(cols, zones, 24, 600);
    // a wide segment evicted and released gives every byte back
    cols.release();
    expect(account.bytes).toBe(0);
  });

  it('keeps durations of 2^32 ns and more, and negative ones, exactly through longDurations', () => {
    const { account, cols } = track();
    const cases = [
      { start: 0, end: 0xfffffffe, srcloc: 1 }, // the largest inline duration
      { start: 0xfffffffe, end: 0xfffffffe + 0xffffffff, srcloc: 2 }, // == the marker value
      { start: 1e10, end: 1e10 + 2 ** 32, srcloc: 3 },
      { start: 2e10, end: 2e10 + 2 ** 40 + 12345, srcloc: 4 },
      { start: 3e12, end: 3e12 - 250, srcloc: 5 }, // a zone that ends before it starts
      { start: 3e12, end: 3e12 + 7, srcloc: 6 },
    ];
    appendAll(cols, cases);
    cases.forEach((z, r) => expect(readRow(cols, r), `row ${r}`).toEqual(z));
    const seg = cols.segments[0]!;
    expect(seg.dur[0]).toBe(0xfffffffe);
    expect([...seg.longDurations!.keys()].sort()).toEqual([1, 2, 3, 4]);
    expect(seg.durationAt(3)).toBe(2 ** 40 + 12345);
    expect(seg.durationAt(4)).toBe(-250);
    expect(seg.durationAt(5)).toBe(7);
    // each long duration is accounted for
    expect(account.bytes).toBe(storedBytes(cols) + 4 * 32);
    expect(seg.bytes).toBe(account.bytes);
  });

  it('attaches text, name, colour and value to the rows they were set on', () => {
    const { cols } = track();
    const zones = randomZones(2, SEGMENT_ROWS + 500);
    const extras = new Map<number, ZoneExtra>();
    const rand = mulberry32(3);
    for (let r = 0; r < zones.length; r++) {
      const z = zones[r]!;
      let extra: ZoneExtra | null = null;
      if (rand() < 0.05 || r === SEGMENT_ROWS - 1 || r === SEGMENT_ROWS) {
        extra = { text: rand() < 0.5 ? `text ${r}` : null, name: rand() < 0.3 ? `name ${r}` : null, color: rand() < 0.5 ? r & 0xffffff : -1, valueLo: r, valueHi: rand() < 0.5 ? 0 : -1 };
        extras.set(r, extra);
      }
      cols.append(z.start, z.end, z.srcloc, extra);
    }
    for (let r = 0; r < zones.length; r++) {
      const seg = cols.segmentOf(r)!;
      const got = seg.extraAt(r % SEGMENT_ROWS);
      const want = extras.get(r) ?? null;
      if (got !== null || want !== null) expect(got, `row ${r}`).toEqual(want);
    }
    expect(cols.segments[0]!.extraCount + cols.segments[1]!.extraCount).toBe(extras.size);
  });

  it('finds the first zone ending after (or at) and starting after (or at) a time like a linear scan', () => {
    const { cols } = track();
    const zones = randomZones(4, 2 * SEGMENT_ROWS + 1234, 3, 4);
    appendAll(cols, zones);
    checkSearches(cols, zones, 5);
  });

  it('answers searches on an empty track with 0', () => {
    const { cols } = track();
    expect(cols.firstEndingAfter(5)).toBe(0);
    expect(cols.firstStartingAtOrAfter(5)).toBe(0);
    expect(cols.segmentOf(0)).toBeNull();
  });

  it('grows the first segment from 256 rows by doubling and allocates later segments whole', () => {
    const { account, budget, cols } = track();
    const zones = randomZones(6, 2 * SEGMENT_ROWS + 10);
    const capacities: number[] = [];
    for (let r = 0; r < zones.length; r++) {
      const z = zones[r]!;
      cols.append(z.start, z.end, z.srcloc, null);
      const seg = cols.segments[cols.segments.length - 1]!;
      // every capacity of the first segment, then each later segment's at its first row
      if (r < SEGMENT_ROWS ? capacities[capacities.length - 1] !== seg.capacity : r % SEGMENT_ROWS === 0) capacities.push(seg.capacity);
      if (r === 0 || r === 300 || r === SEGMENT_ROWS - 1 || r === SEGMENT_ROWS || r === zones.length - 1) {
        expect(account.bytes, `after row ${r}`).toBe(storedBytes(cols));
        expect(budget.used).toBe(account.bytes);
      }
    }
    expect(capacities).toEqual([256, 512, 1024, 2048, 4096, 8192, 16384, 16384, 16384]);
    expect(cols.segments.map((s) => s!.capacity)).toEqual([SEGMENT_ROWS, SEGMENT_ROWS, SEGMENT_ROWS]);
    // full segments cost 10 bytes per zone, and the segment's objects
    expect(cols.segments[0]!.bytes).toBe(FULL_SEGMENT_BYTES);
    expect(account.bytes).toBe(3 * FULL_SEGMENT_BYTES);
    expect(budget.segments).toBe(3);
  });

  it('counts the bytes of extras on top of the typed arrays', () => {
    const { account, cols } = track();
    cols.append(0, 10, 1, { text: 'abcd', name: null, color: -1, valueLo: 0, valueHi: -1 });
    cols.append(10, 20, 1, null);
    expect(account.bytes).toBeGreaterThan(storedBytes(cols) + 2 * 4);
    expect(account.bytes).toBe(cols.segments[0]!.bytes);
  });

  it('evicts its oldest segments under a tiny budget and remembers what is gone', () => {
    const { account, budget, cols } = track(3 * FULL_SEGMENT_BYTES + 1000);
    const zones = randomZones(7, 5 * SEGMENT_ROWS - 100);
    appendAll(cols, zones);
    // segments 3 and 4 pushed out 0 and 1
    expect(budget.evictedSegments).toBe(2);
    expect(cols.firstRow).toBe(2 * SEGMENT_ROWS);
    expect(cols.evictedBeforeNs).toBe(zones[2 * SEGMENT_ROWS - 1]!.end);
    expect(cols.segments[0]).toBeNull();
    expect(cols.segments[1]).toBeNull();
    expect(account.evictedBytes).toBe(2 * FULL_SEGMENT_BYTES);
    expect(account.bytes).toBe(storedBytes(cols));
    expect(budget.used).toBeLessThanOrEqual(budget.limit);
    for (const r of [0, 1, SEGMENT_ROWS, 2 * SEGMENT_ROWS - 1]) expect(readRow(cols, r)).toBeNull();
    for (let r = 2 * SEGMENT_ROWS; r < zones.length; r++) {
      const got = readRow(cols, r);
      if (got === null || got.start !== zones[r]!.start || got.end !== zones[r]!.end) expect(got, `row ${r}`).toEqual(zones[r]);
    }
    // searches never return an evicted row
    expect(cols.firstEndingAfter(-1)).toBe(cols.firstRow);
    expect(cols.firstStartingAtOrAfter(-1)).toBe(cols.firstRow);
    expect(cols.firstStartingAtOrAfter(-1, 5)).toBe(cols.firstRow);
    checkSearches(cols, zones, 8, 500);
  });

  it('continues correctly when its first segment was evicted while still being written', () => {
    // one budget, two sessions: a quiet track `a` and a busy track `b`
    // room for one full segment and a little: once b's first segment is full, nothing older
    // than a's active tail is left, so the budget has to take it
    const budget = new MemoryBudget(SEGMENT_ROWS * ROW_BYTES + 2_624 + ZONE_SEGMENT_OBJECT_BYTES);
    const accountA = new BudgetAccount(budget);
    const accountB = new BudgetAccount(budget);
    const a = new ZoneColumns(accountA, 0);
    const b = new ZoneColumns(accountB, 0);
    const zonesA = randomZones(9, 400);
    const zonesB = randomZones(10, SEGMENT_ROWS + 10);
    appendAll(a, zonesA.slice(0, 100));
    const firstA = a.segments[0]!;
    expect(firstA.capacity).toBe(256);
    appendAll(b, zonesB); // b's growth evicts a's tail (the only other segment), then b's first goes
    expect(firstA.evicted).toBe(true);
    expect(a.segments[0]).toBeNull();
    expect(a.firstRow).toBe(100);
    expect(a.evictedBeforeNs).toBe(zonesA[99]!.end);
    expect(accountA.evictedBytes).toBe(256 * ROW_BYTES + ZONE_SEGMENT_OBJECT_BYTES);
    expect(accountA.bytes).toBe(0);
    expect(a.count - a.firstRow).toBe(0);

    // the next zone lands at slot 100 of a fresh segment 0
    appendAll(a, zonesA.slice(100, 400));
    const second = a.segments[0]!;
    expect(second).not.toBe(firstA);
    expect(second.count).toBe(400);
    expect(second.capacity).toBe(512);
    expect(a.count).toBe(400);
    expect(a.firstRow).toBe(100);
    for (let r = 0; r < 100; r++) expect(readRow(a, r)).toBeNull();
    for (let r = 100; r < 400; r++) expect(readRow(a, r), `row ${r}`).toEqual(zonesA[r]);
    expect(accountA.bytes).toBe(storedBytes(a));
    expect(accountB.bytes).toBe(storedBytes(b));
    expect(budget.used).toBe(accountA.bytes + accountB.bytes);
    checkSearches(a, zonesA, 11, 300);
  });

  it('continues correctly when a later segment was evicted half-written, and when that one goes too', () => {
    // one full segment and a little: active tails have to go once nothing older is left
    const budget = new MemoryBudget(FULL_SEGMENT_BYTES + 50_000);
    const account = new BudgetAccount(budget);
    const a = new ZoneColumns(account, 0);
    const b = new ZoneColumns(account, 1);
    const zonesA = randomZones(12, 4 * SEGMENT_ROWS);
    const zonesB = randomZones(13, 3 * SEGMENT_ROWS + 1);
    const mid = SEGMENT_ROWS + 5000;
    appendAll(a, zonesA.slice(0, mid)); // a: segment 0 full, segment 1 half-written
    appendAll(b, zonesB.slice(0, SEGMENT_ROWS + 1)); // a's full segment goes first, then its half-written tail
    expect(a.segments[1]).toBeNull();
    expect(a.firstRow).toBe(mid);
    expect(a.evictedBeforeNs).toBe(zonesA[mid - 1]!.end);

    appendAll(a, zonesA.slice(mid, mid + 10));
    const replacement = a.segments[1]!;
    expect(replacement.capacity).toBe(SEGMENT_ROWS); // not the first segment: allocated whole
    expect(replacement.count).toBe(5010);
    for (let r = mid; r < mid + 10; r++) expect(readRow(a, r)).toEqual(zonesA[r]);
    expect(readRow(a, mid - 1)).toBeNull();

    // b goes on; a's replacement segment is evicted in turn, then a crosses into segment 2
    appendAll(b, zonesB.slice(SEGMENT_ROWS + 1));
    expect(replacement.evicted).toBe(true);
    expect(a.firstRow).toBe(mid + 10);
    expect(a.evictedBeforeNs).toBe(zonesA[mid + 9]!.end);
    appendAll(a, zonesA.slice(mid + 10, 3 * SEGMENT_ROWS + 20));
    expect(a.count).toBe(3 * SEGMENT_ROWS + 20);
    const stored: number[] = [];
    for (let r = 0; r < a.count; r++) if (readRow(a, r) !== null) stored.push(r);
    expect(stored[0]).toBe(a.firstRow);
    expect(stored.length).toBe(a.count - a.firstRow);
    for (const r of stored) {
      const got = readRow(a, r)!;
      if (got.start !== zonesA[r]!.start || got.end !== zonesA[r]!.end || got.srcloc !== zonesA[r]!.srcloc) expect(got, `row ${r}`).toEqual(zonesA[r]);
    }
    expect(account.bytes).toBe(storedBytes(a, b));
    expect(account.bytes).toBe(budget.used);
    expect(account.evictedBytes).toBe(budget.evictedBytes);
    checkSearches(a, zonesA.slice(0, a.count), 14, 300);
  });

  it('gives every byte back to the budget on release', () => {
    const { account, budget, cols } = track();
    appendAll(cols, randomZones(15, SEGMENT_ROWS + 3));
    cols.append(1e12, 1e12 + 2 ** 33, 0, { text: 'x', name: null, color: -1, valueLo: 0, valueHi: -1 });
    cols.release();
    expect(account.bytes).toBe(0);
    expect(budget.used).toBe(0);
    expect(budget.segments).toBe(0);
    expect(cols.segmentOf(0)).toBeNull();
  });

  it("counts a released track's arrays the pool cannot keep as garbage for the array pool's GC (a deleted session)", () => {
    const { cols } = track();
    appendAll(cols, randomZones(7, 3 * SEGMENT_ROWS));
    // the pool full: what is given back now is dropped
    for (let i = 0; pooledArrayBytes() + 64 * 1024 <= POOL_BYTES; i++) giveArray(new Float64Array(new SharedArrayBuffer(64 * 1024)));
    const before = reclaimState().freedSinceGc;
    cols.release();
    expect(reclaimState().freedSinceGc - before).toBeGreaterThanOrEqual(3 * SEGMENT_ROWS * ROW_BYTES);
  });
});
