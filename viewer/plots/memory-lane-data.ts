/**
 * The Memory lane's data, without DOM (unit-tested in node, memory-lane-data.test.ts): which
 * plots go in it, how each is drawn (stacked or a line, shown or hidden at first), and the
 * series lined up on one x array, as one uPlot chart needs them.
 *
 * The rule (docs/viewer.md): a plot goes in the Memory lane when its PlotConfig format is
 * Memory (bytes) and it is a plot, not a memory-usage series of alloc/free events (those keep
 * their own charts). Inside the lane, by name (after an optional runtime-metrics prefix
 * "worker N "):
 *   "v8 <space> used"                stacked, one stack per prefix (their sum is heapUsed)
 *   "v8 <space> size", "v8 heap available", and heapUsed next to a stack
 *                                    lines, hidden until clicked in the legend (the sizes add up
 *                                    to heapTotal, available is GiBs and would flatten the rest,
 *                                    heapUsed is the stack's top)
 *   everything else                  lines: rss, heapTotal, external, arrayBuffers, v8 malloced,
 *                                    "rss - heapTotal - external", any app plot in bytes
 * A series whose every sample so far is 0 (a heap space the app never used) is hidden and comes
 * last in the legend.
 */
import type { PlotItems } from '../../protocol/view/types.js';
import { colorFromName } from '../colors.js';
import { lastAtOrBefore } from './plot-math.js';

/** PlotFormat.Memory */
export const MEMORY_FORMAT = 1;
/**
 * Most x values of the lane. The union of the series' times is used up to this; past it (the
 * series were decimated per pixel by the server, each on its own times) the times of the
 * longest series are, which the server already bounds to about 4 per pixel.
 */
export const MAX_LANE_POINTS = 40_000;

export function isMemoryLanePlot(p: PlotItems): boolean {
  return p.format === MEMORY_FORMAT && p.memory !== true;
}

export interface LaneSeries {
  name: string;
  /** the legend's shorter text: "old used" for "v8 old_space used" (the prefix kept) */
  label: string;
  /** every sample so far is 0 (a heap space this app never uses): hidden, last in the legend */
  empty: boolean;
  stacked: boolean;
  /** the runtime-metrics prefix ("" or "worker N "): one stack per prefix */
  group: string;
  /** shown until the user toggles it in the legend */
  shownByDefault: boolean;
  /** 0xRRGGBB */
  rgb: number;
  /** line width, CSS px */
  width: number;
  /** a dashed line (uPlot's dash pattern), or none */
  dash: number[] | null;
}

const PREFIX_RE = /^(worker \d+ )?(.*)$/;
const SPACE_RE = /^v8 (\S+) (used|size)$/;
/** V8's heap spaces, bottom of the stack first: the big, steady ones low, the churning new space high. */
const SPACE_ORDER = ['read_only_space', 'old_space', 'code_space', 'shared_space', 'large_object_space', 'code_large_object_space', 'shared_large_object_space', 'new_large_object_space', 'new_space'];
const SPACE_RGB: Record<string, number> = {
  read_only_space: 0x6b7280,
  old_space: 0x3b82f6,
  code_space: 0xf59e0b,
  shared_space: 0x14b8a6,
  large_object_space: 0x8b5cf6,
  code_large_object_space: 0xd97706,
  shared_large_object_space: 0x0d9488,
  new_large_object_space: 0xa3e635,
  new_space: 0x22c55e,
};
/** Lines with a fixed look, by name after the prefix. */
const LINES: Record<string, Pick<LaneSeries, 'rgb' | 'width' | 'dash'>> = {
  rss: { rgb: 0xf2f2f2, width: 2, dash: null },
  heapTotal: { rgb: 0x93c5fd, width: 1.5, dash: [6, 3] },
  heapUsed: { rgb: 0x60a5fa, width: 1, dash: null },
  external: { rgb: 0xd946ef, width: 1.5, dash: null },
  arrayBuffers: { rgb: 0xf0abfc, width: 1, dash: [3, 3] },
  'rss - heapTotal - external': { rgb: 0xef4444, width: 2, dash: null },
  'v8 malloced': { rgb: 0x22d3ee, width: 1, dash: null },
  'v8 heap available': { rgb: 0x9ca3af, width: 1, dash: [2, 4] },
};

