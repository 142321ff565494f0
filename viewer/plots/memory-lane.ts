import uPlot from 'uplot';
import type { PlotItems } from '../../protocol/view/types.js';
import { rgbCss } from '../colors.js';
import { formatPlotValue } from '../format.js';
import { alignSeries, laneSeries, laneYRange, MEMORY_FORMAT, stackSums, type Aligned, type LaneSeries } from './memory-lane-data.js';
import { CURSOR_SYNC_KEY, drawSelection, PAD_BOTTOM_PX, PAD_TOP_PX, shadeEvicted, valueAxis } from './plot-chart.js';
import { holdToEnd, lastAtOrBefore, xToTime, type Span } from './plot-math.js';

/** Height of the Memory lane's chart, CSS px (plots.css sizes its row to match). */
export const LANE_HEIGHT_PX = 200;

export interface LaneHooks {
  /** the x range to show (the app's viewport), ns */
  view(): Span;
  /** the end of the session (its latest time while live): the series hold their last value to it */
  endNs(): number;
  /** the range selection (or the one a shift-drag is making), drawn as a band */
  selection(): Span | null;
  /** the cursor moved in the lane's chart (or a synced one) */
  onCursor(u: uPlot): void;
  /** a chart was made: wheel and drag on its plot area belong to the view (plots.ts) */
  bindChart(over: HTMLElement): void;
}

/**
 * The Memory lane: every memory plot of the session (memory-lane-data.ts says which) in one
 * uPlot chart of a row of `#plots`, the heap spaces' used sizes stacked, the rest as lines over
 * them (rss, heapTotal, external, "rss - heapTotal - external", ...), all stepped (a sample
 * holds until the next). The header column is its legend: a swatch, the name and the value at
 * the view's right edge (or under the cursor) per series; a click shows or hides a series.
 *
 *   <div class="plot-row memory-lane">
 *     <div class="plot-header memory-legend">  "Memory", then one .mem-series[data-series=NAME]
 *     <div class="plot-chart">                 uPlot
 *
 * `series` and `aligned` are the lane's data before stacking (the browser tests compare them
 * with the REST API); `chart.data` holds the stacked tops of the shown stack, then the shown lines.
 */
export class MemoryLane {
  readonly el: HTMLDivElement;
  chart: uPlot | null = null;
  series: LaneSeries[] = [];
  aligned: Aligned = { x: new Float64Array(0), values: [] };
  /** names of the series drawn, in the chart's order (uPlot series 1..n) */
  drawn: string[] = [];
  private readonly legend: HTMLDivElement;
  private readonly chartEl: HTMLDivElement;
  /** the user's clicks: shown or hidden, over the default */
  private readonly toggled = new Map<string, boolean>();
  private plots: PlotItems[] = [];
  private key = '';

  constructor(
    headerWidthPx: number,
    private widthPx: number,
    private readonly hooks: LaneHooks,
  ) {
    this.el = document.createElement('div');
    this.el.className = 'plot-row memory-lane';
    this.el.style.gridTemplateColumns = `${headerWidthPx}px minmax(0, 1fr)`;
    this.legend = document.createElement('div');
    this.legend.className = 'plot-header memory-legend';
    this.legend.addEventListener('click', (e) => {
      const item = (e.target as HTMLElement).closest<HTMLElement>('.mem-series');
      const s = item && this.series.find((x) => x.name === item.dataset.series);
      if (!s) return;
      this.toggled.set(s.name, !this.isShown(s));
      this.update(this.plots);
      this.renderLegend(null);
    });
    this.chartEl = document.createElement('div');
    this.chartEl.className = 'plot-chart';
    this.el.append(this.legend, this.chartEl);
  }

  isShown(s: LaneSeries): boolean {
    return this.toggled.get(s.name) ?? s.shownByDefault;
  }

