import type { CompareFlameNode, CompareHistogram } from '../../protocol/view/compare-types.js';
import { rgbCss, textOn } from '../colors.js';
import { formatCount, formatDuration } from '../format.js';
import { hideTooltip, showTooltip } from '../tooltip.js';
import { changeRgb, flameNodesOf, flameTooltip } from './compare-view.js';
import { layoutFlame } from './flame-layout.js';
import { axisLabels, barHeights } from './histogram.js';

/** Colours of A (the baseline) and B in the overlaid histograms and the legend. */
export const A_CSS = 'rgba(90, 169, 255, 0.6)';
export const B_CSS = 'rgba(255, 159, 67, 0.6)';

/**
 * A and B's duration histograms of one name overlaid: the server's log-spaced buckets (the same
 * for both) as equal-width columns, so the x axis is logarithmic; each column holds A's bar and
 * B's bar, half transparent, one scale for both (`.cmp-hist-bucket` with data-a, data-b).
 */
export function renderOverlayHistogram(hist: CompareHistogram, heightPx = 110): HTMLElement {
  const root = document.createElement('div');
  root.className = 'histogram cmp-histogram';
  root.dataset.name = hist.name;
  const bars = document.createElement('div');
  bars.className = 'hist-bars';
  bars.style.height = `${heightPx}px`;
  const n = hist.a.counts.length;
  const heights = barHeights([...hist.a.counts, ...hist.b.counts], heightPx, false);
  const width = 100 / Math.max(1, n);
  for (let i = 0; i < n; i++) {
    const col = document.createElement('div');
    col.className = 'hist-bar cmp-hist-bucket';
    col.dataset.a = String(hist.a.counts[i]);
    col.dataset.b = String(hist.b.counts[i]);
    col.style.left = `${i * width}%`;
    col.style.width = `${width}%`;
    for (const [h, css, side] of [[heights[i]!, A_CSS, 'a'], [heights[n + i]!, B_CSS, 'b']] as const) {
      const fill = document.createElement('div');
      fill.className = `cmp-hist-fill cmp-hist-${side}`;
      fill.style.height = `${h}px`;
      fill.style.background = css;
      col.append(fill);
    }
    const lo = hist.edgesNs[i]!;
    const hi = hist.edgesNs[i + 1]!;
    col.addEventListener('mousemove', (ev) => showTooltip(ev.clientX, ev.clientY, [`${formatDuration(lo)} - ${formatDuration(hi)}`, `A: ${formatCount(hist.a.counts[i]!)} zones`, `B: ${formatCount(hist.b.counts[i]!)} zones`]));
    col.addEventListener('mouseleave', hideTooltip);
    bars.append(col);
  }
  const axis = document.createElement('div');
  axis.className = 'hist-axis';
  for (const l of axisLabels(hist.edgesNs, 5)) {
    const span = document.createElement('span');
    span.textContent = l.text;
    span.style.left = `${n ? (l.index / n) * 100 : 0}%`;
    span.style.transform = l.index === 0 ? 'none' : l.index >= n ? 'translateX(-100%)' : 'translateX(-50%)';
    axis.append(span);
  }
  const legend = document.createElement('div');
  legend.className = 'cmp-legend muted';
  legend.innerHTML = `<span style="background:${A_CSS}"></span>A: ${formatCount(hist.a.count)} zones <span style="background:${B_CSS}"></span>B: ${formatCount(hist.b.count)} zones <em>(log duration axis)</em>`;
  root.append(legend, bars, axis);
  return root;
}

const ROW_PX = 18;
const LABEL_MIN_PX = 28;

/**
 * The merged flame graph in `graph` (width = B's total, colour = the change of each path's
 * total from A to B: compare-view.ts changeRgb), nodes narrower than a pixel skipped.
 * @returns the nodes drawn
 */
export function renderCompareFlame(graph: HTMLElement, nodes: readonly CompareFlameNode[]): number {
  const width = graph.clientWidth;
  if (nodes.length === 0 || width <= 0) {
    graph.replaceChildren();
    graph.style.height = '0px';
    return 0;
  }
  const layout = layoutFlame(flameNodesOf(nodes), 0, width, 1);
  const els: HTMLElement[] = [];
  for (const r of layout.rects) {
    const n = nodes[r.id]!;
    const a = n.a?.totalNs ?? 0;
    const b = n.b?.totalNs ?? 0;
    const rgb = changeRgb(a, b);
    const el = document.createElement('div');
    el.className = 'flame-node cmp-flame-node';
    el.textContent = r.w >= LABEL_MIN_PX || r.id === 0 ? n.name : '';
    el.dataset.node = String(n.id);
    el.dataset.name = n.name;
    el.dataset.aNs = String(a);
    el.dataset.bNs = String(b);
    el.dataset.rgb = String(rgb);
    el.style.left = `${r.x}px`;
    el.style.top = `${r.depth * ROW_PX}px`;
    el.style.width = `${Math.max(1, r.w)}px`;
    el.style.background = rgbCss(rgb);
    el.style.color = textOn(rgb);
    el.addEventListener('mousemove', (ev) => showTooltip(ev.clientX, ev.clientY, flameTooltip(n)));
    el.addEventListener('mouseleave', hideTooltip);
    els.push(el);
  }
  graph.replaceChildren(...els);
  graph.style.height = `${layout.rows * ROW_PX}px`;
  return els.length;
}
