import type { LockOpen, LockThreadItems, LockTrackSet } from '../../protocol/view/types.js';
import type { DrawView } from './draw-view.js';
import { LOCK_ROW_H, lockLaneTop, type TrackLayout } from './layout.js';
import { pixelOfCss, type PixelCanvas } from './pixel-canvas.js';

/**
 * Lock lanes under a thread's zone rows, one per lock the thread used (Tracy's lock zones):
 * waiting red, holding green (a shared hold blue), holding while another thread waits yellow.
 * An acquisition is drawn as its parts; a run of acquisitions too small to see (merged by the
 * server) in the colour of what took most of its time among waiting and contention (Tracy draws
 * contention over uncontended holds when zoomed out), else holding, darkened every other pixel
 * column so runs read as runs. Everything goes into the framebuffer; the lock names are drawn
 * on top by `finish`.
 */
export const LOCK_CSS = { wait: '#e0524d', hold: '#45a85a', shared: '#4a8fd9', contended: '#f0c33c' } as const;
export type LockPart = keyof typeof LOCK_CSS;
const PIXEL: Record<LockPart, number> = {
  wait: pixelOfCss(LOCK_CSS.wait),
  hold: pixelOfCss(LOCK_CSS.hold),
  shared: pixelOfCss(LOCK_CSS.shared),
  contended: pixelOfCss(LOCK_CSS.contended),
};
const RUN_SHADE: Record<LockPart, number> = {
  wait: pixelOfCss('#a83a36'),
  hold: pixelOfCss('#327a41'),
  shared: pixelOfCss('#36689e'),
  contended: pixelOfCss('#b8942c'),
};
const LANE_BG = pixelOfCss('#17181b');
const LABEL_CSS = 'rgba(200, 205, 214, 0.8)';

/** The coloured parts of item `i` as [startNs, endNs, part] triples (a run: one part). */
export function lockItemParts(items: LockThreadItems, i: number): [number, number, LockPart][] {
  const s = items.startNs[i]!;
  const e = items.endNs[i]!;
  const wait = items.waitNs[i]!;
  const contended = items.contendedNs[i]!;
  const holdPart: LockPart = items.flags[i]! & 1 ? 'shared' : 'hold';
  if (items.count[i]! > 1) {
    if (wait + contended > 0) return [[s, e, wait >= contended ? 'wait' : 'contended']];
    return [[s, e, holdPart]];
  }
  const obtain = s + wait;
  const from = e - contended;
  const out: [number, number, LockPart][] = [];
  if (wait > 0) out.push([s, obtain, 'wait']);
  const holdEnd = contended > 0 ? from : e;
  if (holdEnd > obtain || (out.length === 0 && contended === 0)) out.push([obtain, holdEnd, holdPart]);
  if (contended > 0) out.push([from, e, 'contended']);
  return out;
}

/** The parts of an open wait or hold, running to `lastNs`. */
export function openLockParts(o: LockOpen, lastNs: number): [number, number, LockPart][] {
  const end = Math.max(lastNs, o.startNs);
  if (o.obtainNs === null) return [[o.startNs, end, 'wait']];
  const out: [number, number, LockPart][] = [];
  if (o.obtainNs > o.startNs) out.push([o.startNs, o.obtainNs, 'wait']);
  const from = o.contendedNs ?? end;
  if (from > o.obtainNs) out.push([o.obtainNs, from, o.shared ? 'shared' : 'hold']);
  if (o.contendedNs !== null) out.push([o.contendedNs, end, 'contended']);
  return out;
}

export class LockPainter {
  private labels: { y: number; text: string }[] = [];

  begin(): void {
    this.labels.length = 0;
  }

  /** Writes the lock lanes of a thread track into `px`; `sets` are the update's locks by id. */
  addTrack(v: DrawView, px: PixelCanvas, track: TrackLayout, sets: ReadonlyMap<number, LockTrackSet>): void {
    if (track.collapsed || track.locks.length === 0) return;
    const dpr = v.dpr;
    const h = Math.round((LOCK_ROW_H - 2) * dpr);
    for (let lane = 0; lane < track.locks.length; lane++) {
      const y = Math.round(v.yOrigin + (lockLaneTop(track, lane) + 1) * dpr);
      if (y + h <= v.clipTop || y >= v.clipBottom) continue;
      const top = Math.max(y, Math.ceil(v.clipTop));
      px.fillRect(0, top, v.wDev, y + h, LANE_BG);
      const set = sets.get(track.locks[lane]!);
      this.labels.push({ y, text: set?.name ?? `lock ${track.locks[lane]}` });
      const items = set?.threads.find((t) => t.thread === track.thread);
      if (!items) continue;
      const n = items.startNs.length;
      for (let i = 0; i < n; i++) {
        if (items.endNs[i]! < v.t0) continue;
        if (items.startNs[i]! > v.t1) break;
        const run = items.count[i]! > 1;
        for (const [a, b, part] of lockItemParts(items, i)) this.span(v, px, a, b, top, y + h, part, run);
      }
      if (items.open) for (const [a, b, part] of openLockParts(items.open, v.lastNs)) this.span(v, px, a, b, top, y + h, part, false);
    }
  }

  /** Lock names at the left end of each lane, over the framebuffer. */
  finish(v: DrawView): void {
    if (this.labels.length === 0) return;
    const ctx = v.ctx;
    ctx.font = `${9 * v.dpr}px system-ui, sans-serif`;
    ctx.textBaseline = 'top';
    ctx.fillStyle = LABEL_CSS;
    for (const l of this.labels) if (l.y >= v.clipTop) ctx.fillText(l.text, 3 * v.dpr, l.y);
    ctx.textBaseline = 'alphabetic';
  }

  private span(v: DrawView, px: PixelCanvas, a: number, b: number, y0: number, y1: number, part: LockPart, run: boolean): void {
    const x0 = Math.max(-4, (a - v.t0) * v.scale);
    let x1 = Math.min(v.wDev + 4, (b - v.t0) * v.scale);
    if (x1 < x0 + 1) x1 = x0 + 1;
    px.fillRect(x0, y0, x1, y1, PIXEL[part]);
    if (!run) return;
    const shade = RUN_SHADE[part];
    const from = Math.max(0, Math.round(x0));
    const to = Math.min(px.w, Math.round(x1));
    for (let x = from + 1; x < to; x += 2) px.fillRect(x, y0, x + 1, y1, shade);
  }
}
