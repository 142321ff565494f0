/**
 * Pure helpers of the plot rows: y range from the samples in view, tick increments per plot
 * format, the sample under the cursor, and the view changes of wheel and drag. No DOM, so they
 * are unit-tested in node (plot-math.test.ts).
 */

export interface Span {
  t0: number;
  t1: number;
}

/**
 * Wheel zoom per pixel of deltaY, the same as the timeline's (timeline/interaction.ts), so a
 * notch zooms alike over the timeline and over a plot: exp(0.0025 x 120 px) = 1.35x a notch.
 */
export const WHEEL_ZOOM_PER_PX = 0.0025;
/** ctrl+wheel is a trackpad pinch: small deltas, zoom faster per pixel (as the timeline). */
export const PINCH_ZOOM_PER_PX = 0.01;
/** Zooming out stops at this span, ns (as the timeline). */
export const MAX_SPAN_NS = 1e16;

/** Index of the last time <= t in sorted `times`, or -1 when every time is after t (binary search). */
export function lastAtOrBefore(times: ArrayLike<number>, t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * The y range [min, max] of a chart showing [t0, t1]: from the samples in view plus the one just
 * before and the one just after (the lines that enter and leave the view stay inside), padded by
 * `padFraction` of the span on each side. Non-negative data (memory, most counters) is not padded
 * below zero. A flat line gets a band around it; no samples gives [0, 1].
 */
export function yRange(times: ArrayLike<number>, values: ArrayLike<number>, t0: number, t1: number, padFraction = 0.08): [number, number] {
  const n = Math.min(times.length, values.length);
  let lo = Infinity;
  let hi = -Infinity;
  const first = Math.max(0, lastAtOrBefore(times, t0));
  const last = Math.min(n - 1, lastAtOrBefore(times, t1) + 1);
  for (let i = first; i <= last; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) return [0, 1];
  const span = hi - lo;
  const pad = span > 0 ? span * padFraction : Math.abs(hi) > 0 ? Math.abs(hi) * 0.1 : 1;
  const min = lo >= 0 && lo - pad < 0 ? 0 : lo - pad;
  return [min, hi + pad];
}

const DECIMAL_STEPS = [1, 2, 5];

/** Tick increments 1-2-5 x 10^k for k in [-9, 15] (numbers, percentages, watts). */
export function decimalIncrs(): number[] {
  const out: number[] = [];
  for (let k = -9; k <= 15; k++) for (const s of DECIMAL_STEPS) out.push(Number((s * 10 ** k).toPrecision(1)));
  return out;
}

/** The smallest 1-2-5 x 10^k at or above `x` (> 0). */
export function niceStepAtLeast(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x * (1 - 1e-12)) return m * p;
  return 10 * p;
}

/**
 * Y ticks for byte values in [min, max], at most `maxTicks` of them, round in the unit the labels
 * use (formatBytes picks B/KiB/MiB/GiB/TiB from the size): 1-2-5 x 10^k of that unit, so a range
 * of 1.2-1.45 MiB gets ticks at 1.3 and 1.4 MiB, not at 1.27 and 1.37 MiB (100 KiB steps).
 * Whole bytes at least.
 */
export function byteSplits(min: number, max: number, maxTicks: number): number[] {
  if (!(max > min) || !Number.isFinite(min) || !Number.isFinite(max)) return [];
  const size = Math.max(Math.abs(min), Math.abs(max));
  const unit = 1024 ** Math.min(4, Math.max(0, Math.floor(Math.log(size) / Math.log(1024))));
  const step = Math.max(1, niceStepAtLeast((max - min) / unit / Math.max(1, maxTicks)) * unit);
  const out: number[] = [];
  for (let k = Math.ceil(min / step); k * step <= max; k++) out.push(k * step);
  return out;
}

