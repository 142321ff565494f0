import type { DepthItems, MessageItem, ThreadItems } from '../../protocol/view/types.js';
import { formatCount, formatDuration } from '../format.js';
import type { DrawView } from './draw-view.js';
import { COLLAPSED_H, MSG_LANE_H, ROW_H, firstMessageAtOrAfter, lowerBound, rowShown, rowTop, type TrackLayout } from './layout.js';
import type { Palette } from './palette.js';
import type { Hatches } from './patterns.js';
import { pixelOf, pixelOfCss, type PixelCanvas } from './pixel-canvas.js';
import { RectBatch } from './rect-batch.js';
import type { TextMeasure } from './text-measure.js';

/** Zones narrower than this (CSS px) join runs with touching neighbours instead of being drawn one by one. */
export const MIN_ZONE_PX = 2;
/** Zones at least this wide (CSS px) get a label. */
const LABEL_MIN_PX = 14;
const LABEL_PAD_PX = 3;

const HIGHLIGHT = 0;
const SELECTED = 1;
const OUTLINE_STYLES = ['#ffd84a', '#ffffff'];
const MERGED_TEXT = '#e8eaee';
const MERGED_BASE = pixelOfCss('#5b616b');
const MERGED_STRIPE = pixelOfCss('#7a818c');
/** diagonal stripes of merged runs: period and stripe width, CSS px */
const STRIPE_PERIOD = 6;
const STRIPE_W = 2;
const MESSAGE_DEFAULT = 0xc9ced6;

const LABEL_ZONE = 0;
const LABEL_MERGED = 1;
const LABEL_RUNNING = 2;

/** What the thread tracks need from the app, per draw. */
export interface ZoneSource {
  srclocName(srcloc: number): string;
  /** source location to outline, -2 for none */
  highlight: number;
  /** the selected zone, or null */
  selected: { thread: number; depth: number; row: number } | null;
}

/**
 * Draws thread tracks in two phases. `addThread` writes zone rows into the framebuffer
 * (PixelCanvas): per row, one scanline is filled item by item and copied to the row's pixel
 * lines, so the cost is bounded by pixels, not items; zones narrower than MIN_ZONE_PX are joined
 * with touching neighbours (their colour if they share it, else the merged-run stripes). It
 * collects labels, outlines, open zones and evicted ranges on the way; `finish` draws those with
 * the canvas API after the framebuffer is on the canvas. The per-item loop allocates nothing.
 */
export class ZonePainter {
  private readonly outlines = new RectBatch();
  private line = new Uint32Array(0);
  /** merged spans of the current row: pairs of pixel columns [a, b) */
  private merged = new Int32Array(256);
  private mergedN = 0;
  // labels: parallel columns, reused between frames
  private labelN = 0;
  private lx0 = new Float64Array(512);
  private lx1 = new Float64Array(512);
  private ly = new Float64Array(512);
  private lkind = new Int8Array(512);
  private lsrc = new Int32Array(512);
  private ldur = new Float64Array(512);
  private lcount = new Int32Array(512);
  private openZones: { x0: number; x1: number; y: number; h: number; slot: number; srcloc: number; startNs: number }[] = [];
  private evicted: { x1: number; y: number; h: number }[] = [];
  // the current run of small zones (device px)
  private runX0 = 0;
  private runX1 = 0;
  private runSlot = -1;
  private runItems = 0;

  /** items (zones and merged runs) met in drawn rows since `begin` */
  items = 0;
  /** the latest end of a closed zone drawn since `begin` (-Infinity when none) */
  maxEndNs = -Infinity;

  constructor(
    private readonly palette: Palette,
    private readonly measure: TextMeasure,
  ) {}

  begin(px: PixelCanvas): void {
    this.items = 0;
    this.maxEndNs = -Infinity;
    this.labelN = 0;
    this.openZones.length = 0;
    this.evicted.length = 0;
    this.outlines.clear();
    if (this.line.length !== px.w) this.line = new Uint32Array(px.w);
  }

