import type { TimeSeries } from '../store/time-series.js';

/**
 * Calls fn for the samples of `series` with t0 <= time <= t1, in time order, handing over the
 * output chunks a writer left in `pending` as they fill (the exporters are generators, so a
 * consumer pulls chunks as fast as it sends them). Segments are listed first: one evicted
 * meanwhile has count 0 and is passed over.
 */
export function* eachSample<T>(series: TimeSeries, t0: number, t1: number, pending: T[], fn: (timeNs: number, value: number) => void): Generator<T, void, void> {
  for (const seg of [...series.segments]) {
    if (seg.count === 0 || seg.maxTime < t0 || seg.minTime > t1) continue;
    for (let i = seg.lowerBound(t0); i < seg.count; i++) {
      const t = seg.time[i]!;
      if (t > t1) break;
      fn(t, seg.value[i]!);
      if (pending.length > 0) yield* pending.splice(0);
    }
  }
}
