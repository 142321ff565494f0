import './timeline.css';
import type { DepthItems, LockTrackSet, ThreadItems } from '../../protocol/view/types.js';
import type { App, TimeRange } from '../app.js';
import { formatCount, formatDuration } from '../format.js';
import { FONT_FAMILY, FONT_PX, type DrawView } from './draw-view.js';
import { FramesPainter } from './frames-painter.js';
import { TrackHeaders } from './headers.js';
import { hitTest, type Hit } from './hit-test.js';
import { HoverTooltip } from './hover.js';
import { Interaction } from './interaction.js';
import { LOCK_ROW_H, ROW_H, RULER_H, contentYAt, dropTarget, lockLaneTop, lowerBound, rowShown, rowTop, scrollView, shownAt, trackScroll, zonesInView, type ScrollView, type TrackLayout } from './layout.js';
import { LockPainter } from './lock-painter.js';
import { Palette } from './palette.js';
import { makeHatches, type Hatches } from './patterns.js';
import { RafScheduler } from './raf-scheduler.js';
import { rulerTicks } from './ruler.js';
import { paintRuler, paintSelectionBand } from './ruler-painter.js';
import { PixelCanvas, pixelOfCss } from './pixel-canvas.js';
import { TextMeasure } from './text-measure.js';
import { TrackModel } from './track-model.js';
import { ZonePainter, type ZoneSource } from './zone-painter.js';

/** A zone item of the view, as `visibleItems()` lists them (count > 1: a merged run, row -1). */
export interface VisibleItem {
  thread: number;
  depth: number;
  row: number;
  srcloc: number;
  count: number;
  startNs: number;
  endNs: number;
}

const DIRTY_SIZE = 1;
const DIRTY_DRAW = 2;
const BG = '#1e1f22';
const BG_PIXEL = pixelOfCss(BG);
const FRAMES_BG = pixelOfCss('#1a1b1e');
/** The messages-cut marker's colour (an amber that reads on the dark tracks). */
const MESSAGES_CUT_COLOR = '#d9822b';
const TRACK_BG = [pixelOfCss('#1e1f22'), pixelOfCss('#222327')];
const SEPARATOR = pixelOfCss('#34373d');
const GRID = pixelOfCss('#2a2c31');
/** The pinned band's lower edge (the sticky headers' too, timeline.css). */
const PIN_EDGE = pixelOfCss('#3b5b86');
/** Pointer tolerance for hit-testing, CSS px. */
const HIT_TOL_PX = 3;

/**
 * The canvas timeline in #timeline: a ruler, the frames track and one track per thread, on one
 * time axis (app.viewport). Layout: a scroll container holds the DOM headers (left column,
 * `headerWidth` CSS px) and a sticky, viewport-sized canvas; the canvas draws the tracks shifted
 * by scrollTop, so headers and rows scroll together. Vertical scrolling: the scrollbar, the wheel
 * over the headers, shift+wheel or dragging over the canvas; the plain wheel zooms.
 *
 * Drawing is synchronous from app.data (the server's level of detail for about three viewport
 * widths), once per animation frame when something is dirty (one RafScheduler): app events
 * 'data', 'viewport', 'srclocs', 'highlight', 'selection', 'zone', resizes and scrolling. A draw
 * writes backgrounds, grid, zone rows and message ticks into a framebuffer (pixel-canvas.ts: its
 * cost follows pixels, not items), puts it on the canvas, then draws frames, overlays, labels,
 * the selection and the ruler with the canvas API.
 *
 * Pinned tracks that fit in half the view are sticky (layout.ts, ScrollView): drawn in the
 * pinned band under the ruler with their own scroll offset, by their own zone and lock painters
 * into the same framebuffer, clipped to the band; the other tracks are clipped below it.
 */
export class Timeline {
  /** width of the header column, CSS px (the canvas starts there) */
  readonly headerWidth: number;
  readonly canvas: HTMLCanvasElement;
  readonly scroller: HTMLDivElement;
  /** duration (ms) of each draw, the last 1000 */
  frameTimes: number[] = [];
  /** draws so far */
  draws = 0;
  /** the last draw: when (performance.now()), the latest end of a closed zone drawn, items drawn */
  lastDraw = { at: 0, maxEndNs: 0, items: 0 };