/** The lane's series for these memory plots: stacks first (per prefix, in SPACE_ORDER), then lines in the order given. */
export function laneSeries(plots: readonly PlotItems[]): LaneSeries[] {
  const stacks: LaneSeries[] = [];
  const lines: LaneSeries[] = [];
  const stackGroups = new Set<string>();
  for (const p of plots) {
    const [, prefix = '', rest = ''] = PREFIX_RE.exec(p.name) ?? [];
    const space = SPACE_RE.exec(rest);
    const empty = p.count > 0 && p.min === 0 && p.max === 0;
    const label = prefix + (space ? `${space[1]!.replace(/_space$/, '')} ${space[2]}` : rest.replace(/^v8 /, ''));
    if (space?.[2] === 'used') {
      stacks.push({ name: p.name, label, empty, stacked: true, group: prefix, shownByDefault: !empty, rgb: SPACE_RGB[space[1]!] ?? colorFromName(space[1]!), width: 1, dash: null });
      stackGroups.add(prefix);
      continue;
    }
    const look = LINES[rest] ?? (space ? { rgb: SPACE_RGB[space[1]!] ?? colorFromName(space[1]!), width: 1, dash: [4, 2] } : null);
    const rgb = p.color !== 0 ? p.color & 0xffffff : (look?.rgb ?? colorFromName(p.name));
    const hidden = space !== null || rest === 'v8 heap available';
    lines.push({ name: p.name, label, empty, stacked: false, group: prefix, shownByDefault: !hidden && !empty, rgb, width: look?.width ?? 1.5, dash: look?.dash ?? null });
  }
  for (const l of lines) if (l.name === `${l.group}heapUsed` && stackGroups.has(l.group)) l.shownByDefault = false;
  const rank = (s: LaneSeries) => {
    const space = SPACE_RE.exec(s.name.slice(s.group.length))?.[1] ?? '';
    const i = SPACE_ORDER.indexOf(space);
    return i >= 0 ? i : SPACE_ORDER.length;
  };
  stacks.sort((a, b) => (a.group === b.group ? rank(a) - rank(b) || (a.name < b.name ? -1 : 1) : a.group < b.group ? -1 : 1));
  const all = [...stacks, ...lines];
  return [...all.filter((x) => !x.empty), ...all.filter((x) => x.empty)];
}

export interface Aligned {
  /** the shared times, ns, ascending */
  x: Float64Array;
  /** per series, its value at each x: the last sample at or before it (null before its first) */
  values: Array<Array<number | null>>;
}

/**
 * Lines the series up on one x array: the union of their times (up to MAX_LANE_POINTS, else the
 * longest series' times), each series holding its last value until its next sample (a sampled
 * gauge). Series sampled together (the SDK's runtime metrics) share every time: x is then just
 * those times. Cost: one merge per series, O(series x points).
 */
export function alignSeries(series: ReadonlyArray<{ timeNs: ArrayLike<number>; value: ArrayLike<number> }>, maxPoints = MAX_LANE_POINTS): Aligned {
  let x: Float64Array = new Float64Array(0);
  let longest: Float64Array = new Float64Array(0);
  for (const s of series) {
    const t = Float64Array.from(s.timeNs);
    if (t.length > longest.length) longest = t;
    x = mergeUnique(x, t, maxPoints + 1);
  }
  if (x.length > maxPoints) x = longest;
  return { x, values: series.map((s) => hold(s.timeNs, s.value, x)) };
}

/** Sorted union of two ascending arrays without repeats, stopping at `cap` values. */
function mergeUnique(a: Float64Array, b: Float64Array, cap: number): Float64Array {
  const out = new Float64Array(Math.min(cap, a.length + b.length));
  let i = 0;
  let j = 0;
  let n = 0;
  while (n < out.length && (i < a.length || j < b.length)) {
    const v = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i++]! : b[j++]!;
    if (n === 0 || out[n - 1] !== v) out[n++] = v;
  }
  return out.subarray(0, n);
}

function hold(times: ArrayLike<number>, values: ArrayLike<number>, x: Float64Array): Array<number | null> {
  const out = new Array<number | null>(x.length);
  let k = -1;
  for (let i = 0; i < x.length; i++) {
    while (k + 1 < times.length && times[k + 1]! <= x[i]!) k++;
    out[i] = k >= 0 ? values[k]! : null;
  }
  return out;
}

/**
 * Cumulative sums of `members` (indexes into `values`, bottom first): the k-th array is the top
 * of the k-th layer. A layer with no value yet counts as 0 for the ones above it and is null
 * itself (no area drawn there).
 */
export function stackSums(values: ReadonlyArray<ReadonlyArray<number | null>>, members: readonly number[]): Array<Array<number | null>> {
  const n = members.length > 0 ? values[members[0]!]!.length : 0;
  const acc = new Float64Array(n);
  return members.map((m) => {
    const v = values[m]!;
    const out = new Array<number | null>(n);
    for (let i = 0; i < n; i++) {
      const y = v[i];
      if (y === null || y === undefined) {
        out[i] = null;
        continue;
      }
      const sum = acc[i]! + y;
      acc[i] = sum;
      out[i] = sum;
    }
    return out;
  });
}

/**
 * The y range of the lane showing [t0, t1]: over every drawn array (stack tops and lines), the
 * samples in view and one either side, padded by `padFraction`; not below 0 when nothing is
 * negative. [0, 1] when there is nothing.
 */
export function laneYRange(x: ArrayLike<number>, arrays: ReadonlyArray<ArrayLike<number | null>>, t0: number, t1: number, padFraction = 0.06): [number, number] {
  const first = Math.max(0, lastAtOrBefore(x, t0));
  const last = Math.min(x.length - 1, lastAtOrBefore(x, t1) + 1);
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of arrays) {
    for (let i = first; i <= last; i++) {
      const v = a[i];
      if (v === null || v === undefined || !Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (lo > hi) return [0, 1];
  const span = hi - lo;
  const pad = span > 0 ? span * padFraction : Math.abs(hi) > 0 ? Math.abs(hi) * 0.1 : 1;
  return [lo >= 0 ? 0 : lo - pad, hi + pad];
}
