import type { TimeRange } from '../app.js';
import { formatDuration } from '../format.js';
import type { DrawView } from './draw-view.js';
import { RULER_H } from './layout.js';
import type { RulerTicks } from './ruler.js';
import type { TextMeasure } from './text-measure.js';

const RULER_BG = '#26282c';
const TICK = '#8a8f98';
const LABEL = '#d8dadf';
const SELECTION_FILL = 'rgba(90,169,255,0.13)';
const SELECTION_EDGE = 'rgba(90,169,255,0.85)';

/** A selected range as a translucent band with edges over every track. */
export function paintSelectionBand(v: DrawView, range: TimeRange): void {
  const x0 = (range.t0 - v.t0) * v.scale;
  const x1 = (range.t1 - v.t0) * v.scale;
  if (x1 < 0 || x0 > v.wDev) return;
  const ctx = v.ctx;
  const a = Math.max(-1, x0);
  const b = Math.min(v.wDev + 1, x1);
  ctx.fillStyle = SELECTION_FILL;
  ctx.fillRect(a, v.clipTop, Math.max(1, b - a), v.clipBottom - v.clipTop);
  ctx.fillStyle = SELECTION_EDGE;
  const w = Math.max(1, Math.round(v.dpr));
  if (x0 >= 0) ctx.fillRect(Math.round(x0), v.clipTop, w, v.clipBottom - v.clipTop);
  if (x1 <= v.wDev) ctx.fillRect(Math.round(x1) - w, v.clipTop, w, v.clipBottom - v.clipTop);
}

/**
 * The ruler band at the top: minor and major ticks, labels right of their major tick, and the
 * selected range with its duration.
 */
export function paintRuler(v: DrawView, ticks: RulerTicks, measure: TextMeasure, range: TimeRange | null): void {
  const ctx = v.ctx;
  const dpr = v.dpr;
  const h = RULER_H * dpr;
  ctx.fillStyle = RULER_BG;
  ctx.fillRect(0, 0, v.wDev, h);
  ctx.fillStyle = TICK;
  const w = Math.max(1, Math.round(dpr));
  for (const x of ticks.minorX) ctx.fillRect(Math.round(x * dpr), h - 4 * dpr, w, 4 * dpr);
  for (const t of ticks.major) ctx.fillRect(Math.round(t.x * dpr), h - 10 * dpr, w, 10 * dpr);
  ctx.fillRect(0, h - w, v.wDev, w);
  measure.use(v.font);
  ctx.textBaseline = 'alphabetic';
  ctx.textAlign = 'left';
  ctx.fillStyle = LABEL;
  for (const t of ticks.major) ctx.fillText(t.label, Math.round(t.x * dpr) + 4 * dpr, 12 * dpr);
  if (range) {
    const x0 = Math.max(0, (range.t0 - v.t0) * v.scale);
    const x1 = Math.min(v.wDev, (range.t1 - v.t0) * v.scale);
    if (x1 > x0) {
      ctx.fillStyle = 'rgba(90,169,255,0.35)';
      ctx.fillRect(x0, 0, x1 - x0, h);
      const text = formatDuration(range.t1 - range.t0);
      const tw = measure.width(text);
      if (tw + 8 * dpr <= x1 - x0) {
        ctx.fillStyle = '#0b1a2a';
        ctx.fillRect((x0 + x1) / 2 - tw / 2 - 3 * dpr, 14 * dpr, tw + 6 * dpr, 9 * dpr);
        ctx.fillStyle = '#ffffff';
        ctx.textAlign = 'center';
        ctx.fillText(text, (x0 + x1) / 2, 22 * dpr);
        ctx.textAlign = 'left';
      }
    }
  }
}