  private readonly ctx: CanvasRenderingContext2D;
  private readonly cell: HTMLDivElement;
  private readonly headers: TrackHeaders;
  private readonly interaction: Interaction;
  private readonly scheduler = new RafScheduler((flags) => this.frame(flags));
  private readonly measure: TextMeasure;
  private readonly palette = new Palette();
  private readonly px = new PixelCanvas();
  private readonly zones: ZonePainter;
  /** the sticky tracks' painters (their overlays are clipped to the pinned band) */
  private readonly pinZones: ZonePainter;
  private readonly frames: FramesPainter;
  private readonly lockPainter = new LockPainter();
  private readonly pinLocks = new LockPainter();
  private hatches: Hatches | null = null;
  private hatchDpr = 0;
  private readonly tracks: TrackModel;
  private pickedFrames = '';
  private dpr = 1;
  private cssW = 0;
  private cssH = 0;
  private dragRange: TimeRange | null = null;
  private labels: string[] = [];
  private readonly prefixCounts = new WeakMap<DepthItems, Float64Array>();
  private readonly hover: HoverTooltip;

  constructor(
    readonly container: HTMLElement,
    readonly app: App,
  ) {
    this.tracks = new TrackModel(app, () => {
      this.updateLayout();
      this.scheduler.mark(DIRTY_DRAW);
    });
    this.hover = new HoverTooltip(app, (t) => this.tracks.threadName(t));
    this.headerWidth = parseFloat(getComputedStyle(container).getPropertyValue('--header-width')) || 180;
    this.scroller = document.createElement('div');
    this.scroller.className = 'tl-scroll';
    const inner = document.createElement('div');
    inner.className = 'tl-inner';
    this.cell = document.createElement('div');
    this.cell.className = 'tl-cell';
    this.canvas = document.createElement('canvas');
    this.canvas.id = 'timeline-canvas';
    this.canvas.setAttribute('aria-label', 'Timeline: wheel zooms, drag pans, shift+drag selects a range; keys W/A/S/D/F');
    const relayout = () => {
      this.updateLayout();
      this.scheduler.mark(DIRTY_DRAW);
    };
    this.headers = new TrackHeaders(
      {
        toggle: (thread) => this.toggle(thread),
        pin: (thread) => {
          this.tracks.pin(thread);
          relayout();
        },
        hide: (thread) => {
          this.tracks.hide(thread);
          relayout();
        },
        maxRows: (thread) => {
          this.tracks.cycleMaxRows(thread);
          relayout();
        },
        move: (thread, before) => {
          this.tracks.move(thread, before);
          relayout();
        },
        scrollRows: (thread, dRows) => {
          const used = this.tracks.scrollRows(thread, dRows);
          if (used) relayout();
          return used;
        },
        showHidden: (thread) => {
          this.tracks.show(thread);
          relayout();
        },
        dropAt: (clientY) => {
          const sv = this.scrollView();
          const at = dropTarget(this.tracks.layout, sv, clientY - this.canvas.getBoundingClientRect().top - RULER_H);
          // the mark is placed in the header column, which scrolls: view y + scrollTop
          return at ? { before: at.before, markTop: RULER_H + at.markY + sv.scrollTop } : null;
        },
      },
      (name) => {
        this.pickedFrames = name;
        this.scheduler.mark(DIRTY_DRAW);
      },
    );
    this.cell.append(this.canvas);
    inner.append(this.headers.root, this.cell);
    this.scroller.append(inner);
    container.replaceChildren(this.scroller);
    this.ctx = this.canvas.getContext('2d', { alpha: false })!;
    this.measure = new TextMeasure(this.ctx);
    this.zones = new ZonePainter(this.palette, this.measure);
    this.pinZones = new ZonePainter(this.palette, this.measure);
    this.frames = new FramesPainter(this.measure);
    this.interaction = new Interaction({
      app,
      canvas: this.canvas,
      scroller: this.scroller,
      cssWidth: () => this.cssW || 1,
      hitAt: (x, y) => this.hitAt(x, y),
      showHover: (hit, cx, cy) => this.hover.show(hit, cx, cy),
      setDragRange: (r) => {
        this.dragRange = r;
        this.scheduler.mark(DIRTY_DRAW);
      },
    });

    new ResizeObserver(() => {
      // resize now (a resized canvas is blank) and draw in the same frame
      this.scheduler.mark(DIRTY_SIZE | DIRTY_DRAW);
      this.scheduler.flush();
    }).observe(this.scroller);
    this.watchDpr();
    this.scroller.addEventListener('scroll', () => this.scheduler.mark(DIRTY_DRAW), { passive: true });
    const redraw = () => this.scheduler.mark(DIRTY_DRAW);
    app.on('data', () => {
      this.updateLayout();
      redraw();
    });
    app.on('session', () => {
      this.tracks.reset();
      this.hover.reset();
      this.pickedFrames = '';
      this.updateLayout();
      redraw();
    });
    for (const ev of ['viewport', 'srclocs', 'highlight', 'selection', 'zone'] as const) app.on(ev, redraw);
    this.updateLayout();
    this.scheduler.mark(DIRTY_SIZE | DIRTY_DRAW);
  }

