import type { FrameSet, PlotTrack, SessionStore } from '../store/session-store.js';
import type { TimeSeries } from '../store/time-series.js';
import { F64List } from './growable.js';

/**
 * Plot samples for a viewport: every sample when there are few, else per pixel bucket the
 * first, min, max and last samples (what a line chart needs to look the same), like uPlot's
 * and Perfetto's decimation.
 */
export interface SeriesWindow {
  timeNs: Float64Array;
  value: Float64Array;
  /** true when samples were folded per pixel */
  decimated: boolean;
  evictedBeforeNs: number;
}

/**
 * Samples of `series` in [t0, t1] for a viewport: every one when there are at most 4 per pixel,
 * else per pixel the first, min, max and last. With `edges`, the last sample before t0 and the
 * first after t1 come too (outside the range), so a chart can draw its line, or a step plot's
 * level, across the whole viewport even when no sample falls inside it.
 */
export function querySeries(series: TimeSeries, t0: number, t1: number, nsPerPx: number, edges = false): SeriesWindow {
  const w = querySeriesInRange(series, t0, t1, nsPerPx);
  if (!edges) return w;
  const before = edgeSample(series, t0, -1);
  const after = edgeSample(series, t1, 1);
  if (before === null && after === null) return w;
  const n = w.timeNs.length + (before ? 1 : 0) + (after ? 1 : 0);
  const timeNs = new Float64Array(n);
  const value = new Float64Array(n);
  let k = 0;
  if (before) {
    timeNs[0] = before[0];
    value[0] = before[1];
    k = 1;
  }
  timeNs.set(w.timeNs, k);
  value.set(w.value, k);
  if (after) {
    timeNs[n - 1] = after[0];
    value[n - 1] = after[1];
  }
  return { ...w, timeNs, value };
}

/** The newest sample before `t` (side -1) or the oldest after it (side 1), or null. */
function edgeSample(series: TimeSeries, t: number, side: -1 | 1): [number, number] | null {
  if (!Number.isFinite(t)) return null;
  let best: [number, number] | null = null;
  for (const seg of series.segments) {
    if (seg.count === 0) continue;
    if (side < 0) {
      if (seg.minTime >= t) continue;
      const i = seg.lowerBound(t) - 1;
      if (i >= 0 && (best === null || seg.time[i]! > best[0])) best = [seg.time[i]!, seg.value[i]!];
    } else {
      if (seg.maxTime <= t) continue;
      let i = seg.lowerBound(t);
      while (i < seg.count && seg.time[i]! <= t) i++;
      if (i < seg.count && (best === null || seg.time[i]! < best[0])) best = [seg.time[i]!, seg.value[i]!];
    }
  }
  return best;
}

function querySeriesInRange(series: TimeSeries, t0: number, t1: number, nsPerPx: number): SeriesWindow {
  const time = new F64List();
  const value = new F64List();
  let inRange = 0;
  series.forEachInRange(t0, t1, () => inRange++);
  const pixels = nsPerPx > 0 ? (t1 - t0) / nsPerPx : Infinity;
  if (!(nsPerPx > 0) || inRange <= 4 * pixels) {
    series.forEachInRange(t0, t1, (t, v) => {
      time.push(t);
      value.push(v);
    });
    return { timeNs: time.view(), value: value.view(), decimated: false, evictedBeforeNs: series.evictedBeforeNs };
  }
  // per bucket: first, min, max, last (in time order; min/max ordered by their times)
  let bucket = -1;
  let fT = 0, fV = 0, minT = 0, minV = 0, maxT = 0, maxV = 0, lT = 0, lV = 0;
  const flush = () => {
    if (bucket < 0) return;
    const pts: [number, number][] = [[fT, fV], [minT, minV], [maxT, maxV], [lT, lV]];
    pts.sort((a, b) => a[0] - b[0]);
    let prevT = NaN;
    let prevV = NaN;
    for (const [t, v] of pts) {
      if (t === prevT && v === prevV) continue;
      time.push(t);
      value.push(v);
      prevT = t;
      prevV = v;
    }
  };
  series.forEachInRange(t0, t1, (t, v) => {
    const b = Math.floor((t - t0) / nsPerPx);
    if (b !== bucket) {
      flush();
      bucket = b;
      fT = minT = maxT = lT = t;
      fV = minV = maxV = lV = v;
      return;
    }
    if (v < minV) { minV = v; minT = t; }
    if (v > maxV) { maxV = v; maxT = t; }
    lT = t;
    lV = v;
  });
  flush();
  return { timeNs: time.view(), value: value.view(), decimated: true, evictedBeforeNs: series.evictedBeforeNs };
}

/** Frames of a set overlapping [t0, t1]: start and end per frame. */
export interface FrameWindow {
  startNs: Float64Array;
  endNs: Float64Array;
  evictedBeforeNs: number;
  /**
   * The set's frame number of the first frame given (frames numbered from 1 in time order since
   * the session began, evicted ones included): frame i of the window is number firstIndex + i.
   */
  firstIndex: number;
}

