import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../test/support/tracy-streams.js';
import { BudgetAccount, MemoryBudget } from '../store/memory-budget.js';
import { ThreadTimeline } from '../store/thread-timeline.js';
import { SEGMENT_ROWS, ZoneColumns } from '../store/zone-columns.js';
import { queryDepth, queryThreadZones, type DepthZones } from './zone-lod.js';

interface Zone {
  start: number;
  end: number;
  srcloc: number;
}

/**
 * Non-overlapping zones of one depth: durations spread over six orders of magnitude (mostly
 * narrow, some wide), gaps of 0 included, zero-length zones included.
 */
function randomZones(seed: number, n: number): Zone[] {
  const rand = mulberry32(seed);
  const out: Zone[] = [];
  let t = 1000;
  for (let i = 0; i < n; i++) {
    const start = t + (rand() < 0.3 ? 0 : Math.floor(10 ** (rand() * 4)));
    const end = start + (rand() < 0.05 ? 0 : Math.floor(10 ** (rand() * 6)));
    out.push({ start, end, srcloc: Math.floor(rand() * 100) });
    t = end;
  }
  return out;
}

function columnsOf(zones: readonly Zone[], limit = 2 ** 40): ZoneColumns {
  const cols = new ZoneColumns(new BudgetAccount(new MemoryBudget(limit)), 0);
  for (const z of zones) cols.append(z.start, z.end, z.srcloc, null);
  return cols;
}

/** Zones that intersect the closed range [t0, t1]. */
function intersecting(zones: readonly Zone[], t0: number, t1: number, firstRow = 0): number[] {
  const rows: number[] = [];
  for (let r = firstRow; r < zones.length; r++) if (zones[r]!.end >= t0 && zones[r]!.start <= t1) rows.push(r);
  return rows;
}

/**
 * Checks one LOD answer against the zones themselves (plain comparisons in the loops: an
 * `expect` per item would dominate the run time).
 */
function checkLod(zones: readonly Zone[], d: DepthZones, t0: number, t1: number, nsPerPx: number, firstRow = 0): void {
  const want = intersecting(zones, t0, t1, firstRow);
  const items = d.startNs.length;
  const where = `[${t0}, ${t1}] at ${nsPerPx} ns/px`;
  const fail = (what: string) => expect.fail(`${what}, ${where}`);
  // every intersecting zone is covered by exactly one item, in order
  let w = 0;
  const singles = new Set<number>();
  for (let i = 0; i < items; i++) {
    const s = d.startNs[i]!;
    const e = d.endNs[i]!;
    const count = d.count[i]!;
    if (!(count >= 1)) fail(`item ${i} has count ${count}`);
    if (i > 0 && s < d.endNs[i - 1]!) fail(`item ${i} starts before item ${i - 1} ends`);
    if (count === 1) {
      const r = d.row[i]!;
      if (r !== want[w]) fail(`item ${i} is row ${r}, expected row ${want[w]}`);
      const z = zones[r]!;
      if (z.start !== s || z.end !== e || z.srcloc !== d.srcloc[i]) fail(`item ${i} is [${s}, ${e}] srcloc ${d.srcloc[i]}, row ${r} is ${JSON.stringify(z)}`);
      singles.add(r);
    } else {
      // a merged item: exactly the next `count` zones, all narrower than a pixel, spanning it
      if (d.srcloc[i] !== -1 || d.row[i] !== -1) fail(`merged item ${i} has srcloc ${d.srcloc[i]} row ${d.row[i]}`);
      if (w + count > want.length) fail(`merged item ${i} counts ${count} zones, only ${want.length - w} left in range`);
      const first = want[w]!;
      const lastRow = want[w + count - 1]!;
      if (zones[first]!.start !== s || zones[lastRow]!.end !== e) fail(`merged item ${i} [${s}, ${e}] does not span rows ${first}..${lastRow}`);
      for (let k = w; k < w + count; k++) {
        const z = zones[want[k]!]!;
        if (!(z.end - z.start < nsPerPx)) fail(`merged item ${i} holds row ${want[k]}, ${z.end - z.start} ns wide`);
      }
    }
    w += count;
  }
  expect(w, where).toBe(want.length);
  // zones at least one pixel wide come back on their own
  for (const r of want) {
    const z = zones[r]!;
    if (z.end - z.start >= nsPerPx && !singles.has(r)) fail(`row ${r} (${z.end - z.start} ns) is not returned individually`);
  }
}

