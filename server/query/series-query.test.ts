import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../test/support/tracy-streams.js';
import { BudgetAccount, MemoryBudget } from '../store/memory-budget.js';
import { SessionStore } from '../store/session-store.js';
import { SERIES_ROWS, TimeSeries } from '../store/time-series.js';
import { plotsByName, queryFrames, queryNamedPlot, querySeries } from './series-query.js';

function newSeries(): TimeSeries {
  return new TimeSeries(new BudgetAccount(new MemoryBudget(2 ** 40)));
}

function newStore(): SessionStore {
  return new SessionStore(new BudgetAccount(new MemoryBudget(2 ** 40)));
}

/** A random walk with rare spikes, one sample every 1..20 ns. */
function randomSamples(seed: number, n: number): { t: number[]; v: number[] } {
  const rand = mulberry32(seed);
  const t: number[] = [];
  const v: number[] = [];
  let time = 0;
  let value = 0;
  for (let i = 0; i < n; i++) {
    time += 1 + Math.floor(rand() * 20);
    value += rand() - 0.5;
    t.push(time);
    v.push(rand() < 0.001 ? value + (rand() - 0.5) * 1000 : value);
  }
  return { t, v };
}

function pairs(w: { timeNs: Float64Array; value: Float64Array }): [number, number][] {
  return [...w.timeNs].map((t, i) => [t, w.value[i]!]);
}

