import uPlot from 'uplot';
import type { PlotItems } from '../../protocol/view/types.js';
import type { App } from '../app.js';
import { formatPlotValue, formatTimestamp } from '../format.js';
import type { Timeline } from '../timeline/timeline.js';
import { hideTooltip, showTooltip } from '../tooltip.js';
import { isMemoryLanePlot } from './memory-lane-data.js';
import { MemoryLane } from './memory-lane.js';
import { CHART_HEIGHT_PX, chartOptions, plotStyle, styleKey, type PlotStyle } from './plot-chart.js';
import { holdToEnd, lastAtOrBefore, noSamplesInView, xToTime } from './plot-math.js';
import { PlotPointer } from './plot-pointer.js';
import './plots.css';

/** One row of #plots: the header column and the chart. */
interface PlotRow {
  name: string;
  key: string;
  style: PlotStyle;
  plot: PlotItems;
  el: HTMLDivElement;
  header: HTMLDivElement;
  valueEl: HTMLDivElement;
  /** "no samples in view", shown over the chart when nothing of the plot is in the view */
  emptyEl: HTMLDivElement;
  chart: uPlot;
  /** whether the row is scrolled into #plots' view (IntersectionObserver); true until told */
  visible: boolean;
  /** the chart holds new data or view it has not drawn (it was out of view) */
  stale: boolean;
}

/**
 * The plots below the timeline: one uPlot chart per plot of the live update (plots and memory-
 * usage series, in the order the server sends them), each in a row of `#plots`:
 *
 *   <div class="plot-row">
 *     <div class="plot-header" data-plot="NAME">  name, value   (timeline.headerWidth px wide)
 *     <div class="plot-chart">                    uPlot, plot area = the timeline canvas's x range
 *
 * The x scale is the app's viewport (ns since the session's start), so time t is at the same x
 * in the timeline and in every chart; the header shows the value at the right edge of the view
 * (the latest one when following live) or, while the cursor is over any chart, the value under
 * it. Wheel zooms at the cursor, drag pans, shift-drag selects a range, as on the timeline.
 *
 * `charts` maps a plot's name to its uPlot instance (the browser tests read `.data` from it).
 * Memory plots (PlotConfig format Memory) are not rows of their own: they share one chart, the
 * Memory lane (memory-lane.ts), placed where the first of them comes in the order.
 */
export class PlotsView {
  readonly charts = new Map<string, uPlot>();
  private readonly rows = new Map<string, PlotRow>();
  /** the Memory lane: every memory plot in one chart (its element is in #plots while it has some) */
  readonly memory: MemoryLane;
  private hovered: PlotRow | null = null;
  private readonly pointer: PlotPointer;
  /** the cursor's x over the charts, CSS px from the plot area's left edge (null: not over one) */
  private hoverLeftPx: number | null = null;
  private scaleFrame = 0;
  private widthPx = 0;
  private readonly byElement = new WeakMap<Element, PlotRow>();
  /** Rows scrolled out of #plots take new data but draw only when they come into view. */
  private readonly seen: IntersectionObserver;

