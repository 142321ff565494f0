import { formatCount, formatDuration } from '../format.js';

/**
 * The duration histogram of find zone: the API's log-scale buckets (bucket i covers
 * [edgesNs[i], edgesNs[i+1]) ns) drawn as DOM bars of equal width (the x axis is logarithmic
 * because the buckets are), with duration labels under them.
 */

/**
 * Bar heights in px for `counts` in a plot `heightPx` high: linear, or log10(1 + count) scaled
 * to the largest. A non-empty bucket is at least 1 px so a single outlier stays visible.
 */
export function barHeights(counts: readonly number[], heightPx: number, logY: boolean): number[] {
  const f = logY ? (c: number) => Math.log10(1 + c) : (c: number) => c;
  let max = 0;
  for (const c of counts) max = Math.max(max, f(c));
  return counts.map((c) => (c <= 0 || max === 0 ? 0 : Math.max(1, Math.round((f(c) / max) * heightPx))));
}

/**
 * Where to label the axis: up to `maxLabels` edge indices spread evenly, always the first and the
 * last edge, each with its duration text.
 */
export function axisLabels(edgesNs: readonly number[], maxLabels: number): { index: number; text: string }[] {
  const n = edgesNs.length;
  if (n === 0) return [];
  if (n === 1) return [{ index: 0, text: formatDuration(edgesNs[0]!) }];
  const k = Math.max(2, Math.min(maxLabels, n));
  const out: { index: number; text: string }[] = [];
  for (let j = 0; j < k; j++) {
    const index = Math.round((j * (n - 1)) / (k - 1));
    if (out.length && out[out.length - 1]!.index === index) continue;
    out.push({ index, text: formatDuration(edgesNs[index]!) });
  }
  return out;
}

export interface HistogramOptions {
  heightPx?: number;
  logY?: boolean;
  /** called with (bucket index, clientX, clientY) on hover, -1 on leave */
  onHover?(bucket: number, clientX: number, clientY: number): void;
}

/**
 * The histogram as DOM: `.histogram` holding `.hist-bars` (one `.hist-bar` per bucket with
 * data-count, data-lo-ns, data-hi-ns) and `.hist-axis` (labels positioned by edge).
 */
export function renderHistogram(edgesNs: readonly number[], counts: readonly number[], options: HistogramOptions = {}): HTMLElement {
  const heightPx = options.heightPx ?? 90;
  const root = document.createElement('div');
  root.className = 'histogram';
  const bars = document.createElement('div');
  bars.className = 'hist-bars';
  bars.style.height = `${heightPx}px`;
  const heights = barHeights(counts, heightPx, options.logY === true);
  const width = 100 / Math.max(1, counts.length);
  for (let i = 0; i < counts.length; i++) {
    const bar = document.createElement('div');
    bar.className = 'hist-bar';
    bar.dataset.bucket = String(i);
    bar.dataset.count = String(counts[i]);
    bar.dataset.loNs = String(edgesNs[i]);
    bar.dataset.hiNs = String(edgesNs[i + 1]);
    bar.style.left = `${i * width}%`;
    bar.style.width = `${width}%`;
    const fill = document.createElement('div');
    fill.className = 'hist-fill';
    fill.style.height = `${heights[i]}px`;
    bar.append(fill);
    if (options.onHover) {
      const hover = options.onHover;
      bar.addEventListener('mousemove', (ev) => hover(i, ev.clientX, ev.clientY));
      bar.addEventListener('mouseleave', () => hover(-1, 0, 0));
    }
    bars.append(bar);
  }
  const yMax = document.createElement('span');
  yMax.className = 'hist-ymax';
  yMax.textContent = `max ${formatCount(Math.max(0, ...counts))} / bucket${options.logY ? ' (log)' : ''}`;
  bars.append(yMax);
  const axis = document.createElement('div');
  axis.className = 'hist-axis';
  const labels = axisLabels(edgesNs, 5);
  for (const l of labels) {
    const span = document.createElement('span');
    span.textContent = l.text;
    const pct = counts.length ? (l.index / counts.length) * 100 : 0;
    span.style.left = `${pct}%`;
    // the first label hangs right of its tick, the last left of it, the rest centred
    span.style.transform = l.index === 0 ? 'none' : l.index >= counts.length ? 'translateX(-100%)' : 'translateX(-50%)';
    axis.append(span);
  }
  root.append(bars, axis);
  return root;
}