describe('querySeries', () => {
  it('returns every sample in [t0, t1] when there are few per pixel', () => {
    const series = newSeries();
    const { t, v } = randomSamples(1, 1000);
    t.forEach((x, i) => series.add(x, v[i]!));
    const t0 = t[100]!;
    const t1 = t[899]!;
    const w = querySeries(series, t0, t1, (t1 - t0) / 1000);
    expect(w.decimated).toBe(false);
    expect(pairs(w)).toEqual(t.slice(100, 900).map((x, i) => [x, v[100 + i]!]));
    expect(w.evictedBeforeNs).toBe(0);
    // nsPerPx 0: every sample
    expect(querySeries(series, -Infinity, Infinity, 0).timeNs.length).toBe(1000);
  });

  it('adds the samples just outside the range with edges, so a sparse step plot spans the view', () => {
    const series = newSeries();
    // a memory-like level that changes rarely, across several segments
    for (let i = 0; i < 3 * SERIES_ROWS; i++) series.add(i * 1000, i);
    const t0 = 1000 * SERIES_ROWS + 10;
    const t1 = t0 + 500; // no sample inside
    expect(querySeries(series, t0, t1, 1).timeNs.length).toBe(0);
    const w = querySeries(series, t0, t1, 1, true);
    expect(pairs(w)).toEqual([
      [1000 * SERIES_ROWS, SERIES_ROWS],
      [1000 * (SERIES_ROWS + 1), SERIES_ROWS + 1],
    ]);
    // samples inside stay in between; nothing is added past the series' ends
    const all = querySeries(series, 0, 1000 * (3 * SERIES_ROWS - 1), 0, true);
    expect(all.timeNs.length).toBe(3 * SERIES_ROWS);
    const inner = querySeries(series, 5000, 7000, 0, true);
    expect(pairs(inner)).toEqual([[4000, 4], [5000, 5], [6000, 6], [7000, 7], [8000, 8]]);
  });

  it('keeps the first, min, max and last sample of every pixel when there are many', () => {
    const series = newSeries();
    const { t, v } = randomSamples(2, 200_000);
    t.forEach((x, i) => series.add(x, v[i]!));
    const t0 = t[5000]! - 0.5;
    const t1 = t[195_000]! + 0.5;
    const pixels = 700;
    const nsPerPx = (t1 - t0) / pixels;
    const w = querySeries(series, t0, t1, nsPerPx);
    expect(w.decimated).toBe(true);
    const got = pairs(w);
    expect(got.length).toBeLessThanOrEqual(4 * (pixels + 1));
    for (let i = 1; i < got.length; i++) if (got[i]![0] < got[i - 1]![0]) expect.fail(`sample ${i} is out of time order`);
    // per bucket, the reference first/min/max/last are all there, and nothing else
    const buckets = new Map<number, [number, number][]>();
    for (let i = 0; i < t.length; i++) {
      if (t[i]! < t0 || t[i]! > t1) continue;
      const b = Math.floor((t[i]! - t0) / nsPerPx);
      let list = buckets.get(b);
      if (!list) buckets.set(b, (list = []));
      list.push([t[i]!, v[i]!]);
    }
    const gotKeys = new Set(got.map(([a, b]) => `${a}:${b}`));
    let expected = 0;
    for (const list of buckets.values()) {
      let min = list[0]!;
      let max = list[0]!;
      for (const p of list) {
        if (p[1] < min[1]) min = p;
        if (p[1] > max[1]) max = p;
      }
      const keep = new Set([list[0]!, min, max, list[list.length - 1]!].map(([a, b]) => `${a}:${b}`));
      for (const k of keep) if (!gotKeys.has(k)) expect.fail(`bucket sample ${k} is missing`);
      expected += keep.size;
    }
    expect(got.length).toBe(expected);
    // the extremes of the whole range survive
    const inRange = v.filter((_, i) => t[i]! >= t0 && t[i]! <= t1);
    expect(Math.min(...w.value)).toBe(inRange.reduce((a, x) => Math.min(a, x), Infinity));
    expect(Math.max(...w.value)).toBe(inRange.reduce((a, x) => Math.max(a, x), -Infinity));
  });

  it('returns samples in time order when they arrived out of order across segments', () => {
    // samples from two threads interleaved in batches: a late batch lands after a segment filled
    const series = newSeries();
    const times: number[] = [];
    for (let batch = 0; batch < 40; batch++) {
      for (let i = 0; i < 500; i++) times.push(batch * 1000 + i * 2); // thread A: even times
      for (let i = 0; i < 500; i++) times.push(batch * 1000 + i * 2 + 1); // thread B: odd times, later
    }
    for (const t of times) series.add(t, t);
    expect(series.segments.length).toBeGreaterThan(2);
    const all = querySeries(series, -Infinity, Infinity, 0);
    expect([...all.timeNs]).toEqual([...times].sort((a, b) => a - b));
    const w = querySeries(series, 0, 40_000, 100);
    expect(w.decimated).toBe(true);
    for (let i = 1; i < w.timeNs.length; i++) if (w.timeNs[i]! < w.timeNs[i - 1]!) expect.fail(`sample ${i} is out of time order`);
    // one bucket per 100 ns: first (even) and last (odd) of each
    expect(w.timeNs.length).toBe(2 * 400);
  });

  it('reports the time before which samples were evicted', () => {
    const budget = new MemoryBudget(3 * SERIES_ROWS * 16);
    const series = new TimeSeries(new BudgetAccount(budget));
    for (let i = 0; i < 5 * SERIES_ROWS; i++) series.add(i, i);
    expect(series.evictedBeforeNs).toBeGreaterThan(0);
    const w = querySeries(series, -Infinity, Infinity, 0);
    expect(w.evictedBeforeNs).toBe(series.evictedBeforeNs);
    expect(w.timeNs[0]).toBe(series.evictedBeforeNs + 1);
  });
});

