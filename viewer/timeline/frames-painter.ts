import type { FrameSetItems } from '../../protocol/view/types.js';
import { colorFromName, rgbCss, textOn } from '../colors.js';
import { formatDuration } from '../format.js';
import type { DrawView } from './draw-view.js';
import { FRAME_BARS_H, FRAME_LANE_H, lowerBound, type TrackLayout } from './layout.js';
import type { Hatches } from './patterns.js';
import { RectBatch } from './rect-batch.js';
import type { TextMeasure } from './text-measure.js';

/** Frame-time targets, as Tracy colours its frame graph: 60 FPS and 30 FPS. */
export const FRAME_GOOD_NS = 1e9 / 60;
export const FRAME_SLOW_NS = 1e9 / 30;
const BAR_COLORS = ['#4cc26e', '#e3c443', '#e5534b'];
const BAR_PAD_PX = 3;

/** 0 (<= 16.7 ms, green), 1 (<= 33.3 ms, yellow) or 2 (slower, red). */
export function frameClass(durNs: number): number {
  return durNs <= FRAME_GOOD_NS ? 0 : durNs <= FRAME_SLOW_NS ? 1 : 2;
}

/**
 * Height of a frame's bar in a graph `maxPx` tall: logarithmic, so 1 ms frames are visible and
 * 50 ms frames and slower fill the graph (16.7 ms is about 3/4 of it).
 */
export function frameBarHeight(durNs: number, maxPx: number): number {
  const f = Math.log2(1 + Math.max(0, durNs) / 1e6) / Math.log2(51);
  return maxPx * Math.min(1, Math.max(0.06, f));
}

/** The frame set the bar graph shows: the one named `name`, else the default ('') one, else the first. */
export function pickFrameSet(frames: readonly FrameSetItems[], name: string): FrameSetItems | null {
  return frames.find((f) => f.name === name) ?? frames.find((f) => f.name === '') ?? frames[0] ?? null;
}

/** Discontinuous sets get a lane each under the bar graph. */
export function laneSets(frames: readonly FrameSetItems[]): FrameSetItems[] {
  return frames.filter((f) => !f.continuous);
}

export function frameSetTitle(name: string): string {
  return name === '' ? 'Frame' : name;
}

/**
 * The frames track: a bar per frame of the picked set (width = the frame, height and colour by
 * its duration vs 16.7/33.3 ms), guide lines at both targets, and under it one lane per
 * discontinuous set with its spans and names. Frames narrower than 2 device px share a pixel
 * column: the slowest of them is drawn.
 */
export class FramesPainter {
  private readonly bars = new RectBatch();
  private readonly spans = new RectBatch();

  constructor(private readonly measure: TextMeasure) {}

  paint(v: DrawView, track: TrackLayout, frames: readonly FrameSetItems[], picked: string, hatches: Hatches): void {
    const ctx = v.ctx;
    const dpr = v.dpr;
    const top = v.yOrigin + track.top * dpr;
    if (top + track.height * dpr < v.clipTop || top > v.clipBottom) return;
    const areaTop = top + BAR_PAD_PX * dpr;
    const areaH = (FRAME_BARS_H - 2 * BAR_PAD_PX) * dpr;
    const bottom = areaTop + areaH;
    // guides at the targets
    ctx.fillStyle = 'rgba(255,255,255,0.10)';
    for (const ns of [FRAME_GOOD_NS, FRAME_SLOW_NS]) ctx.fillRect(0, Math.round(bottom - frameBarHeight(ns, areaH)), v.wDev, Math.max(1, Math.round(dpr / 2)));
    const set = pickFrameSet(frames, picked);
    this.measure.use(v.font);
    ctx.textBaseline = 'alphabetic';
    if (set) {
      if (set.evictedBeforeNs > v.t0) {
        ctx.fillStyle = hatches.evicted;
        ctx.fillRect(0, areaTop, Math.min(v.wDev, (set.evictedBeforeNs - v.t0) * v.scale), areaH);
      }
      this.paintBars(v, set, areaTop, areaH);
    }
    const lanes = laneSets(frames);
    for (let l = 0; l < lanes.length; l++) this.paintLane(v, lanes[l]!, top + (FRAME_BARS_H + l * FRAME_LANE_H) * dpr);
  }

