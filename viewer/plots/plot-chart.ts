import uPlot from 'uplot';
import type { PlotItems } from '../../protocol/view/types.js';
import { colorFromName, rgbCss } from '../colors.js';
import { formatPlotValue } from '../format.js';
import { byteSplits, decimalIncrs, lastAtOrBefore, yRange, type Span } from './plot-math.js';

/** Height of one chart, CSS px. */
export const CHART_HEIGHT_PX = 80;
/** Space above and below the plot area inside the chart, CSS px (keeps edge tick labels whole). */
export const PAD_TOP_PX = 6;
export const PAD_BOTTOM_PX = 6;
/** The least space between y ticks, CSS px. */
const TICK_SPACE_PX = 24;
/** All plot charts share one cursor: hovering one shows the same time in every chart. */
export const CURSOR_SYNC_KEY = 'zonescope-plots';

/** How a plot is drawn, from its PlotConfig; memory-usage series are always stepped and filled. */
export interface PlotStyle {
  format: number;
  step: boolean;
  fill: boolean;
  /** 0xRRGGBB */
  rgb: number;
}

export function plotStyle(plot: PlotItems): PlotStyle {
  const memory = plot.memory === true;
  return {
    format: memory ? 1 : plot.format,
    step: memory || plot.step,
    fill: memory || plot.fill,
    rgb: plot.color !== 0 ? plot.color & 0xffffff : colorFromName(plot.name),
  };
}

/** A chart must be rebuilt (not just given new data) when this changes. */
export function styleKey(s: PlotStyle): string {
  return `${s.format}|${s.step ? 1 : 0}|${s.fill ? 1 : 0}|${s.rgb}`;
}

export interface ChartHooks {
  /** the x range to show (the app's viewport), ns */
  view(): Span;
  /** the latest items of this plot (for the evicted-range shading) */
  plot(): PlotItems;
  /** the app's range selection, drawn as a band as on the timeline */
  selection(): Span | null;
  /** the cursor moved (or left: cursor.left < 0), in this chart or a synced one */
  onCursor(u: uPlot): void;
}

const AXIS_STROKE = '#8a8f98';
const GRID_STROKE = 'rgba(255, 255, 255, 0.07)';
const EVICTED_FILL = 'rgba(138, 143, 152, 0.12)';
/** the timeline's selection colours (timeline/ruler-painter.ts) */
const SELECTION_FILL = 'rgba(90, 169, 255, 0.13)';
const SELECTION_EDGE = 'rgba(90, 169, 255, 0.85)';

/**
 * uPlot options for one plot row. The chart has no axis gutters and no horizontal padding, so
 * its plot area is exactly `widthPx` wide and starts at the chart's left edge: placed right of
 * the header column, time t lands on the same x as in the timeline. The y axis is drawn inside
 * the plot area (labels left-aligned just right of the left edge, over the series), the x axis
 * not at all (the timeline has the ruler). uPlot's own drag-zoom, double-click reset and legend
 * are off; the view owns wheel and drag (plots.ts).
 */
