import type { SessionStore } from '../store/session-store.js';
import type { TimeSeries } from '../store/time-series.js';
import { SEGMENT_SHIFT } from '../store/zone-columns.js';

/** Largest |time| (ns) a .zscap holds: its ticks are integers, exact below 2^53. */
export const CAPTURE_MAX_ABS_NS = Number.MAX_SAFE_INTEGER;

/** A stored time an export cannot write, and where it is. */
export interface BadTime {
  /** e.g. "zone start on thread 3", "plot sample", "message" */
  what: string;
  ns: number;
}

/**
 * The first stored time that is NaN, infinite or beyond ±maxAbsNs, looking at the extremes of
 * every column (zone depths are sorted by start and by end, series and message segments know
 * their time range), so the cost is the number of segments and depths, not of rows. A store
 * fed by a welcome with an absurd timer (timerMul NaN or 1e300, initBegin at the i64 limits)
 * or by a stream whose times jump out of range shows it there. A bad time between good ones
 * (NaN is invisible to min/max) is not found here: the exporters skip such rows and count them.
 * @returns null when every extreme is a finite number within ±maxAbsNs
 */
export function findBadTime(store: SessionStore, maxAbsNs = CAPTURE_MAX_ABS_NS): BadTime | null {
  const bad = (ns: number) => !(ns >= -maxAbsNs && ns <= maxAbsNs);
  if (bad(store.lastNs)) return { what: 'latest event', ns: store.lastNs };
  for (const t of store.threads.values()) {
    for (const c of t.depths) {
      if (c.count === c.firstRow) continue;
      for (const r of [c.firstRow, c.count - 1]) {
        if (c.segments[r >>> SEGMENT_SHIFT] == null) continue; // evicted meanwhile
        const s = c.startAt(r);
        const e = c.endAt(r);
        if (bad(s)) return { what: `zone start on thread ${t.id}`, ns: s };
        if (bad(e)) return { what: `zone end on thread ${t.id}`, ns: e };
      }
    }
    for (let d = 0; d < t.openCount; d++) if (bad(t.openStart[d]!)) return { what: `running zone start on thread ${t.id}`, ns: t.openStart[d]! };
  }
  const series = (s: TimeSeries, what: string, valuesAreTimes: boolean): BadTime | null => {
    for (const seg of s.segments) {
      if (seg.count === 0) continue;
      const edges = [seg.minTime, seg.maxTime, seg.time[0]!, seg.time[seg.count - 1]!];
      if (valuesAreTimes) edges.push(seg.value[0]!, seg.value[seg.count - 1]!);
      for (const ns of edges) if (bad(ns)) return { what, ns };
    }
    return null;
  };
  for (const f of store.frames.values()) {
    const found = series(f.marks, 'frame mark', false) ?? series(f.spans, 'frame start/end', true);
    if (found) return found;
    if (!Number.isNaN(f.openStartNs) && bad(f.openStartNs)) return { what: 'frame start', ns: f.openStartNs };
  }
  for (const p of store.plots.values()) {
    const found = series(p.series, 'plot sample', false);
    if (found) return found;
  }
  for (const seg of store.messages.segments) {
    if (seg.count === 0) continue;
    for (const ns of [seg.minTime, seg.maxTime, seg.time[0]!, seg.time[seg.count - 1]!]) if (bad(ns)) return { what: 'message', ns };
  }
  return null;
}