  /** New samples of the memory plots: realigned, and the chart rebuilt when its series changed. */
  update(plots: PlotItems[]): void {
    this.plots = plots;
    const byName = new Map(plots.map((p) => [p.name, p]));
    this.series = laneSeries(plots);
    this.aligned = alignSeries(this.series.map((s) => byName.get(s.name)!));
    const key = this.series.map((s) => `${s.name}|${s.rgb}|${this.isShown(s) ? 1 : 0}`).join('\n');
    if (this.chart === null || key !== this.key) {
      this.key = key;
      this.build();
    } else {
      const { t0, t1 } = this.hooks.view();
      const chart = this.chart;
      chart.batch(() => {
        chart.setData(this.chartData(), false);
        chart.setScale('x', { min: t0, max: t1 });
      });
    }
  }

  setScale(view: Span): void {
    this.chart?.setScale('x', { min: view.t0, max: view.t1 });
  }

  redraw(): void {
    this.chart?.redraw(false);
  }

  resize(widthPx: number): void {
    this.widthPx = widthPx;
    this.chart?.setSize({ width: widthPx, height: LANE_HEIGHT_PX });
  }

  /** Drops the chart and the data (another session, or no memory plot any more). */
  clear(): void {
    this.chart?.destroy();
    this.chart = null;
    this.key = '';
    this.series = [];
    this.plots = [];
    this.drawn = [];
    this.aligned = { x: new Float64Array(0), values: [] };
    this.legend.replaceChildren();
    this.el.remove();
  }

  /** The legend's values: at the cursor (`hoverLeftPx` from the plot area's left) or the view's right edge. */
  renderLegend(hoverLeftPx: number | null): void {
    const view = this.hooks.view();
    const t = hoverLeftPx === null ? view.t1 : xToTime(view, hoverLeftPx, this.widthPx);
    const i = lastAtOrBefore(this.aligned.x, t);
    this.legend.classList.toggle('hovering', hoverLeftPx !== null);
    const items = this.legend.querySelectorAll<HTMLElement>('.mem-series .plot-value');
    this.series.forEach((_s, k) => {
      const v = i >= 0 ? this.aligned.values[k]?.[i] : null;
      const text = v === null || v === undefined ? '-' : formatPlotValue(v, MEMORY_FORMAT);
      const el = items[k];
      if (el && el.textContent !== text) el.textContent = text;
    });
  }

  /**
   * [x, stack tops of each group (bottom first), lines]: what uPlot draws. Every series holds
   * its last value to the end of the session (its latest time while live): one more x, endNs,
   * with each series' last value, after the aligned samples.
   */
  private chartData(): uPlot.AlignedData {
    const { x, values } = this.aligned;
    const index = new Map(this.series.map((s, k) => [s.name, k]));
    const cols: Array<ArrayLike<number | null>> = [];
    for (const members of this.stackGroups()) cols.push(...stackSums(values, members.map((s) => index.get(s.name)!)));
    for (const s of this.series) if (!s.stacked && this.isShown(s)) cols.push(values[index.get(s.name)!]!);
    const endNs = this.hooks.endNs();
    const n = x.length;
    if (!(n > 0 && endNs > x[n - 1]!)) return [x, ...cols] as uPlot.AlignedData;
    const hx = holdToEnd(x, x, endNs).times;
    const held = cols.map((c) => {
      const a = Array.from(c);
      a.push(c[n - 1] ?? null);
      return a;
    });
    return [hx, ...held] as uPlot.AlignedData;
  }

  /** The shown stacked series, per prefix group, bottom first. */
  private stackGroups(): LaneSeries[][] {
    const groups = new Map<string, LaneSeries[]>();
    for (const s of this.series) {
      if (!s.stacked || !this.isShown(s)) continue;
      const g = groups.get(s.group) ?? [];
      g.push(s);
      groups.set(s.group, g);
    }
    return [...groups.values()];
  }