  constructor(
    readonly container: HTMLElement,
    readonly app: App,
    readonly timeline: Timeline,
  ) {
    app.on('session', () => this.clear());
    app.on('data', () => this.onData());
    app.on('viewport', () => this.scheduleScale());
    app.on('selection', () => this.redrawSelection());
    this.seen = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          const row = this.byElement.get(e.target);
          if (!row) continue;
          row.visible = e.isIntersecting;
          if (row.visible && row.stale) this.update(row);
        }
      },
      { root: container },
    );
    const ro = new ResizeObserver(() => this.resize());
    ro.observe(container);
    ro.observe(timeline.container);
    // the timeline sizes its canvas in its own ResizeObserver (created first, so it runs first)
    if (timeline.canvas) ro.observe(timeline.canvas);
    this.widthPx = this.plotWidthPx();
    this.pointer = new PlotPointer(container, app, () => this.redrawSelection());
    this.memory = new MemoryLane(timeline.headerWidth, this.widthPx, {
      view: () => this.app.viewport,
      endNs: () => this.app.lastNs,
      selection: () => this.pointer.range() ?? this.app.selection,
      onCursor: (u) => this.onCursor(u),
      bindChart: (over) => this.pointer.bind(over, () => (this.hovered = null), () => {}),
    });
    if (app.data) this.onData();
  }

  /**
   * Width of the plot area, CSS px: the timeline canvas's (its scroller minus the header column
   * and the scrollbar gutter), so t maps to the same x; before the timeline has laid out, its
   * container minus the header column.
   */
  private plotWidthPx(): number {
    const w = this.timeline.canvas?.clientWidth || this.timeline.container.clientWidth - this.timeline.headerWidth;
    return Math.max(10, Math.round(w));
  }

  private resize(): void {
    const w = this.plotWidthPx();
    if (w === this.widthPx) return;
    this.widthPx = w;
    for (const row of this.rows.values()) row.chart.setSize({ width: w, height: CHART_HEIGHT_PX });
    this.memory.resize(w);
  }

  // ---- rows ----

  private onData(): void {
    const plots = this.app.data?.plots ?? [];
    const seen = new Set<string>();
    /** names with a row of their own (not in the Memory lane) */
    const kept = new Set<string>();
    const memory = plots.filter(isMemoryLanePlot);
    let prev: Element | null = null;
    for (const plot of plots) {
      if (seen.has(plot.name)) continue;
      seen.add(plot.name);
      if (isMemoryLanePlot(plot)) {
        if (plot !== memory[0]) continue;
        const at: Element | null = prev ? prev.nextElementSibling : this.container.firstElementChild;
        if (at !== this.memory.el) this.container.insertBefore(this.memory.el, at);
        prev = this.memory.el;
        continue;
      }
      kept.add(plot.name);
      const style = plotStyle(plot);
      const key = styleKey(style);
      let row = this.rows.get(plot.name);
      if (row && row.key !== key) {
        // PlotConfig arrived (or changed) after the first samples: rebuild with the new style
        this.destroyRow(row);
        row = undefined;
      }
      if (row) {
        row.plot = plot;
      } else {
        row = this.createRow(plot, style, key);
      }
      // keep the rows in the order received
      const at: Element | null = prev ? prev.nextElementSibling : this.container.firstElementChild;
      if (at !== row.el) this.container.insertBefore(row.el, at);
      prev = row.el;
      this.update(row);
    }
    for (const row of [...this.rows.values()]) if (!kept.has(row.name)) this.destroyRow(row);
    if (memory.length > 0) {
      this.memory.update(memory);
      this.memory.renderLegend(this.hoverLeftPx);
    } else if (this.memory.chart) {
      this.memory.clear();
    }
    if (this.scaleFrame) {
      cancelAnimationFrame(this.scaleFrame);
      this.scaleFrame = 0;
    }
  }

  private createRow(plot: PlotItems, style: PlotStyle, key: string): PlotRow {
    const hw = this.timeline.headerWidth;
    const el = document.createElement('div');
    el.className = 'plot-row';
    el.style.gridTemplateColumns = `${hw}px minmax(0, 1fr)`;
    const header = document.createElement('div');
    header.className = 'plot-header';
    header.dataset.plot = plot.name;
    header.title = plot.name;
    const nameEl = document.createElement('div');
    nameEl.className = 'plot-name';
    nameEl.textContent = plot.name;
    const valueEl = document.createElement('div');
    valueEl.className = 'plot-value mono';
    header.append(nameEl, valueEl);
    const chartEl = document.createElement('div');
    chartEl.className = 'plot-chart';
    const emptyEl = document.createElement('div');
    emptyEl.className = 'plot-empty';
    emptyEl.textContent = 'no samples in view';
    emptyEl.hidden = true;
    chartEl.append(emptyEl);
    el.append(header, chartEl);

    // the hooks read `row` lazily: uPlot calls them from its constructor already
    let row: PlotRow | undefined;
    const opts = chartOptions(plot, style, this.widthPx, {
      view: () => this.app.viewport,
      plot: () => row?.plot ?? plot,
      selection: () => this.pointer.range() ?? this.app.selection,
      onCursor: (u) => this.onCursor(u),
    });
    const chart = new uPlot(opts, this.chartData(plot, style), chartEl);
    row = { name: plot.name, key, style, plot, el, header, valueEl, emptyEl, chart, visible: true, stale: false };
    this.byElement.set(el, row);
    this.seen.observe(el);
    const bound = row;
    this.pointer.bind(chart.over, () => (this.hovered = bound), () => {
      if (this.hovered === bound) this.hovered = null;
    });
    this.rows.set(plot.name, row);
    this.charts.set(plot.name, chart);
    return row;
  }

  private destroyRow(row: PlotRow): void {
    if (this.hovered === row) {
      this.hovered = null;
      this.hoverLeftPx = null;
      hideTooltip();
    }
    this.seen.unobserve(row.el);
    row.chart.destroy();
    row.el.remove();
    this.rows.delete(row.name);
    if (this.charts.get(row.name) === row.chart) this.charts.delete(row.name);
  }

  /** Drops every chart (another session was opened). */
  clear(): void {
    for (const row of [...this.rows.values()]) this.destroyRow(row);
    this.memory.clear();
    this.container.replaceChildren();
  }

  /**
   * New samples and the current view in one redraw (uPlot batches both into one commit). A row
   * out of view only takes the samples (`chart.data` is always the latest update: the browser
   * tests read it) and draws when it scrolls in.
   */
  private update(row: PlotRow): void {
    const { t0, t1 } = this.app.viewport;
    const chart = row.chart;
    if (!row.visible) {
      // resetScales = false: no commit, so no redraw
      chart.setData(this.chartData(row.plot, row.style), false);
      this.hiddenScale(row, t0, t1);
    } else {
      chart.batch(() => {
        // resetScales = false: the x scale is ours (set next, which also re-ranges y)
        chart.setData(this.chartData(row.plot, row.style), false);
        chart.setScale('x', { min: t0, max: t1 });
      });
      row.stale = false;
    }
    this.renderHeader(row);
  }

  /**
   * What a row's chart draws: the plot's samples; a step plot's last value held to the end of
   * the session (its latest time while live), as a value holds until the next sample.
   */
  private chartData(plot: PlotItems, style: PlotStyle): uPlot.AlignedData {
    if (!style.step) return [plot.timeNs, plot.value];
    const h = holdToEnd(plot.timeNs, plot.value, this.app.lastNs);
    return [h.times, h.values];
  }

  /**
   * The x range of a row out of view, without a redraw: setScale always commits (draws), so the
   * scale's min/max are written directly (and uPlot's cached _min/_max, which valToPos and
   * posToVal read; for a linear scale they are min/max), which keeps `valToPos` true to the view
   * for anyone who asks. The real setScale follows when the row scrolls in (`stale`).
   */
  private hiddenScale(row: PlotRow, t0: number, t1: number): void {
    const x = row.chart.scales.x as { min?: number; max?: number; _min?: number; _max?: number } | undefined;
    if (x) {
      x.min = x._min = t0;
      x.max = x._max = t1;
    }
    row.stale = true;
  }

  /** Viewport changes (wheel, drag, follow) arrive faster than frames: apply once per frame. */
  private scheduleScale(): void {
    if (this.scaleFrame) return;
    this.scaleFrame = requestAnimationFrame(() => {
      this.scaleFrame = 0;
      const { t0, t1 } = this.app.viewport;
      for (const row of this.rows.values()) {
        if (row.visible) row.chart.setScale('x', { min: t0, max: t1 });
        else this.hiddenScale(row, t0, t1);
        this.renderHeader(row);
      }
      this.memory.setScale({ t0, t1 });
      this.memory.renderLegend(this.hoverLeftPx);
    });
  }

  /** The selection band changed: visible charts redraw from their cached paths. */
  private redrawSelection(): void {
    for (const row of this.rows.values()) {
      if (row.visible) row.chart.redraw(false);
      else row.stale = true;
    }
    this.memory.redraw();
  }

  // ---- header and hover ----

  /**
   * The sample the header shows: under the cursor while it is over any chart (at or before it for
   * stepped plots, the closest otherwise, as uPlot's hover point), else the last one at or before
   * the view's right edge (the latest when following live). -1 when there is none.
   */
  private sampleIndex(row: PlotRow): number {
    const times = row.plot.timeNs;
    const view = this.app.viewport;
    if (this.hoverLeftPx === null) return lastAtOrBefore(times, view.t1);
    const t = xToTime(view, this.hoverLeftPx, this.widthPx);
    const i = lastAtOrBefore(times, t);
    if (row.style.step) return i;
    if (i < 0) return times.length > 0 ? 0 : -1;
    const next = times[i + 1];
    return next !== undefined && next - t < t - times[i]! ? i + 1 : i;
  }

  private renderHeader(row: PlotRow): void {
    const i = this.sampleIndex(row);
    const v = row.plot.value[i];
    const text = v !== undefined ? formatPlotValue(v, row.style.format) : '-';
    if (row.valueEl.textContent !== text) row.valueEl.textContent = text;
    const view = this.app.viewport;
    const empty = noSamplesInView(row.style.step, row.plot.timeNs, view.t0, view.t1, this.app.lastNs);
    if (row.emptyEl.hidden === empty) row.emptyEl.hidden = !empty;
    row.header.classList.toggle('hovering', this.hoverLeftPx !== null);
    if (this.hovered === row) this.renderTooltip(row, i);
  }

  private renderTooltip(row: PlotRow, i: number): void {
    const t = row.plot.timeNs[i];
    const v = row.plot.value[i];
    if (this.pointer.dragging() || this.hoverLeftPx === null || t === undefined || v === undefined) {
      hideTooltip();
      return;
    }
    const lines = [row.name, formatPlotValue(v, row.style.format), `at ${formatTimestamp(t)}`];
    if (row.plot.decimated) lines.push('(decimated: zoom in for every sample)');
    showTooltip(this.pointer.pointer.x, this.pointer.pointer.y, lines);
  }

  /** uPlot's cursor moved in one chart (the others follow by sync): every header shows that time. */
  private onCursor(u: uPlot): void {
    const left = u.cursor.left ?? -1;
    const hover = left >= 0 ? left : null;
    if (hover === this.hoverLeftPx) return;
    this.hoverLeftPx = hover;
    for (const row of this.rows.values()) this.renderHeader(row);
    this.memory.renderLegend(hover);
  }
}