  /** Writes a thread track's zone rows into `px` and collects what `finish` draws on top. */
  addThread(v: DrawView, px: PixelCanvas, th: ThreadItems, track: TrackLayout, src: ZoneSource): void {
    const dpr = v.dpr;
    const trackTop = v.yOrigin + track.top * dpr;
    const trackBottom = trackTop + track.height * dpr;
    if (trackBottom < v.clipTop || trackTop > v.clipBottom) return;
    if (th.evictedBeforeNs > v.t0) this.evicted.push({ x1: Math.min(v.wDev, (th.evictedBeforeNs - v.t0) * v.scale), y: trackTop, h: track.height * dpr });
    if (track.collapsed) {
      const d0 = th.depths.find((d) => d.depth === 0);
      const y = Math.round(trackTop + 5 * dpr);
      const h = Math.round((COLLAPSED_H - 10) * dpr);
      if (d0) this.addDepth(v, px, d0, y, h, false, -2, -2);
      for (const o of th.open) if (o.depth === 0) this.addOpen(v, o.startNs, o.srcloc, y, h);
      return;
    }
    const sel = src.selected && src.selected.thread === th.thread ? src.selected : null;
    const rowH = Math.round((ROW_H - 1) * dpr);
    for (const d of th.depths) {
      if (!rowShown(track, d.depth)) continue;
      const y = Math.round(v.yOrigin + rowTop(track, d.depth) * dpr);
      if (y + rowH <= v.clipTop || y >= v.clipBottom) continue;
      this.addDepth(v, px, d, y, rowH, true, src.highlight, sel && sel.depth === d.depth ? sel.row : -2);
    }
    for (const o of th.open) {
      if (!rowShown(track, o.depth)) continue;
      const y = Math.round(v.yOrigin + rowTop(track, o.depth) * dpr);
      if (y + rowH <= v.clipTop || y >= v.clipBottom) continue;
      this.addOpen(v, o.startNs, o.srcloc, y, rowH);
      if (o.srcloc === src.highlight) this.outlineOpen(v, o.startNs, y, rowH);
    }
  }

  private addDepth(v: DrawView, px: PixelCanvas, d: DepthItems, y: number, h: number, labels: boolean, highlight: number, selRow: number): void {
    const S = d.startNs;
    const E = d.endNs;
    const SL = d.srcloc;
    const C = d.count;
    const R = d.row;
    const n = Math.min(S.length, E.length);
    const t0 = v.t0;
    const t1 = v.t1;
    const scale = v.scale;
    const xMin = -4;
    const xMax = v.wDev + 4;
    const minW = MIN_ZONE_PX * v.dpr;
    const joinGap = v.dpr;
    const labelMin = LABEL_MIN_PX * v.dpr;
    const slots = this.palette.slots;
    const nSlots = slots.length;
    const pixels = this.palette.pixel;
    const line = this.line;
    const W = px.w;
    const yTop = Math.max(y, Math.ceil(v.clipTop));
    const yBottom = Math.min(y + h, px.h);
    if (yBottom <= yTop) return;
    // the scanline starts as what is under the row (background, grid)
    line.set(px.buf.subarray(yTop * W, yTop * W + W));
    this.mergedN = 0;
    this.runItems = 0;
    let items = 0;
    let maxEnd = this.maxEndNs;
    for (let i = lowerBound(E, t0, 0, n); i < n; i++) {
      const s = S[i]!;
      if (s > t1) break;
      const e = E[i]!;
      items++;
      if (e > maxEnd) maxEnd = e;
      let x0 = (s - t0) * scale;
      let x1 = (e - t0) * scale;
      if (x0 < xMin) x0 = xMin;
      if (x1 > xMax) x1 = xMax;
      const sl = SL[i]!;
      const slot = sl < 0 ? -1 : sl < nSlots ? slots[sl]! : 0;
      const w = x1 - x0;
      if (w < minW) {
        if (this.runItems > 0 && x0 <= this.runX1 + joinGap) {
          if (x1 > this.runX1) this.runX1 = x1;
          if (slot !== this.runSlot) this.runSlot = -1;
          this.runItems++;
        } else {
          if (this.runItems > 0) this.flushRun(line, pixels);
          this.runX0 = x0;
          this.runX1 = x1;
          this.runSlot = slot;
          this.runItems = 1;
        }
      } else {
        if (this.runItems > 0) this.flushRun(line, pixels);
        if (slot < 0) this.mergedSpan(line, x0, x1);
        else fillSpan(line, x0, x1, pixels[slot]!);
        if (labels && w >= labelMin) this.pushLabel(x0, x1, y, slot < 0 ? LABEL_MERGED : LABEL_ZONE, sl, e - s, C[i]!);
      }
      if (sl === highlight) this.outlines.add(HIGHLIGHT, x0 - v.dpr, y - v.dpr, Math.max(w, 1) + 2 * v.dpr, h + 2 * v.dpr);
      if (R[i] === selRow) this.outlines.add(SELECTED, x0 - v.dpr, y - v.dpr, Math.max(w, 1) + 2 * v.dpr, h + 2 * v.dpr);
    }
    if (this.runItems > 0) this.flushRun(line, pixels);
    this.items += items;
    this.maxEndNs = maxEnd;
    // copy the scanline down the row, then stripe the merged spans diagonally
    const buf = px.buf;
    for (let yy = yTop; yy < yBottom; yy++) buf.set(line, yy * W);
    if (this.mergedN > 0) stripe(buf, W, yTop, yBottom, this.merged, this.mergedN, v.dpr);
  }