/** A wheel delta in pixels: deltaMode 0 = pixels, 1 = lines (40 px), 2 = pages (800 px), as the timeline. */
export function wheelPx(delta: number, deltaMode: number): number {
  return delta * (deltaMode === 1 ? 40 : deltaMode === 2 ? 800 : 1);
}

/** The span factor of a wheel turn of `dyPx` (positive = wheel down = zoom out), within [0.1, 10]. */
export function wheelZoomFactor(dyPx: number, pinch = false): number {
  return Math.min(10, Math.max(0.1, Math.exp(dyPx * (pinch ? PINCH_ZOOM_PER_PX : WHEEL_ZOOM_PER_PX))));
}

/** The view with its span times `factor`, `anchorNs` staying at the same x. */
export function zoomAt(view: Span, anchorNs: number, factor: number): Span {
  return { t0: anchorNs - (anchorNs - view.t0) * factor, t1: anchorNs + (view.t1 - anchorNs) * factor };
}

/** The view after dragging the content `dxPx` CSS px to the right on a `widthPx` wide plot area. */
export function panBy(view: Span, dxPx: number, widthPx: number): Span {
  const dt = (dxPx * (view.t1 - view.t0)) / Math.max(1, widthPx);
  return { t0: view.t0 - dt, t1: view.t1 - dt };
}

/** The time at x (CSS px from the plot area's left edge) of a `widthPx` wide plot showing `view`. */
export function xToTime(view: Span, x: number, widthPx: number): number {
  return view.t0 + (x / Math.max(1, widthPx)) * (view.t1 - view.t0);
}

/**
 * A step plot's samples with its last value held to `endNs` (the session's end, or its latest
 * time while live): one more point (endNs, last value) when the last sample is before endNs, so
 * the line reaches the end of the session instead of stopping at the last change. A value holds
 * until the next sample; memory usage that stopped changing is "unchanged", not "no data".
 * `real` is the number of real samples (the points after it are the held end).
 */
export function holdToEnd(times: ArrayLike<number>, values: ArrayLike<number>, endNs: number): { times: Float64Array; values: Float64Array; real: number } {
  const n = Math.min(times.length, values.length);
  const last = n > 0 ? times[n - 1]! : Infinity;
  const extend = n > 0 && Number.isFinite(endNs) && endNs > last;
  const t = new Float64Array(n + (extend ? 1 : 0));
  const v = new Float64Array(t.length);
  for (let i = 0; i < n; i++) {
    t[i] = times[i]!;
    v[i] = values[i]!;
  }
  if (extend) {
    t[n] = endNs;
    v[n] = values[n - 1]!;
  }
  return { times: t, values: v, real: n };
}

/** How many of the sorted `times` are in [t0, t1]. */
export function samplesInView(times: ArrayLike<number>, t0: number, t1: number): number {
  const hi = lastAtOrBefore(times, t1);
  // the index of the first time >= t0: one past the last time < t0
  let lo = 0;
  let h = times.length;
  while (lo < h) {
    const mid = (lo + h) >>> 1;
    if (times[mid]! < t0) lo = mid + 1;
    else h = mid;
  }
  return Math.max(0, hi - lo + 1);
}

/**
 * Whether a plot draws nothing of its own in [t0, t1] and says "no samples in view": a line
 * plot when no sample is in the view; a step plot only when no value holds anywhere in it (no
 * sample at or before t1, or the view starts after the held end `endNs`). A step plot whose last
 * change is before the view shows that value, held: it is not empty.
 */
export function noSamplesInView(step: boolean, times: ArrayLike<number>, t0: number, t1: number, endNs: number): boolean {
  if (samplesInView(times, t0, t1) > 0) return false;
  if (!step) return true;
  const i = lastAtOrBefore(times, t1);
  if (i < 0) return true;
  // a sample after the view (the server sends one past t1 with edges) holds the earlier value to it
  const holdEnd = i + 1 < times.length ? times[i + 1]! : Math.max(endNs, times[i]!);
  return holdEnd < t0;
}