describe('queryDepth', () => {
  it('returns wide zones individually and folds narrow runs into counted items, like a brute-force reference', () => {
    const zones = randomZones(1, 20_000);
    const cols = columnsOf(zones);
    const rand = mulberry32(2);
    const last = zones[zones.length - 1]!.end;
    for (let q = 0; q < 300; q++) {
      // ranges with ends on zone boundaries, inside zones and outside the data
      const pick = () => {
        const z = zones[Math.floor(rand() * zones.length)]!;
        const k = rand();
        return k < 0.25 ? z.start : k < 0.5 ? z.end : k < 0.55 ? -5 : k < 0.6 ? last + 5 : Math.floor(rand() * last);
      };
      let t0 = pick();
      let t1 = pick();
      if (t1 < t0) [t0, t1] = [t1, t0];
      const pixels = 1 + Math.floor(rand() * 3000);
      const nsPerPx = Math.max(1, (t1 - t0) / pixels) * (rand() < 0.2 ? 50 : 1);
      checkLod(zones, queryDepth(cols, t0, t1, nsPerPx), t0, t1, nsPerPx);
    }
  });

  it('returns every zone in range individually at 0 ns per pixel', () => {
    const zones = randomZones(3, 5000);
    const cols = columnsOf(zones);
    const t0 = zones[1000]!.end;
    const t1 = zones[3000]!.start;
    const d = queryDepth(cols, t0, t1, 0);
    expect([...d.row]).toEqual(intersecting(zones, t0, t1));
    expect([...d.count].every((c) => c === 1)).toBe(true);
    checkLod(zones, d, t0, t1, 0);
    const all = queryDepth(cols, -Infinity, Infinity, 0);
    expect(all.startNs.length).toBe(zones.length);
  });

  it('counts a zero-length zone at either end of the range', () => {
    const zones: Zone[] = [
      { start: 0, end: 10, srcloc: 1 },
      { start: 10, end: 10, srcloc: 2 },
      { start: 20, end: 30, srcloc: 3 },
      { start: 30, end: 30, srcloc: 4 },
    ];
    const cols = columnsOf(zones);
    expect([...queryDepth(cols, 10, 20, 0).row]).toEqual([0, 1, 2]);
    expect([...queryDepth(cols, 30, 40, 0).row]).toEqual([2, 3]);
    checkLod(zones, queryDepth(cols, 10, 30, 100), 10, 30, 100);
  });

  it('does not count zones that start after the range in a merged item', () => {
    // narrow zones closely packed; the range ends in the middle of a pixel
    const zones: Zone[] = [];
    for (let i = 0; i < 100; i++) zones.push({ start: i * 10, end: i * 10 + 5, srcloc: 1 });
    const cols = columnsOf(zones);
    const d = queryDepth(cols, 0, 255, 1000);
    const total = [...d.count].reduce((a, c) => a + c, 0);
    expect(total).toBe(26);
    checkLod(zones, d, 0, 255, 1000);
  });

  it('returns at most a few items per pixel over a million and a half zones', () => {
    const rand = mulberry32(4);
    const n = 1_500_000;
    const cols = new ZoneColumns(new BudgetAccount(new MemoryBudget(2 ** 40)), 0);
    let t = 0;
    let wide = 0;
    for (let i = 0; i < n; i++) {
      const start = t + Math.floor(rand() * 100);
      const w = rand() < 0.0005 ? 5_000_000 + Math.floor(rand() * 1e7) : Math.floor(rand() * 1000);
      if (w >= 5_000_000) wide++;
      cols.append(start, start + w, i & 0xff, null);
      t = start + w;
    }
    const pixels = 2000;
    const nsPerPx = t / pixels;
    const began = performance.now();
    const d = queryDepth(cols, 0, t, nsPerPx);
    const ms = performance.now() - began;
    const items = d.startNs.length;
    expect(items).toBeLessThanOrEqual(3 * pixels);
    expect([...d.count].reduce((a, c) => a + c, 0)).toBe(n);
    expect(wide).toBeGreaterThan(100);
    console.log(`zone-lod.test: ${n} zones -> ${items} items over ${pixels} px in ${ms.toFixed(1)} ms`);
    expect(ms).toBeLessThan(1000);
  });
});

describe('queryThreadZones', () => {
  it('reports the zones still open with their depth', () => {
    const thread = new ThreadTimeline(7, new BudgetAccount(new MemoryBudget(2 ** 40)));
    thread.begin(100, 1);
    thread.begin(110, 2);
    thread.end(120);
    thread.begin(130, 3);
    thread.begin(500, 4);
    const q = queryThreadZones(thread, 0, 200, 1);
    expect(q.thread).toBe(7);
    expect(q.open).toEqual([
      { startNs: 100, srcloc: 1, depth: 0 },
      { startNs: 130, srcloc: 3, depth: 1 },
    ]);
    expect(q.depths.map((d) => d.depth)).toEqual([1]);
    expect([...q.depths[0]!.startNs]).toEqual([110]);
    expect(queryThreadZones(thread, 0, 1000, 1).open.length).toBe(3);
    expect(q.evictedBeforeNs).toBe(0);
  });

  it('reports the time before which zones were evicted and returns only what is stored', () => {
    const budget = new MemoryBudget(2 * SEGMENT_ROWS * 14 + 10_000);
    const thread = new ThreadTimeline(1, new BudgetAccount(budget));
    const zones = randomZones(5, 3 * SEGMENT_ROWS + 10);
    for (const z of zones) {
      thread.begin(z.start, z.srcloc);
      thread.end(z.end);
    }
    const cols = thread.depths[0]!;
    expect(cols.firstRow).toBe(SEGMENT_ROWS * 2);
    const q = queryThreadZones(thread, -Infinity, Infinity, 0);
    expect(q.evictedBeforeNs).toBe(zones[2 * SEGMENT_ROWS - 1]!.end);
    expect(q.depths[0]!.row[0]).toBe(cols.firstRow);
    expect(q.depths[0]!.startNs.length).toBe(zones.length - cols.firstRow);
    const t1 = zones[zones.length - 1]!.end;
    const nsPerPx = t1 / 500;
    checkLod(zones, queryDepth(cols, 0, t1, nsPerPx), 0, t1, nsPerPx, cols.firstRow);
  });
});