describe('queryFrames', () => {
  it('returns the frames of a continuous set overlapping [t0, t1], the ones cut by either end included', () => {
    const store = newStore();
    for (let t = 0; t <= 100; t += 10) store.frameMark(0, 0, t);
    const set = store.frames.get(0)!;
    expect(set.continuous).toBe(true);
    const w = queryFrames(set, 15, 45);
    expect([...w.startNs]).toEqual([10, 20, 30, 40]);
    expect([...w.endNs]).toEqual([20, 30, 40, 50]);
    // frame numbers count from 1: [0, 10] is frame 1, so [10, 20] is frame 2
    expect(w.firstIndex).toBe(2);
    expect(queryFrames(set, -Infinity, Infinity).firstIndex).toBe(1);
    // a range on frame boundaries: frames touching it count
    expect([...queryFrames(set, 20, 40).startNs]).toEqual([10, 20, 30, 40]);
    expect([...queryFrames(set, -Infinity, Infinity).startNs]).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect([...queryFrames(set, 200, 300).startNs]).toEqual([]);
    expect([...queryFrames(set, -50, -10).startNs]).toEqual([]);
    expect(queryFrames(set, -Infinity, Infinity, 3).startNs.length).toBe(3);
  });

  it('returns the continuous frames across many segments in order', () => {
    const store = newStore();
    const n = 3 * SERIES_ROWS + 5;
    for (let i = 0; i < n; i++) store.frameMark(0, 7, i * 100);
    const set = store.frames.get(7)!;
    const t0 = SERIES_ROWS * 100 - 50; // inside the last frame of the first segment
    const t1 = 2 * SERIES_ROWS * 100 + 50;
    const w = queryFrames(set, t0, t1);
    expect(w.startNs[0]).toBe((SERIES_ROWS - 1) * 100);
    expect(w.firstIndex).toBe(SERIES_ROWS); // the frame starting at mark SERIES_ROWS - 1 (0-based)
    expect(queryFrames(set, 2 * SERIES_ROWS * 100 + 10, Infinity).firstIndex).toBe(2 * SERIES_ROWS + 1);
    expect(w.endNs[w.endNs.length - 1]).toBe((2 * SERIES_ROWS + 1) * 100);
    expect(w.startNs.length).toBe(SERIES_ROWS + 2);
    for (let i = 0; i < w.startNs.length; i++) if (w.endNs[i]! - w.startNs[i]! !== 100) expect.fail(`frame ${i}`);
  });

  it('returns the start/end frames of a discontinuous set overlapping [t0, t1]', () => {
    const store = newStore();
    const spans = [
      [0, 5],
      [10, 25],
      [30, 31],
      [40, 60],
      [70, 80],
    ];
    for (const [s, e] of spans) {
      store.frameMark(1, 9, s!);
      store.frameMark(2, 9, e!);
    }
    store.frameMark(2, 9, 90); // an end without a start: counted, ignored
    const set = store.frames.get(9)!;
    expect(set.continuous).toBe(false);
    expect(set.count).toBe(5);
    expect(set.unmatchedEnds).toBe(1);
    const w = queryFrames(set, 20, 50);
    expect([...w.startNs]).toEqual([10, 30, 40]);
    expect([...w.endNs]).toEqual([25, 31, 60]);
    expect(w.firstIndex).toBe(2); // [0, 5] is the set's frame 1
    expect([...queryFrames(set, 25, 30).startNs]).toEqual([10, 30]);
    expect([...queryFrames(set, -Infinity, Infinity).startNs]).toEqual([0, 10, 30, 40, 70]);
  });
});

describe('plotsByName', () => {
  it('merges plots whose ids resolve to the same name, as Tracy does, in time order', () => {
    const store = newStore();
    // two threads minted their own ids for "fps"; a third plot has another name
    store.plotConfig(1, 0, true, false, 0xff0000);
    store.plot(1, 10, 60);
    store.plot(2, 15, 58);
    store.plot(1, 20, 61);
    store.plot(2, 30, 57);
    store.plot(3, 12, 1);
    store.names.plots.set(1, 'fps');
    store.names.plots.set(2, 'fps');
    store.names.plots.set(3, 'load');
    const plots = plotsByName(store);
    expect(plots.map((p) => p.name).sort()).toEqual(['fps', 'load']);
    const fps = plots.find((p) => p.name === 'fps')!;
    expect(fps.count).toBe(4);
    expect([fps.min, fps.max, fps.last]).toEqual([57, 61, 57]);
    expect(fps.step).toBe(true);
    const w = queryNamedPlot(fps, 0, 100, 0);
    expect([...w.timeNs]).toEqual([10, 15, 20, 30]);
    expect([...w.value]).toEqual([60, 58, 61, 57]);
  });
});