export function queryFrames(set: FrameSet, t0: number, t1: number, limit = 100_000): FrameWindow {
  const start = new F64List();
  const end = new F64List();
  if (set.continuous) {
    // Each mark ends the previous frame: frame i = [mark i, mark i+1]. Frames overlapping the
    // range end at or after t0 and start at or before t1, so the first one starts at the last
    // mark before t0 and the last one ends at the first mark after t1. Segments follow each
    // other in time (see TimeSeries), so whole segments before t0 are skipped.
    let prev = NaN;
    // marks before the first stored one were evicted: they still count in the numbering
    let base = set.count - set.marks.stored;
    let prevIndex = base - 1;
    let firstIndex = -1;
    outer: for (const seg of set.marks.segments) {
      if (seg.count === 0) continue;
      if (seg.maxTime < t0) {
        prev = seg.time[seg.count - 1]!;
        prevIndex = base + seg.count - 1;
        base += seg.count;
        continue;
      }
      let i = seg.lowerBound(t0);
      if (i > 0) {
        prev = seg.time[i - 1]!;
        prevIndex = base + i - 1;
      }
      for (; i < seg.count; i++) {
        const t = seg.time[i]!;
        if (!Number.isNaN(prev)) {
          if (prev > t1 || start.length >= limit) break outer;
          if (firstIndex < 0) firstIndex = prevIndex + 1;
          start.push(prev);
          end.push(t);
        }
        prev = t;
        prevIndex = base + i;
      }
      base += seg.count;
    }
    return { startNs: start.view(), endNs: end.view(), evictedBeforeNs: set.marks.evictedBeforeNs, firstIndex: Math.max(1, firstIndex) };
  }
  let seen = set.count - set.spans.stored;
  let firstIndex = -1;
  set.spans.forEachInRange(-Infinity, t1, (s, e) => {
    seen++;
    if (e >= t0 && start.length < limit) {
      if (firstIndex < 0) firstIndex = seen;
      start.push(s);
      end.push(e);
    }
  });
  return { startNs: start.view(), endNs: end.view(), evictedBeforeNs: set.spans.evictedBeforeNs, firstIndex: Math.max(1, firstIndex) };
}

/** Display name of a frame set ("" for the default set). */
export function frameSetName(store: SessionStore, set: FrameSet): string {
  return set.namePtr === 0 ? '' : store.names.frames.get(set.namePtr) ?? store.names.strings.get(set.namePtr) ?? `frame@${set.namePtr.toString(16)}`;
}

/** The name a memory pool's usage series is shown under ('' = the default pool). */
export function memoryPlotName(store: SessionStore, namePtr: number): string {
  return namePtr === 0 ? 'Memory usage' : `Memory usage: ${store.names.strings.get(namePtr) ?? namePtr}`;
}

export function plotName(store: SessionStore, namePtr: number): string {
  return store.names.plots.get(namePtr) ?? store.names.strings.get(namePtr) ?? `plot@${namePtr.toString(16)}`;
}

/**
 * Plots grouped by name. Tracy merges plots whose ids resolve to the same text; an app whose
 * threads mint their own ids for one plot name (our SDK's worker threads) would otherwise show
 * the same plot several times. Settings come from the first track that has a PlotConfig.
 */
export interface NamedPlot {
  name: string;
  tracks: PlotTrack[];
  format: number;
  step: boolean;
  fill: boolean;
  color: number;
  count: number;
  min: number;
  max: number;
  /** the latest sample's value across the tracks */
  last: number;
  evictedBeforeNs: number;
}

export function plotsByName(store: SessionStore): NamedPlot[] {
  const byName = new Map<string, NamedPlot>();
  for (const track of store.plots.values()) {
    const name = plotName(store, track.namePtr);
    let plot = byName.get(name);
    if (!plot) {
      plot = { name, tracks: [], format: track.format, step: track.step, fill: track.fill, color: track.color, count: 0, min: Infinity, max: -Infinity, last: NaN, evictedBeforeNs: 0 };
      byName.set(name, plot);
    }
    plot.tracks.push(track);
    const s = track.series;
    plot.count += s.total;
    plot.min = Math.min(plot.min, s.min);
    plot.max = Math.max(plot.max, s.max);
    plot.evictedBeforeNs = Math.max(plot.evictedBeforeNs, s.evictedBeforeNs);
    const latest = plot.tracks.reduce((a, t) => (t.series.lastTime > a.series.lastTime ? t : a));
    plot.last = latest.series.last;
  }
  return [...byName.values()];
}

/** querySeries over every track of a named plot, merged in time order. */
export function queryNamedPlot(plot: NamedPlot, t0: number, t1: number, nsPerPx: number, edges = false): SeriesWindow {
  if (plot.tracks.length === 1) return querySeries(plot.tracks[0]!.series, t0, t1, nsPerPx, edges);
  const parts = plot.tracks.map((t) => querySeries(t.series, t0, t1, nsPerPx, edges));
  const rows: [number, number][] = [];
  for (const part of parts) for (let i = 0; i < part.timeNs.length; i++) rows.push([part.timeNs[i]!, part.value[i]!]);
  rows.sort((a, b) => a[0] - b[0]);
  return {
    timeNs: Float64Array.from(rows, (r) => r[0]),
    value: Float64Array.from(rows, (r) => r[1]),
    decimated: parts.some((p) => p.decimated),
    evictedBeforeNs: Math.max(...parts.map((p) => p.evictedBeforeNs)),
  };
}