  // ---- the contract for tests and benchmarks ----

  /** CSS px from the canvas's left edge of time `ns`. */
  timeToX(ns: number): number {
    const { t0, t1 } = this.app.viewport;
    return ((ns - t0) / (t1 - t0)) * this.cssW;
  }

  /** The time (ns) at CSS px `x` from the canvas's left edge. */
  xToTime(x: number): number {
    const { t0, t1 } = this.app.viewport;
    return t0 + (x / (this.cssW || 1)) * (t1 - t0);
  }

  /** CSS px from the canvas's top of the middle of a zone row; null if collapsed, unknown or scrolled out. */
  zoneY(thread: number, depth: number): number | null {
    const track = this.tracks.trackByThread.get(thread);
    if (!track || !rowShown(track, depth)) return null;
    return this.onScreen(track, rowTop(track, depth) + (ROW_H - 1) / 2);
  }

  /** CSS px from the canvas's top of the middle of a thread's lane of lock `lock`; null if none, collapsed or scrolled out. */
  lockY(thread: number, lock: number): number | null {
    const track = this.tracks.trackByThread.get(thread);
    const lane = track ? track.locks.indexOf(lock) : -1;
    if (!track || track.collapsed || lane < 0) return null;
    return this.onScreen(track, lockLaneTop(track, lane) + LOCK_ROW_H / 2);
  }

  /** Canvas y (CSS px) of content y of a track, or null when scrolled out or under the pinned band. */
  private onScreen(track: TrackLayout, contentY: number): number | null {
    const sv = this.scrollView();
    const viewY = contentY - trackScroll(sv, track);
    const y = RULER_H + viewY;
    return y < RULER_H || y > this.cssH || !shownAt(sv, track, viewY) ? null : y;
  }

  /** Where the tracks are at the current vertical scroll. */
  private scrollView(): ScrollView {
    return scrollView(this.tracks.layout, this.scroller.scrollTop);
  }

  /** The pinned band at the current scroll: canvas y (CSS px) of its top and bottom, equal when none. */
  pinnedBand(): { top: number; bottom: number } {
    const sv = this.scrollView();
    return { top: RULER_H + sv.bandTop, bottom: RULER_H + sv.bandBottom };
  }

  /** The labels of the ruler's major ticks, as last drawn. */
  rulerLabels(): string[] {
    return [...this.labels];
  }

  /** The zone items in the view on expanded threads' rows that are on screen (what is drawn). */
  visibleItems(): VisibleItem[] {
    const out: VisibleItem[] = [];
    const data = this.app.data;
    if (!data) return out;
    const { t0, t1 } = this.app.viewport;
    const sv = this.scrollView();
    for (const track of this.tracks.layout.tracks) {
      if (track.kind !== 'thread' || track.collapsed) continue;
      const th = this.tracks.threadById.get(track.thread);
      if (!th) continue;
      const scroll = trackScroll(sv, track);
      for (const d of th.depths) {
        const viewY = rowTop(track, d.depth) - scroll;
        const y = RULER_H + viewY;
        // a row counts when a part of it shows (for rows of scrolled tracks: outside the band)
        const hidden = !track.sticky && viewY >= sv.bandTop && viewY + ROW_H <= sv.bandBottom;
        if (!rowShown(track, d.depth) || y + ROW_H < RULER_H || y > this.cssH || hidden) continue;
        for (let i = lowerBound(d.endNs, t0); i < d.startNs.length && d.startNs[i]! <= t1; i++) {
          out.push({ thread: th.thread, depth: d.depth, row: d.row[i]!, srcloc: d.srcloc[i]!, count: d.count[i]!, startNs: d.startNs[i]!, endNs: d.endNs[i]! });
        }
      }
    }
    return out;
  }

