/**
 * The ruler's tick logic, pure (no DOM): which times get a tick for a view [t0, t1] drawn on
 * `widthPx` CSS pixels, and their labels. Steps are "nice" (1, 2 or 5 x 10^k ns, at least 1 ns);
 * the step is the smallest one whose labels do not overlap. The first labelled tick shows its
 * absolute time ("1.2345 s"), the others their offset from it ("+250 us"), as Tracy does.
 */

export interface RulerTick {
  /** time of the tick, ns since the session's start */
  ns: number;
  /** CSS px from the left edge of the drawing */
  x: number;
  label: string;
}

export interface RulerTicks {
  /** ns between labelled (major) ticks; 0 when the view is empty */
  stepNs: number;
  /** ns between minor ticks (a divisor of stepNs) */
  minorStepNs: number;
  major: RulerTick[];
  /** x (CSS px) of the minor ticks that are not major ticks */
  minorX: number[];
}

export interface RulerOptions {
  /** width of a label in CSS px; default: 6.5 px per character (11 px sans-serif) */
  measure?: (label: string) => number;
  /** free space required after a label, CSS px (default 16) */
  gapPx?: number;
  /** the smallest distance between major ticks, CSS px (default 60) */
  minStepPx?: number;
}

const UNITS: readonly (readonly [number, string])[] = [
  [1e9, 's'],
  [1e6, 'ms'],
  [1e3, 'us'],
  [1, 'ns'],
];

/** The smallest nice step (1, 2 or 5 x 10^k ns, at least 1 ns) that is >= `minNs`. */
export function niceStepAtLeast(minNs: number): number {
  if (!(minNs > 1)) return 1;
  let p = 10 ** Math.floor(Math.log10(minNs));
  // guard the float log10 at exact powers (log10(1000) may be 2.9999...)
  if (p * 10 <= minNs) p *= 10;
  for (const m of [1, 2, 5, 10]) if (m * p >= minNs) return m * p;
  return 10 * p;
}

/** The next nice step after `stepNs` (1 -> 2 -> 5 -> 10 ...). */
export function nextNiceStep(stepNs: number): number {
  return niceStepAtLeast(stepNs * 1.5);
}

/** Minor ticks per major step: 5 for a 1 or 5 x 10^k step, 4 for a 2 x 10^k step. */
export function minorDivisions(stepNs: number): number {
  const m = Math.round(stepNs / 10 ** Math.floor(Math.log10(stepNs) + 1e-9));
  return m === 2 ? 4 : 5;
}

/** Decimals that resolve `stepNs` in `unitNs` (steps are 1/2/5 x 10^k, so -k digits). */
function decimalsFor(stepNs: number, unitNs: number): number {
  const d = Math.ceil(-Math.log10(stepNs / unitNs) - 1e-9);
  return Math.min(9, Math.max(0, d));
}

/** `v` in ns as "1.25 ms": the largest unit not above |v| (the step's for 0), precise to the step. */
export function formatTickTime(v: number, stepNs: number): string {
  const a = Math.abs(v);
  const ref = a > 0 ? a : stepNs;
  let unit = UNITS[UNITS.length - 1]!;
  for (const u of UNITS) {
    if (ref >= u[0] * (1 - 1e-12)) {
      unit = u;
      break;
    }
  }
  const text = (v / unit[0]).toFixed(decimalsFor(stepNs, unit[0]));
  return `${trimZeros(text)} ${unit[1]}`;
}

/** An offset from the first labelled tick: "+250 us". */
export function formatTickOffset(offsetNs: number, stepNs: number): string {
  return `+${formatTickTime(offsetNs, stepNs)}`;
}

function trimZeros(text: string): string {
  if (!text.includes('.')) return text === '-0' ? '0' : text;
  const t = text.replace(/\.?0+$/, '');
  return t === '-0' ? '0' : t;
}

const defaultMeasure = (label: string): number => label.length * 6.5;

/** The ticks of [t0, t1] on `widthPx` CSS px. An empty or degenerate view has no ticks. */
export function rulerTicks(t0: number, t1: number, widthPx: number, opts: RulerOptions = {}): RulerTicks {
  const empty: RulerTicks = { stepNs: 0, minorStepNs: 0, major: [], minorX: [] };
  const span = t1 - t0;
  if (!(span > 0) || !(widthPx > 0) || !Number.isFinite(span)) return empty;
  const measure = opts.measure ?? defaultMeasure;
  const gap = opts.gapPx ?? 16;
  const nsPerPx = span / widthPx;
  let step = niceStepAtLeast(nsPerPx * (opts.minStepPx ?? 60));
  let major: RulerTick[] = [];
  for (let attempt = 0; attempt < 40; attempt++) {
    major = majorTicks(t0, t1, nsPerPx, step);
    const stepPx = step / nsPerPx;
    let fits = true;
    for (const tick of major) {
      if (measure(tick.label) + gap > stepPx) {
        fits = false;
        break;
      }
    }
    if (fits) break;
    step = nextNiceStep(step);
  }
  const div = minorDivisions(step);
  const minor = step / div;
  const minorX: number[] = [];
  if (minor / nsPerPx >= 4) {
    const k0 = Math.ceil(t0 / minor);
    const k1 = Math.floor(t1 / minor);
    for (let k = k0; k <= k1; k++) if (k % div !== 0) minorX.push((k * minor - t0) / nsPerPx);
  }
  return { stepNs: step, minorStepNs: minor, major, minorX };
}

function majorTicks(t0: number, t1: number, nsPerPx: number, step: number): RulerTick[] {
  const out: RulerTick[] = [];
  const k0 = Math.ceil(t0 / step);
  const k1 = Math.floor(t1 / step);
  for (let k = k0; k <= k1; k++) {
    const ns = k * step;
    const label = k === k0 ? formatTickTime(ns, step) : formatTickOffset((k - k0) * step, step);
    out.push({ ns, x: (ns - t0) / nsPerPx, label });
  }
  return out;
}