  private flushRun(line: Uint32Array, pixels: readonly number[]): void {
    const x1 = Math.max(this.runX1, this.runX0 + 1);
    if (this.runSlot >= 0) fillSpan(line, this.runX0, x1, pixels[this.runSlot]!);
    else this.mergedSpan(line, this.runX0, x1);
    this.runItems = 0;
  }

  private mergedSpan(line: Uint32Array, x0: number, x1: number): void {
    fillSpan(line, x0, x1, MERGED_BASE);
    const k = this.mergedN * 2;
    if (k + 2 > this.merged.length) {
      const grown = new Int32Array(this.merged.length * 2);
      grown.set(this.merged);
      this.merged = grown;
    }
    this.merged[k] = Math.max(0, Math.round(x0));
    this.merged[k + 1] = Math.min(line.length, Math.max(Math.round(x0) + 1, Math.round(x1)));
    this.mergedN++;
  }

  private addOpen(v: DrawView, startNs: number, srcloc: number, y: number, h: number): void {
    const end = Math.max(v.lastNs, startNs);
    if (end < v.t0 || startNs > v.t1) return;
    const x0 = Math.max(-4, (startNs - v.t0) * v.scale);
    const x1 = Math.min(v.wDev + 4, (end - v.t0) * v.scale);
    this.openZones.push({ x0, x1: Math.max(x1, x0 + v.dpr), y, h, slot: this.palette.slotOf(srcloc), srcloc, startNs });
  }

  private outlineOpen(v: DrawView, startNs: number, y: number, h: number): void {
    const x0 = Math.max(-4, (startNs - v.t0) * v.scale);
    const x1 = Math.min(v.wDev + 4, (Math.max(v.lastNs, startNs) - v.t0) * v.scale);
    if (x1 >= 0 && x0 <= v.wDev) this.outlines.add(HIGHLIGHT, x0 - v.dpr, y - v.dpr, Math.max(1, x1 - x0) + 2 * v.dpr, h + 2 * v.dpr);
  }

  private pushLabel(x0: number, x1: number, y: number, kind: number, srcloc: number, durNs: number, count: number): void {
    const i = this.labelN;
    if (i === this.lx0.length) this.growLabels();
    this.lx0[i] = x0;
    this.lx1[i] = x1;
    this.ly[i] = y;
    this.lkind[i] = kind;
    this.lsrc[i] = srcloc;
    this.ldur[i] = durNs;
    this.lcount[i] = count;
    this.labelN = i + 1;
  }

  private growLabels(): void {
    const n = this.lx0.length * 2;
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    const kind = new Int8Array(n);
    kind.set(this.lkind);
    this.lkind = kind;
    this.lx0 = f64(this.lx0);
    this.lx1 = f64(this.lx1);
    this.ly = f64(this.ly);
    this.ldur = f64(this.ldur);
    this.lsrc = i32(this.lsrc);
    this.lcount = i32(this.lcount);
  }

  /** Message ticks on the top edge (message lane) of their thread's track, into the framebuffer. */
  drawMessages(v: DrawView, px: PixelCanvas, messages: readonly MessageItem[], trackOf: (thread: number) => TrackLayout | undefined): void {
    const dpr = v.dpr;
    const w = Math.max(1, Math.round(2 * dpr));
    const h = Math.round((MSG_LANE_H - 1) * dpr);
    let lastThread = NaN;
    let track: TrackLayout | undefined;
    for (let i = firstMessageAtOrAfter(messages, v.t0 - 4 / v.scale); i < messages.length; i++) {
      const m = messages[i]!;
      if (m.timeNs > v.t1 + 4 / v.scale) break;
      if (m.thread !== lastThread) {
        lastThread = m.thread;
        track = trackOf(m.thread);
      }
      if (!track || track.collapsed) continue;
      const y = Math.round(v.yOrigin + track.top * dpr);
      if (y + h < v.clipTop || y > v.clipBottom) continue;
      const x = Math.round((m.timeNs - v.t0) * v.scale - w / 2);
      px.fillRect(x, Math.max(y, v.clipTop), x + w, y + h, pixelOf(m.color < 0 ? MESSAGE_DEFAULT : m.color));
    }
  }

  /** Draws with the canvas API what lies on the framebuffer: evicted ranges, open zones, outlines, labels. */
  finish(v: DrawView, src: ZoneSource, hatches: Hatches): void {
    const ctx = v.ctx;
    if (this.evicted.length > 0) {
      ctx.fillStyle = hatches.evicted;
      for (const e of this.evicted) ctx.fillRect(0, e.y, e.x1, e.h);
    }
    this.drawOpen(v);
    this.outlines.stroke(ctx, (k) => OUTLINE_STYLES[k]!, Math.max(1, Math.round(1.5 * v.dpr)));
    this.drawLabels(v, src);
  }