  // ---- layout ----

  private toggle(thread: number): void {
    this.tracks.toggle(thread);
    this.updateLayout();
    this.scheduler.mark(DIRTY_DRAW);
  }

  /** Tracks and headers from app.data. */
  private updateLayout(): void {
    this.tracks.update();
    const layout = this.tracks.layout;
    const prefs = this.tracks.prefs;
    this.headers.setLayout(
      layout,
      (t) => this.tracks.threadName(t),
      (t) => prefs.pinned.includes(t),
      (t) => prefs.windows.get(t)?.maxRows,
    );
    this.headers.setHidden(this.tracks.hiddenThreads());
    this.headers.setFrameSets(
      (this.app.data?.frames ?? []).map((f) => f.name),
      this.pickedFrames,
    );
    this.cell.style.minHeight = `${RULER_H + layout.height}px`;
  }

  private applySize(): void {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(0, Math.floor(this.scroller.clientWidth - this.headerWidth));
    const h = Math.max(0, Math.floor(this.scroller.clientHeight));
    if (w === this.cssW && h === this.cssH && dpr === this.dpr) return;
    const heightChanged = h !== this.cssH;
    this.cssW = w;
    this.cssH = h;
    if (heightChanged) {
      // how many pinned tracks fit in the pinned band follows the view's height
      this.tracks.viewHeight = Math.max(0, h - RULER_H);
      this.updateLayout();
    }
    this.dpr = dpr;
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    if (w > 0) this.app.setWidth(w);
  }

  /** Re-measures when the device pixel ratio changes (window moved to another screen, zoom). */
  private watchDpr(): void {
    const mq = matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
    mq.addEventListener(
      'change',
      () => {
        this.scheduler.mark(DIRTY_SIZE | DIRTY_DRAW);
        this.watchDpr();
      },
      { once: true },
    );
  }

  // ---- drawing ----

  private frame(flags: number): void {
    if (flags & DIRTY_SIZE) this.applySize();
    this.draw();
  }