export function chartOptions(plot: PlotItems, style: PlotStyle, widthPx: number, hooks: ChartHooks): uPlot.Options {
  const stroke = rgbCss(style.rgb);
  const v = hooks.view();
  const stepped = uPlot.paths.stepped!({ align: 1 });
  const series: uPlot.Series = {
    label: plot.name,
    stroke,
    width: 1.5,
    points: { show: style.step ? false : undefined, size: 4 },
  };
  if (style.fill) series.fill = `${stroke}40`;
  if (style.step) series.paths = stepped;
  return {
    width: widthPx,
    height: CHART_HEIGHT_PX,
    padding: [PAD_TOP_PX, 0, PAD_BOTTOM_PX, 0],
    legend: { show: false },
    // labels and grid over the series, so a filled area does not hide them
    drawOrder: ['series', 'axes'] as unknown as uPlot.DrawOrderKey[],
    scales: {
      x: {
        time: false,
        auto: false,
        min: v.t0,
        max: v.t1,
        // exactly the viewport: no snapping or padding (the default range would add some)
        range: (_u, min, max) => [min, max],
      },
      y: {
        auto: true,
        range: (u) => {
          const view = hooks.view();
          return yRange(u.data[0] ?? [], (u.data[1] ?? []) as ArrayLike<number>, view.t0, view.t1);
        },
      },
    },
    axes: [{ show: false }, valueAxis(style.format, CHART_HEIGHT_PX)],
    series: [{}, series],
    cursor: {
      y: false,
      drag: { x: false, y: false, setScale: false },
      bind: { dblclick: () => null },
      sync: { key: CURSOR_SYNC_KEY },
      points: { size: 7, width: 1.5 },
      // A stepped plot holds a value until the next sample: hover shows the sample at or before
      // the cursor; a line shows the closest one. The held end (plots.ts) is no sample: past the
      // last sample, the hover shows that one.
      dataIdx: style.step
        ? (u, _si, closest, xValue) => {
            const i = Math.min(lastAtOrBefore(u.data[0] ?? [], xValue), hooks.plot().timeNs.length - 1);
            return i >= 0 ? i : closest;
          }
        : undefined,
    },
    hooks: {
      setCursor: [(u) => hooks.onCursor(u)],
      drawClear: [(u) => shadeEvicted(u, hooks.plot().evictedBeforeNs)],
      draw: [(u) => drawSelection(u, hooks.selection())],
    },
  };
}

/**
 * The y axis of a chart `heightPx` tall showing values of `format`: drawn inside the plot area
 * (no width taken; labels just right of the left edge, over the series), format-aware labels.
 */
export function valueAxis(format: number, heightPx: number): uPlot.Axis {
  // bytes: at most this many tick intervals (about one per TICK_SPACE_PX of the plot height)
  const byteTicks = Math.max(1, Math.round((heightPx - PAD_TOP_PX - PAD_BOTTOM_PX) / TICK_SPACE_PX));
  return {
    side: 3,
    // size 0 + a negative gap: the axis takes no width and its labels sit inside the plot area
    size: 0,
    gap: -4,
    align: 1,
    ticks: { show: false },
    stroke: AXIS_STROKE,
    font: '10px system-ui, sans-serif',
    grid: { stroke: GRID_STROKE, width: 1 },
    incrs: decimalIncrs(),
    space: TICK_SPACE_PX,
    // bytes: ticks round in the unit of the labels (uPlot's increments are one list for all sizes)
    splits: format === 1 ? (_u, _i, min, max) => byteSplits(min, max, byteTicks) : undefined,
    values: (_u, splits) => splits.map((x) => formatPlotValue(x, format)),
  };
}

/** Greys the part of the view before `evictedBeforeNs`: that data is gone from the ring buffer. */
export function shadeEvicted(u: uPlot, evictedBeforeNs: number): void {
  const min = u.scales.x?.min;
  const max = u.scales.x?.max;
  if (min == null || max == null || !(evictedBeforeNs > min)) return;
  const left = u.bbox.left;
  const right = u.valToPos(Math.min(evictedBeforeNs, max), 'x', true);
  u.ctx.save();
  u.ctx.fillStyle = EVICTED_FILL;
  u.ctx.fillRect(left, u.bbox.top, right - left, u.bbox.height);
  u.ctx.restore();
}

/** The range selection as a translucent band with edges, over the series (as on the timeline). */
export function drawSelection(u: uPlot, range: Span | null): void {
  if (!range) return;
  const { left, top, width, height } = u.bbox;
  const x0 = u.valToPos(range.t0, 'x', true);
  const x1 = u.valToPos(range.t1, 'x', true);
  if (x1 < left || x0 > left + width) return;
  const a = Math.max(left - 1, x0);
  const b = Math.min(left + width + 1, x1);
  const edge = Math.max(1, Math.round(uPlot.pxRatio));
  const ctx = u.ctx;
  ctx.save();
  ctx.fillStyle = SELECTION_FILL;
  ctx.fillRect(a, top, Math.max(1, b - a), height);
  ctx.fillStyle = SELECTION_EDGE;
  if (x0 >= left) ctx.fillRect(Math.round(x0), top, edge, height);
  if (x1 <= left + width) ctx.fillRect(Math.round(x1) - edge, top, edge, height);
  ctx.restore();
}