  private build(): void {
    this.chart?.destroy();
    const stepped = uPlot.paths.stepped!({ align: 1 });
    const series: uPlot.Series[] = [{}];
    const bands: uPlot.Band[] = [];
    const drawn: string[] = [];
    for (const group of this.stackGroups()) {
      group.forEach((s, j) => {
        const stroke = rgbCss(s.rgb);
        series.push({ label: s.name, stroke, width: s.width, fill: `${stroke}66`, paths: stepped, points: { show: false }, ...(j === 0 ? { fillTo: 0 } : {}) });
        drawn.push(s.name);
        // the band between this layer's top and the one below: its fill is this layer's
        if (j > 0) bands.push({ series: [series.length - 1, series.length - 2] });
      });
    }
    for (const s of this.series) {
      if (s.stacked || !this.isShown(s)) continue;
      series.push({ label: s.name, stroke: rgbCss(s.rgb), width: s.width, dash: s.dash ?? undefined, paths: stepped, points: { show: false } });
      drawn.push(s.name);
    }
    this.drawn = drawn;
    const v = this.hooks.view();
    const opts: uPlot.Options = {
      width: this.widthPx,
      height: LANE_HEIGHT_PX,
      padding: [PAD_TOP_PX, 0, PAD_BOTTOM_PX, 0],
      legend: { show: false },
      drawOrder: ['series', 'axes'] as unknown as uPlot.DrawOrderKey[],
      scales: {
        x: { time: false, auto: false, min: v.t0, max: v.t1, range: (_u, min, max) => [min, max] },
        y: {
          auto: true,
          range: (u) => {
            const view = this.hooks.view();
            return laneYRange(u.data[0] ?? [], u.data.slice(1) as Array<ArrayLike<number | null>>, view.t0, view.t1);
          },
        },
      },
      axes: [{ show: false }, valueAxis(MEMORY_FORMAT, LANE_HEIGHT_PX)],
      series,
      bands,
      cursor: {
        y: false,
        drag: { x: false, y: false, setScale: false },
        bind: { dblclick: () => null },
        sync: { key: CURSOR_SYNC_KEY },
        points: { show: false },
        dataIdx: (u, _si, closest, xValue) => {
          // the held end (chartData) is no sample: past the last one, the hover shows that one
          const i = Math.min(lastAtOrBefore(u.data[0] ?? [], xValue), this.aligned.x.length - 1);
          return i >= 0 ? i : closest;
        },
      },
      hooks: {
        setCursor: [(u) => this.hooks.onCursor(u)],
        drawClear: [(u) => shadeEvicted(u, Math.max(0, ...this.plots.map((p) => p.evictedBeforeNs)))],
        draw: [(u) => drawSelection(u, this.hooks.selection())],
      },
    };
    this.chart = new uPlot(opts, this.chartData(), this.chartEl);
    this.hooks.bindChart(this.chart.over);
    this.renderLegendItems();
  }

  private renderLegendItems(): void {
    const title = document.createElement('div');
    title.className = 'plot-name';
    title.textContent = 'Memory';
    const items = this.series.map((s) => {
      const item = document.createElement('div');
      item.className = 'mem-series';
      item.dataset.series = s.name;
      item.dataset.shown = this.isShown(s) ? '1' : '0';
      item.title = `${s.name}${s.stacked ? ' (stacked)' : ''}${s.empty ? ' (0 so far)' : ''}: click to ${this.isShown(s) ? 'hide' : 'show'}`;
      const swatch = document.createElement('span');
      swatch.className = s.stacked ? 'mem-swatch stacked' : 'mem-swatch';
      swatch.style.background = rgbCss(s.rgb);
      const name = document.createElement('span');
      name.className = 'mem-name';
      name.textContent = s.label;
      const value = document.createElement('span');
      value.className = 'plot-value mono';
      item.append(swatch, name, value);
      return item;
    });
    this.legend.replaceChildren(title, ...items);
  }
}
