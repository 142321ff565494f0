import { describe, expect, it } from 'vitest';
import type { PlotItems } from '../../protocol/view/types.js';
import { alignSeries, isMemoryLanePlot, laneSeries, laneYRange, stackSums } from './memory-lane-data.js';

function plot(name: string, format = 1, extra: Partial<PlotItems> = {}): PlotItems {
  const timeNs = new Float64Array(0);
  return { name, format, step: false, fill: true, color: 0, count: 0, min: 0, max: 0, timeNs, value: timeNs, decimated: false, evictedBeforeNs: 0, ...extra };
}

describe('the Memory lane series', () => {
  it('takes plots in bytes but not memory-usage series of alloc events or other formats', () => {
    expect(isMemoryLanePlot(plot('rss'))).toBe(true);
    expect(isMemoryLanePlot(plot('cache size'))).toBe(true);
    expect(isMemoryLanePlot(plot('event loop delay (ms)', 0))).toBe(false);
    expect(isMemoryLanePlot(plot('default pool', 1, { memory: true }))).toBe(false);
  });

  it('stacks the heap spaces used per prefix in V8 order, and hides sizes, available and the stacked heapUsed at first', () => {
    const names = ['rss', 'heapTotal', 'heapUsed', 'v8 new_space used', 'v8 new_space size', 'v8 old_space used', 'v8 old_space size', 'v8 heap available', 'rss - heapTotal - external', 'cache size', 'worker 2 v8 old_space used', 'worker 2 heapUsed'];
    const s = laneSeries(names.map((n) => plot(n)));
    expect(s.filter((x) => x.stacked).map((x) => x.name)).toEqual(['v8 old_space used', 'v8 new_space used', 'worker 2 v8 old_space used']);
    expect(s.filter((x) => x.stacked).map((x) => x.group)).toEqual(['', '', 'worker 2 ']);
    expect(s.filter((x) => !x.stacked).map((x) => x.name)).toEqual(['rss', 'heapTotal', 'heapUsed', 'v8 new_space size', 'v8 old_space size', 'v8 heap available', 'rss - heapTotal - external', 'cache size', 'worker 2 heapUsed']);
    const hidden = s.filter((x) => !x.shownByDefault).map((x) => x.name);
    expect(hidden).toEqual(['heapUsed', 'v8 new_space size', 'v8 old_space size', 'v8 heap available', 'worker 2 heapUsed']);
    expect(s.map((x) => x.label).slice(0, 4)).toEqual(['old used', 'new used', 'worker 2 old used', 'rss']);
    expect(s.find((x) => x.name === 'v8 heap available')!.label).toBe('heap available');
  });

  it('hides the series that were 0 at every sample and lists them last', () => {
    const s = laneSeries([plot('v8 shared_space used', 1, { count: 5 }), plot('v8 old_space used', 1, { count: 5, max: 9 }), plot('rss', 1, { count: 5, min: 1, max: 9 }), plot('v8 code_space used')]);
    expect(s.map((x) => [x.name, x.empty, x.shownByDefault])).toEqual([
      ['v8 old_space used', false, true],
      ['v8 code_space used', false, true],
      ['rss', false, true],
      ['v8 shared_space used', true, false],
    ]);
  });

  it("keeps heapUsed shown when no heap space is stacked, and a plot's own colour", () => {
    const s = laneSeries([plot('heapUsed'), plot('cache size', 1, { color: 0x123456 })]);
    expect(s.map((x) => [x.name, x.shownByDefault, x.stacked])).toEqual([
      ['heapUsed', true, false],
      ['cache size', true, false],
    ]);
    expect(s[1]!.rgb).toBe(0x123456);
  });
});

describe('alignSeries', () => {
  it('gives series sampled together their shared times and values unchanged', () => {
    const t = [10, 20, 30];
    const a = alignSeries([
      { timeNs: t, value: [1, 2, 3] },
      { timeNs: t, value: [7, 8, 9] },
    ]);
    expect(Array.from(a.x)).toEqual(t);
    expect(a.values).toEqual([
      [1, 2, 3],
      [7, 8, 9],
    ]);
  });

  it('holds each value until its next sample on the union of the times, null before the first', () => {
    const a = alignSeries([
      { timeNs: [10, 30], value: [1, 3] },
      { timeNs: [20, 30, 40], value: [5, 6, 7] },
    ]);
    expect(Array.from(a.x)).toEqual([10, 20, 30, 40]);
    expect(a.values).toEqual([
      [1, 1, 3, 3],
      [null, 5, 6, 7],
    ]);
  });

  it("uses the longest series' times when the union would pass the cap", () => {
    const a = alignSeries(
      [
        { timeNs: [1, 3, 5, 7], value: [1, 3, 5, 7] },
        { timeNs: [2, 4], value: [20, 40] },
      ],
      5,
    );
    expect(Array.from(a.x)).toEqual([1, 3, 5, 7]);
    expect(a.values[1]).toEqual([null, 20, 40, 40]);
  });

  it('gives no x for no samples', () => {
    expect(alignSeries([{ timeNs: [], value: [] }])).toEqual({ x: new Float64Array(0), values: [[]] });
  });
});

describe('stackSums and laneYRange', () => {
  it('adds the layers bottom first, a layer without a value counting as 0 above it', () => {
    const values = [
      [1, 2, null],
      [10, null, 30],
      [100, 200, 300],
    ];
    expect(stackSums(values, [0, 1])).toEqual([
      [1, 2, null],
      [11, null, 30],
    ]);
    expect(stackSums(values, [2, 0])).toEqual([
      [100, 200, 300],
      [101, 202, null],
    ]);
  });

  it('ranges over the samples in view and one either side, from 0 for non-negative data', () => {
    const x = [0, 10, 20, 30, 40];
    const a = [1, 5, 9, 100, 1000];
    const b = [null, 2, 3, 4, null];
    // view [12, 18]: samples 10 (before) and 20 (after)
    expect(laneYRange(x, [a, b], 12, 18, 0)).toEqual([0, 9]);
    const [lo, hi] = laneYRange(x, [[-10, 10, 0, 0, 0]], 0, 5, 0.1);
    expect(lo).toBeCloseTo(-12);
    expect(hi).toBeCloseTo(12);
    expect(laneYRange([], [], 0, 1)).toEqual([0, 1]);
  });
});