  private draw(): void {
    const started = performance.now();
    const ctx = this.ctx;
    const wDev = this.canvas.width;
    const hDev = this.canvas.height;
    if (wDev === 0 || hDev === 0) return;
    const dpr = this.dpr;
    const { t0, t1 } = this.app.viewport;
    const app = this.app;
    const v: DrawView = {
      ctx,
      dpr,
      wDev,
      hDev,
      t0,
      t1,
      scale: wDev / (t1 - t0),
      yOrigin: (RULER_H - this.scroller.scrollTop) * dpr,
      clipTop: RULER_H * dpr,
      clipBottom: hDev,
      lastNs: app.lastNs,
      font: `${FONT_PX * dpr}px ${FONT_FAMILY}`,
    };
    if (!this.hatches || this.hatchDpr !== dpr) {
      this.hatches = makeHatches(ctx, dpr);
      this.hatchDpr = dpr;
    }
    const hatches = this.hatches;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    this.measure.use(v.font);
    const ticks = rulerTicks(t0, t1, this.cssW, { measure: (s) => this.measure.width(s) / dpr });
    this.labels = ticks.major.map((t) => t.label);
    const data = app.data;
    this.palette.sync(app.srclocs);
    const src: ZoneSource = {
      srclocName: (s) => app.srclocName(s),
      highlight: app.highlight ?? -2,
      selected: app.selectedZone,
    };

    // the pinned band (device px): sticky tracks drawn there with their own scroll, the others below it
    const sv = this.scrollView();
    const band = this.tracks.layout.stickyHeight > 0;
    const bandTop = Math.round((RULER_H + sv.bandTop) * dpr);
    const bandBottom = Math.round((RULER_H + sv.bandBottom) * dpr);
    const vPin: DrawView = { ...v, yOrigin: (RULER_H - sv.pinScroll) * dpr, clipTop: bandTop, clipBottom: bandBottom };
    const vRest: DrawView = band ? { ...v, clipTop: bandBottom } : v;

    // 1. the framebuffer: backgrounds, grid, zone rows, message ticks
    const px = this.px;
    px.begin(ctx, wDev, hDev);
    this.paintTrackBackgrounds(v, vPin);
    const gridW = Math.max(1, Math.round(dpr));
    for (const t of ticks.major) px.fillRect(Math.round(t.x * dpr), v.clipTop, Math.round(t.x * dpr) + gridW, hDev, GRID);
    this.zones.begin(px);
    this.pinZones.begin(px);
    this.lockPainter.begin();
    this.pinLocks.begin();
    if (data) {
      const lockSets = new Map<number, LockTrackSet>((data.locks ?? []).map((l) => [l.id, l]));
      for (const track of this.tracks.layout.tracks) {
        if (track.kind !== 'thread') continue;
        const th = this.tracks.threadById.get(track.thread);
        const [zones, locks, tv] = track.sticky ? [this.pinZones, this.pinLocks, vPin] : [this.zones, this.lockPainter, vRest];
        if (th) zones.addThread(tv, px, th, track, src);
        locks.addTrack(tv, px, track, lockSets);
      }
      const byThread = this.tracks.trackByThread;
      this.zones.drawMessages(vRest, px, data.messages, (id) => {
        const t = byThread.get(id);
        return t && !t.sticky ? t : undefined;
      });
      if (band) this.pinZones.drawMessages(vPin, px, data.messages, (id) => {
        const t = byThread.get(id);
        return t?.sticky ? t : undefined;
      });
    }
    // the band's lower edge, over its last track's separator
    if (band) px.fillRect(0, bandBottom - Math.max(1, Math.round(dpr)), wDev, bandBottom, PIN_EDGE);
    px.blit(ctx);

    // 2. canvas on top: frames, overlays, labels, selection (clipped under the ruler), the ruler
    const clip = (top: number, bottom: number) => {
      ctx.restore();
      ctx.save();
      ctx.beginPath();
      ctx.rect(0, top, wDev, Math.max(0, bottom - top));
      ctx.clip();
    };
    ctx.save();
    if (data) {
      // the frames track above the band, the scrolled tracks' overlays below it, the sticky ones' in it
      clip(v.clipTop, band ? bandTop : hDev);
      const frames = this.tracks.layout.tracks.find((t) => t.kind === 'frames');
      if (frames) this.frames.paint(v, frames, data.frames, this.pickedFrames, hatches);
      clip(vRest.clipTop, hDev);
      this.zones.finish(vRest, src, hatches);
      this.lockPainter.finish(vRest);
      if (band) {
        clip(bandTop, bandBottom);
        this.pinZones.finish(vPin, src, hatches);
        this.pinLocks.finish(vPin);
      }
    }
    clip(v.clipTop, hDev);
    if (data) {
      const cutAt = data.messagesCut && data.messages.length > 0 ? data.messages[data.messages.length - 1]!.timeNs : null;
      if (cutAt !== null) paintMessagesCut(v, cutAt, data.messages.length);
      // for readers of the page (tests, tools): where the drawn messages stop, if they were cut
      if (cutAt === null) delete this.canvas.dataset.messagesCutNs;
      else this.canvas.dataset.messagesCutNs = String(cutAt);
      this.updateCounts(data.threads, t0, t1);
    } else {
      ctx.fillStyle = '#8a8f98';
      ctx.textAlign = 'center';
      ctx.fillText(app.sessionId === null ? 'No session' : 'Waiting for data\u2026', wDev / 2, v.clipTop + 40 * dpr);
      ctx.textAlign = 'left';
    }
    if (app.selection) paintSelectionBand(v, app.selection);
    if (this.dragRange) paintSelectionBand(v, this.dragRange);
    ctx.restore();
    paintRuler(v, ticks, this.measure, this.dragRange ?? app.selection);
    this.headers.setCorner(`view ${formatDuration(t1 - t0)}`);

    const now = performance.now();
    this.frameTimes.push(now - started);
    if (this.frameTimes.length > 1000) this.frameTimes.splice(0, this.frameTimes.length - 1000);
    this.draws++;
    const maxEnd = Math.max(this.zones.maxEndNs, this.pinZones.maxEndNs);
    this.lastDraw = { at: now, maxEndNs: Number.isFinite(maxEnd) ? maxEnd : 0, items: this.zones.items + this.pinZones.items };
  }

