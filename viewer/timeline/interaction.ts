import type { App, TimeRange } from '../app.js';
import { hideTooltip } from '../tooltip.js';
import type { Hit } from './hit-test.js';
import { RULER_H, zoomAround } from './layout.js';

/** What the interaction needs from the timeline. Coordinates are CSS px from the canvas's top-left. */
export interface InteractionHost {
  readonly app: App;
  readonly canvas: HTMLCanvasElement;
  readonly scroller: HTMLElement;
  /** canvas width, CSS px */
  cssWidth(): number;
  hitAt(x: number, y: number): Hit | null;
  showHover(hit: Hit | null, clientX: number, clientY: number): void;
  /** the range being selected by a drag (drawn until the drag ends), or null */
  setDragRange(range: TimeRange | null): void;
}

/** Wheel zoom per pixel of deltaY (a 120 px notch zooms by about 0.74x or 1.35x). */
const WHEEL_ZOOM = 0.0025;
/** ctrl+wheel is a trackpad pinch: small deltas, zoom faster per pixel. */
const PINCH_ZOOM = 0.01;
/** A press that moves less than this (CSS px) is a click. */
const CLICK_SLOP = 3;
const KEY_ZOOM = 0.8;
const KEY_PAN = 0.15;
const MAX_SPAN_NS = 1e16;

interface Drag {
  mode: 'pan' | 'select';
  pointerId: number;
  x0: number;
  y0: number;
  t0: number;
  t1: number;
  scrollTop: number;
  moved: boolean;
}

/**
 * Mouse, wheel and keyboard on the timeline:
 * - wheel: zoom at the cursor (ctrl+wheel / trackpad pinch too); horizontal wheel pans;
 *   shift+wheel scrolls the tracks vertically (so does the wheel over the track headers and the
 *   scrollbar on the right)
 * - left drag: pan (horizontally in time, vertically through the tracks)
 * - shift+drag, or a drag in the ruler: select a time range (Escape clears it)
 * - click: a zone selects it; a merged run or a frame zooms to it; empty space clears the zone;
 *   double click on a zone zooms to it
 * - keys (page focused, no input focused): W/S zoom in/out around the pointer (else the
 *   centre), A/D pan, F fits the session, Escape clears the range selection
 */
export class Interaction {
  /** the pointer's x over the canvas (CSS px), or null when it is elsewhere */
  mouseX: number | null = null;
  private drag: Drag | null = null;

  constructor(private readonly host: InteractionHost) {
    const c = host.canvas;
    c.addEventListener('pointerdown', this.onDown);
    c.addEventListener('pointermove', this.onMove);
    c.addEventListener('pointerup', this.onUp);
    c.addEventListener('pointercancel', this.onCancel);
    c.addEventListener('pointerleave', this.onLeave);
    c.addEventListener('dblclick', this.onDoubleClick);
    c.addEventListener('wheel', this.onWheel, { passive: false });
    document.addEventListener('keydown', this.onKey);
  }

  dispose(): void {
    const c = this.host.canvas;
    c.removeEventListener('pointerdown', this.onDown);
    c.removeEventListener('pointermove', this.onMove);
    c.removeEventListener('pointerup', this.onUp);
    c.removeEventListener('pointercancel', this.onCancel);
    c.removeEventListener('pointerleave', this.onLeave);
    c.removeEventListener('dblclick', this.onDoubleClick);
    c.removeEventListener('wheel', this.onWheel);
    document.removeEventListener('keydown', this.onKey);
  }

