import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../test/support/tracy-streams.js';
import { BudgetAccount, MemoryBudget } from './memory-budget.js';
import { SERIES_ROWS, SERIES_SEGMENT_OBJECT_BYTES, TimeSeries } from './time-series.js';

function checkOrdered(series: TimeSeries): void {
  let prevMax = -Infinity;
  for (const seg of series.segments) {
    expect(seg.count).toBeLessThanOrEqual(SERIES_ROWS);
    for (let i = 1; i < seg.count; i++) if (seg.time[i]! < seg.time[i - 1]!) expect.fail(`segment not sorted at ${i}`);
    if (seg.count > 0) {
      expect(seg.minTime).toBe(seg.time[0]);
      expect(seg.maxTime).toBe(seg.time[seg.count - 1]);
      expect(seg.minTime).toBeGreaterThanOrEqual(prevMax);
      prevMax = seg.maxTime;
    }
  }
}

describe('TimeSeries', () => {
  it('keeps samples that arrive slightly out of order sorted, across segment boundaries too', () => {
    const rand = mulberry32(1);
    const series = new TimeSeries(new BudgetAccount(new MemoryBudget(2 ** 40)));
    // every sample is late by up to 3000 ns, so late ones often cross a full segment's end
    const sent: [number, number][] = [];
    for (let i = 0; i < 5 * SERIES_ROWS; i++) sent.push([i * 10 - Math.floor(rand() * 3000), i]);
    for (const [t, v] of sent) series.add(t, v);
    checkOrdered(series);
    expect(series.segments.length).toBe(5);
    expect(series.stored).toBe(sent.length);
    expect(series.total).toBe(sent.length);
    const got: [number, number][] = [];
    series.forEachInRange(-Infinity, Infinity, (t, v) => got.push([t, v]));
    // sorted by time; equal times keep their arrival order
    const want = sent.map((p, i) => [p, i] as const).sort((a, b) => a[0][0] - b[0][0] || a[1] - b[1]).map((x) => x[0]);
    expect(got).toEqual(want);
    expect(series.min).toBe(0);
    expect(series.max).toBe(sent.length - 1);
  });

  it('puts a sample older than everything stored at the very front', () => {
    const series = new TimeSeries(new BudgetAccount(new MemoryBudget(2 ** 40)));
    for (let i = 0; i < 2 * SERIES_ROWS + 10; i++) series.add(1000 + i, i);
    series.add(5, -1);
    checkOrdered(series);
    expect(series.segments[0]!.time[0]).toBe(5);
    expect(series.segments.map((s) => s.count)).toEqual([SERIES_ROWS, SERIES_ROWS, 11]);
    const got: number[] = [];
    series.forEachInRange(0, 1001, (t) => got.push(t));
    expect(got).toEqual([5, 1000, 1001]);
  });

  it('evicts its oldest segments and remembers the time before which samples are gone', () => {
    const budget = new MemoryBudget(2 * (SERIES_ROWS * 16 + SERIES_SEGMENT_OBJECT_BYTES) + 100);
    const account = new BudgetAccount(budget);
    const series = new TimeSeries(account);
    for (let i = 0; i < 4 * SERIES_ROWS; i++) series.add(i, i);
    expect(series.segments.length).toBe(2);
    expect(series.evictedBeforeNs).toBe(2 * SERIES_ROWS - 1);
    expect(series.stored).toBe(2 * SERIES_ROWS);
    expect(series.total).toBe(4 * SERIES_ROWS);
    expect(account.bytes).toBe(series.segments.reduce((n, s) => n + SERIES_SEGMENT_OBJECT_BYTES + s.time.byteLength + s.value.byteLength, 0));
    expect(account.evictedBytes).toBe(2 * (SERIES_ROWS * 16 + SERIES_SEGMENT_OBJECT_BYTES));
    series.release();
    expect(budget.used).toBe(0);
  });
});