  /**
   * Every framebuffer pixel: the ruler band (drawn over later), track backgrounds, the rest;
   * the sticky tracks' backgrounds last, in the pinned band (`vPin`), over what scrolled under it.
   */
  private paintTrackBackgrounds(v: DrawView, vPin: DrawView): void {
    const px = this.px;
    const sep = Math.max(1, Math.round(v.dpr));
    px.fillRect(0, 0, v.wDev, v.clipTop, BG_PIXEL);
    let covered = v.clipTop;
    const paint = (tv: DrawView, track: TrackLayout, bg: number): number => {
      const y = Math.round(tv.yOrigin + track.top * tv.dpr);
      const h = Math.round(track.height * tv.dpr);
      if (y + h <= tv.clipTop || y >= tv.clipBottom) return -1;
      px.fillRect(0, Math.max(y, tv.clipTop), tv.wDev, Math.min(y + h - sep, tv.clipBottom), bg);
      px.fillRect(0, Math.max(y + h - sep, tv.clipTop), tv.wDev, Math.min(y + h, tv.clipBottom), SEPARATOR);
      return y + h;
    };
    let i = 0;
    for (const track of this.tracks.layout.tracks) {
      const bg = track.kind === 'frames' ? FRAMES_BG : TRACK_BG[i++ % 2]!;
      if (track.sticky) continue;
      covered = Math.max(covered, paint(v, track, bg));
    }
    px.fillRect(0, covered, v.wDev, v.hDev, BG_PIXEL);
    i = 0;
    for (const track of this.tracks.layout.tracks) {
      const bg = track.kind === 'frames' ? FRAMES_BG : TRACK_BG[i++ % 2]!;
      if (track.sticky) paint(vPin, track, bg);
    }
  }

  /** Header zone counts: zones intersecting the view per thread (prefix sums, no scan). */
  private updateCounts(threads: readonly ThreadItems[], t0: number, t1: number): void {
    for (const th of threads) {
      const n = zonesInView(th, t0, t1, this.prefixCounts);
      this.headers.setCount(th.thread, `${formatCount(n)} ${n === 1 ? 'zone' : 'zones'} in view`);
    }
  }

  // ---- pointer ----

  private hitAt(x: number, y: number): Hit | null {
    const data = this.app.data;
    if (!data || y < RULER_H || x < 0 || x > this.cssW) return null;
    const { t0, t1 } = this.app.viewport;
    const nsPerPx = (t1 - t0) / (this.cssW || 1);
    const contentY = contentYAt(this.scrollView(), y - RULER_H);
    return hitTest(data, this.tracks.layout, contentY, this.xToTime(x), HIT_TOL_PX * nsPerPx, this.pickedFrames);
  }
}

/**
 * Where the update's messages stop (the server sends the first LIVE_MAX_MESSAGES of the view):
 * a dashed line at the last message sent and a label, so missing ticks after it do not read as
 * "no messages". The Messages panel loads the rest.
 */
function paintMessagesCut(v: DrawView, lastNs: number, shown: number): void {
  const x = Math.round((lastNs - v.t0) * v.scale);
  if (x < 0 || x > v.wDev) return;
  const ctx = v.ctx;
  const dpr = v.dpr;
  ctx.save();
  ctx.strokeStyle = MESSAGES_CUT_COLOR;
  ctx.lineWidth = Math.max(1, Math.round(dpr));
  ctx.setLineDash([4 * dpr, 3 * dpr]);
  ctx.beginPath();
  ctx.moveTo(x + 0.5, v.clipTop);
  ctx.lineTo(x + 0.5, v.clipBottom);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = MESSAGES_CUT_COLOR;
  ctx.font = `${11 * dpr}px system-ui, sans-serif`;
  const label = `messages cut here: first ${shown.toLocaleString('en-US')} shown (Messages panel: load more)`;
  const w = ctx.measureText(label).width;
  ctx.fillText(label, Math.min(x + 4 * dpr, v.wDev - w - 2 * dpr), v.clipTop + 12 * dpr);
  ctx.restore();
}