  private local(e: MouseEvent): { x: number; y: number } {
    const r = this.host.canvas.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  private readonly onDown = (e: PointerEvent): void => {
    if (e.button !== 0) return;
    const { x, y } = this.local(e);
    const { t0, t1 } = this.host.app.viewport;
    this.drag = { mode: e.shiftKey || y < RULER_H ? 'select' : 'pan', pointerId: e.pointerId, x0: x, y0: y, t0, t1, scrollTop: this.host.scroller.scrollTop, moved: false };
    this.host.canvas.setPointerCapture(e.pointerId);
    hideTooltip();
    // the timeline takes the keyboard: W/A/S/D/F are ignored while an input has focus
    const active = document.activeElement as HTMLElement | null;
    if (active && isTextInput(active)) active.blur();
    e.preventDefault();
  };

  private readonly onMove = (e: PointerEvent): void => {
    const { x, y } = this.local(e);
    this.mouseX = x;
    const d = this.drag;
    if (!d) {
      this.host.showHover(this.host.hitAt(x, y), e.clientX, e.clientY);
      return;
    }
    const dx = x - d.x0;
    const dy = y - d.y0;
    if (!d.moved && Math.abs(dx) <= CLICK_SLOP && Math.abs(dy) <= CLICK_SLOP) return;
    d.moved = true;
    const nsPerPx = (d.t1 - d.t0) / this.host.cssWidth();
    if (d.mode === 'pan') {
      this.host.canvas.style.cursor = 'grabbing';
      const t0 = d.t0 - dx * nsPerPx;
      this.host.app.setViewport(t0, t0 + (d.t1 - d.t0));
      this.host.scroller.scrollTop = d.scrollTop - dy;
    } else {
      const a = d.t0 + d.x0 * nsPerPx;
      const b = d.t0 + x * nsPerPx;
      this.host.setDragRange({ t0: Math.min(a, b), t1: Math.max(a, b) });
    }
  };

  private readonly onUp = (e: PointerEvent): void => {
    const d = this.drag;
    if (!d || e.pointerId !== d.pointerId) return;
    this.drag = null;
    this.host.canvas.style.cursor = '';
    if (this.host.canvas.hasPointerCapture(e.pointerId)) this.host.canvas.releasePointerCapture(e.pointerId);
    const { x, y } = this.local(e);
    if (d.mode === 'select') {
      this.host.setDragRange(null);
      if (d.moved) {
        const nsPerPx = (d.t1 - d.t0) / this.host.cssWidth();
        const a = d.t0 + d.x0 * nsPerPx;
        const b = d.t0 + x * nsPerPx;
        this.host.app.setSelection({ t0: Math.min(a, b), t1: Math.max(a, b) });
      }
      return;
    }
    if (!d.moved) this.click(x, y);
  };

  private readonly onCancel = (): void => {
    this.drag = null;
    this.host.canvas.style.cursor = '';
    this.host.setDragRange(null);
  };

  private readonly onLeave = (): void => {
    this.mouseX = null;
    if (!this.drag) hideTooltip();
  };

  private click(x: number, y: number): void {
    const app = this.host.app;
    const hit = this.host.hitAt(x, y);
    if (hit?.kind === 'zone' && hit.count <= 1 && hit.row >= 0) {
      app.selectZone({ thread: hit.thread, depth: hit.depth, row: hit.row });
    } else if ((hit?.kind === 'zone' && hit.count > 1) || hit?.kind === 'frame' || (hit?.kind === 'lock' && hit.count > 1)) {
      this.zoomTo(hit.startNs, hit.endNs);
    } else if (hit?.kind !== 'message') {
      app.selectZone(null);
    }
  }

  private readonly onDoubleClick = (e: MouseEvent): void => {
    const { x, y } = this.local(e);
    const hit = this.host.hitAt(x, y);
    if (hit && (hit.kind === 'zone' || hit.kind === 'open' || hit.kind === 'lock')) this.zoomTo(hit.startNs, hit.endNs);
  };

  /** Shows [s, e] with 5% margins. */
  private zoomTo(s: number, e: number): void {
    const pad = Math.max(e - s, 1) * 0.05;
    this.host.app.setViewport(s - pad, e + pad);
  }

  private readonly onWheel = (e: WheelEvent): void => {
    e.preventDefault();
    hideTooltip();
    const unit = e.deltaMode === 1 ? 40 : e.deltaMode === 2 ? 800 : 1;
    const dy = e.deltaY * unit;
    const dx = e.deltaX * unit;
    if (e.shiftKey && !e.ctrlKey) {
      this.host.scroller.scrollTop += dy || dx;
      return;
    }
    const app = this.host.app;
    const { t0, t1 } = app.viewport;
    if (!e.ctrlKey && Math.abs(dx) > Math.abs(dy)) {
      const shift = dx * ((t1 - t0) / this.host.cssWidth());
      app.setViewport(t0 + shift, t1 + shift);
      return;
    }
    const factor = Math.min(10, Math.max(0.1, Math.exp(dy * (e.ctrlKey ? PINCH_ZOOM : WHEEL_ZOOM))));
    this.zoom(factor, this.local(e).x / this.host.cssWidth());
  };

  private zoom(factor: number, at: number): void {
    const { t0, t1 } = this.host.app.viewport;
    if (factor > 1 && (t1 - t0) * factor > MAX_SPAN_NS) return;
    const z = zoomAround(t0, t1, factor, Math.min(1, Math.max(0, at)));
    this.host.app.setViewport(z.t0, z.t1);
  }

  private readonly onKey = (e: KeyboardEvent): void => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const target = e.target as HTMLElement | null;
    if (target && isTextInput(target)) return;
    const app = this.host.app;
    const at = this.mouseX !== null ? this.mouseX / this.host.cssWidth() : 0.5;
    const { t0, t1 } = app.viewport;
    switch (e.key.toLowerCase()) {
      case 'w':
        this.zoom(KEY_ZOOM, at);
        break;
      case 's':
        this.zoom(1 / KEY_ZOOM, at);
        break;
      case 'a':
        app.setViewport(t0 - (t1 - t0) * KEY_PAN, t1 - (t1 - t0) * KEY_PAN);
        break;
      case 'd':
        app.setViewport(t0 + (t1 - t0) * KEY_PAN, t1 + (t1 - t0) * KEY_PAN);
        break;
      case 'f':
        app.fit();
        break;
      case 'escape':
        if (this.drag?.mode === 'select') this.onCancel();
        app.setSelection(null);
        return;
      default:
        return;
    }
    e.preventDefault();
  };
}

function isTextInput(el: HTMLElement): boolean {
  return el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName);
}