  private paintBars(v: DrawView, set: FrameSetItems, areaTop: number, areaH: number): void {
    const S = set.startNs;
    const E = set.endNs;
    const n = Math.min(S.length, E.length);
    const dpr = v.dpr;
    const bottom = areaTop + areaH;
    const minW = 2 * dpr;
    const gap = dpr;
    // the pixel column being collected from narrow frames: its slowest duration
    let col = NaN;
    let colDur = 0;
    const labels: { x0: number; x1: number; dur: number }[] = [];
    for (let i = lowerBound(E, v.t0, 0, n); i < n; i++) {
      const s = S[i]!;
      if (s > v.t1) break;
      const e = E[i]!;
      const dur = e - s;
      const x0 = Math.max(-2, (s - v.t0) * v.scale);
      const x1 = Math.min(v.wDev + 2, (e - v.t0) * v.scale);
      if (x1 - x0 < minW) {
        const c = Math.floor(x0);
        if (c !== col) {
          if (!Number.isNaN(col)) this.addBar(col, 1, colDur, bottom, areaH);
          col = c;
          colDur = dur;
        } else if (dur > colDur) colDur = dur;
        continue;
      }
      if (!Number.isNaN(col)) {
        this.addBar(col, 1, colDur, bottom, areaH);
        col = NaN;
      }
      const w = x1 - x0 >= 4 * dpr ? x1 - x0 - gap : x1 - x0;
      this.addBar(x0, w, dur, bottom, areaH);
      if (w >= 40 * dpr) labels.push({ x0, x1: x0 + w, dur });
    }
    if (!Number.isNaN(col)) this.addBar(col, 1, colDur, bottom, areaH);
    this.bars.flush(v.ctx, (k) => BAR_COLORS[k]!);
    // durations over wide frames, at the top of the graph
    const ctx = v.ctx;
    ctx.fillStyle = '#c9ced6';
    ctx.textAlign = 'center';
    for (const l of labels) {
      const text = formatDuration(l.dur);
      const cx = (Math.max(l.x0, 0) + Math.min(l.x1, v.wDev)) / 2;
      if (this.measure.width(text) + 6 * dpr <= Math.min(l.x1, v.wDev) - Math.max(l.x0, 0)) ctx.fillText(text, cx, areaTop + 10 * dpr);
    }
    ctx.textAlign = 'left';
  }

  private addBar(x: number, w: number, dur: number, bottom: number, areaH: number): void {
    const h = Math.max(1, Math.round(frameBarHeight(dur, areaH)));
    this.bars.add(frameClass(dur), x, bottom - h, w, h);
  }

  private paintLane(v: DrawView, set: FrameSetItems, y: number): void {
    const dpr = v.dpr;
    if (y + FRAME_LANE_H * dpr < v.clipTop || y > v.clipBottom) return;
    const ctx = v.ctx;
    const rgb = colorFromName(frameSetTitle(set.name));
    const h = (FRAME_LANE_H - 3) * dpr;
    const yy = Math.round(y + dpr);
    const S = set.startNs;
    const E = set.endNs;
    const n = Math.min(S.length, E.length);
    const labels: { x0: number; x1: number; dur: number }[] = [];
    // spans may overlap (nested marks are allowed), so no binary search on ends: scan by start
    for (let i = 0; i < n; i++) {
      const s = S[i]!;
      const e = E[i]!;
      if (e < v.t0 || s > v.t1) continue;
      const x0 = Math.max(-2, (s - v.t0) * v.scale);
      const x1 = Math.min(v.wDev + 2, (e - v.t0) * v.scale);
      this.spans.add(0, x0, yy, Math.max(dpr, x1 - x0), h);
      if (x1 - x0 >= 24 * dpr) labels.push({ x0, x1, dur: e - s });
    }
    this.spans.flush(ctx, () => rgbCss(rgb));
    ctx.fillStyle = textOn(rgb);
    const title = frameSetTitle(set.name);
    for (const l of labels) {
      const lx0 = Math.max(l.x0, 0) + 3 * dpr;
      const avail = Math.min(l.x1, v.wDev) - 3 * dpr - lx0;
      const full = `${title} ${formatDuration(l.dur)}`;
      const text = this.measure.width(full) <= avail ? full : this.measure.fit(title, avail);
      if (text) ctx.fillText(text, lx0, yy + h - 3 * dpr);
    }
  }
}