  private drawOpen(v: DrawView): void {
    const ctx = v.ctx;
    const dpr = v.dpr;
    for (const o of this.openZones) {
      ctx.fillStyle = this.palette.css[o.slot]!;
      ctx.fillRect(o.x0, o.y, o.x1 - o.x0, o.h);
      // running: a fade towards the right end and an arrow at it
      const fadeW = Math.min(o.x1 - o.x0, 28 * dpr);
      const g = ctx.createLinearGradient(o.x1 - fadeW, 0, o.x1, 0);
      g.addColorStop(0, 'rgba(255,255,255,0)');
      g.addColorStop(1, 'rgba(255,255,255,0.55)');
      ctx.fillStyle = g;
      ctx.fillRect(o.x1 - fadeW, o.y, fadeW, o.h);
      if (o.x1 - o.x0 >= 8 * dpr && o.x1 <= v.wDev + 4) {
        const ah = o.h * 0.3;
        const cy = o.y + o.h / 2;
        ctx.fillStyle = '#111';
        ctx.beginPath();
        ctx.moveTo(o.x1 - 2 * dpr - ah, cy - ah);
        ctx.lineTo(o.x1 - 2 * dpr, cy);
        ctx.lineTo(o.x1 - 2 * dpr - ah, cy + ah);
        ctx.closePath();
        ctx.fill();
      }
      if (o.x1 - o.x0 >= LABEL_MIN_PX * dpr) this.pushLabel(o.x0, o.x1 - 8 * dpr, o.y, LABEL_RUNNING, o.srcloc, v.lastNs - o.startNs, 1);
    }
  }

  private drawLabels(v: DrawView, src: ZoneSource): void {
    const n = this.labelN;
    if (n === 0) return;
    const ctx = v.ctx;
    const dpr = v.dpr;
    const pad = LABEL_PAD_PX * dpr;
    const baseline = Math.round((ROW_H / 2 + 4) * dpr);
    const m = this.measure;
    m.use(v.font);
    ctx.textBaseline = 'alphabetic';
    ctx.textAlign = 'left';
    let style = '';
    for (let i = 0; i < n; i++) {
      const lx0 = Math.max(this.lx0[i]!, 0) + pad;
      const avail = Math.min(this.lx1[i]!, v.wDev) - pad - lx0;
      if (avail < 8 * dpr) continue;
      const kind = this.lkind[i]!;
      const sl = this.lsrc[i]!;
      let text: string | null;
      let color: string;
      if (kind === LABEL_MERGED) {
        text = m.fit(`${formatCount(this.lcount[i]!)} zones`, avail, 1000);
        color = MERGED_TEXT;
      } else {
        const name = src.srclocName(sl);
        const nameW = m.width(name);
        // "name (1.23 ms)": measured as its parts, which repeat, not as a new string per zone
        const suffix = kind === LABEL_RUNNING ? ` (running, ${formatDuration(this.ldur[i]!)})` : ` (${formatDuration(this.ldur[i]!)})`;
        if (nameW + m.width(suffix) <= avail) text = name + suffix;
        else if (kind === LABEL_RUNNING && nameW + m.width(' (running)') <= avail) text = `${name} (running)`;
        else text = m.fit(name, avail, Math.min(2, name.length));
        color = this.palette.text[this.palette.slotOf(sl)]!;
      }
      if (text === null) continue;
      if (color !== style) ctx.fillStyle = style = color;
      ctx.fillText(text, lx0, this.ly[i]! + baseline);
    }
    this.labelN = 0;
  }
}

/** Fills pixel columns [round(x0), round(x1)) of a scanline (at least one), clipped. */
function fillSpan(line: Uint32Array, x0: number, x1: number, color: number): void {
  const w = line.length;
  let a = Math.round(x0);
  let b = Math.round(x1);
  if (b <= a) b = a + 1;
  if (a < 0) a = 0;
  if (b > w) b = w;
  if (b - a < 16) for (let x = a; x < b; x++) line[x] = color;
  else line.fill(color, a, b);
}

/** Diagonal stripes over the merged spans of rows [yTop, yBottom). */
function stripe(buf: Uint32Array, w: number, yTop: number, yBottom: number, spans: Int32Array, n: number, dpr: number): void {
  const period = Math.max(3, Math.round(STRIPE_PERIOD * dpr));
  const sw = Math.max(1, Math.round(STRIPE_W * dpr));
  for (let yy = yTop; yy < yBottom; yy++) {
    const row = yy * w;
    for (let k = 0; k < n; k++) {
      const a = spans[2 * k]!;
      const b = spans[2 * k + 1]!;
      // stripe pixels: (x + yy) mod period < sw
      let x = a - ((a + yy) % period);
      for (; x < b; x += period) {
        const from = x < a ? a : x;
        const to = x + sw > b ? b : x + sw;
        for (let p = from; p < to; p++) buf[row + p] = MERGED_STRIPE;
      }
    }
  }
}
