import type { App } from '../app.js';
import { hideTooltip } from '../tooltip.js';
import { MAX_SPAN_NS, panBy, wheelPx, wheelZoomFactor, xToTime, zoomAt, type Span } from './plot-math.js';

/** Pointer travel (CSS px) before a press becomes a drag. */
const DRAG_THRESHOLD_PX = 3;

interface Drag {
  pointerId: number;
  x0: number;
  view: Span;
  /** shift-drag selects a range instead of panning */
  select: boolean;
  anchorNs: number;
  moved: boolean;
  over: HTMLElement;
  /** the range a shift-drag covers so far (drawn; becomes app.selection on release, as on the timeline) */
  range: Span | null;
}

/**
 * Wheel and drag over the charts' plot areas (every plot row and the Memory lane), as on the
 * timeline: wheel zooms at the cursor, ctrl+wheel (pinch) zooms faster, a mostly horizontal turn
 * pans, shift+wheel scrolls the list of plots; drag pans, shift-drag selects a range.
 */
export class PlotPointer {
  private drag: Drag | null = null;
  /** the last pointer position over a chart, client px (for tooltips) */
  pointer = { x: 0, y: 0 };

  constructor(
    private readonly container: HTMLElement,
    private readonly app: App,
    /** the shift-drag range changed: the charts redraw their selection band */
    private readonly redrawSelection: () => void,
  ) {}

  /** The range a shift-drag covers so far, or null. */
  range(): Span | null {
    return this.drag?.range ?? null;
  }

  /** A press has become a drag (tooltips stay hidden). */
  dragging(): boolean {
    return this.drag?.moved === true;
  }

  /** Takes wheel and drag on `over` (a uPlot `.u-over`); enter/leave say where the pointer is. */
  bind(over: HTMLElement, onEnter: () => void, onLeave: () => void): void {
    over.addEventListener('pointerenter', onEnter);
    over.addEventListener('pointerleave', () => {
      onLeave();
      hideTooltip();
    });
    over.addEventListener('wheel', (e) => this.onWheel(e, over), { passive: false });
    over.addEventListener('pointermove', (e) => {
      this.pointer = { x: e.clientX, y: e.clientY };
      this.onDragMove(e);
    });
    over.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      const x = e.clientX - over.getBoundingClientRect().left;
      const view = { ...this.app.viewport };
      this.drag = { pointerId: e.pointerId, x0: e.clientX, view, select: e.shiftKey, anchorNs: xToTime(view, x, over.clientWidth), moved: false, over, range: null };
      over.setPointerCapture(e.pointerId);
    });
    const end = (e: PointerEvent) => {
      const d = this.drag;
      if (!d || d.pointerId !== e.pointerId) return;
      this.drag = null;
      over.classList.remove('dragging');
      if (over.hasPointerCapture(e.pointerId)) over.releasePointerCapture(e.pointerId);
      if (d.range && e.type === 'pointerup') this.app.setSelection(d.range);
      else if (d.range) this.redrawSelection();
    };
    over.addEventListener('pointerup', end);
    over.addEventListener('pointercancel', end);
  }

  private onWheel(e: WheelEvent, over: HTMLElement): void {
    e.preventDefault();
    const dy = wheelPx(e.deltaY, e.deltaMode);
    const dx = wheelPx(e.deltaX, e.deltaMode);
    if (e.shiftKey && !e.ctrlKey) {
      this.container.scrollTop += dy || dx;
      return;
    }
    const width = over.clientWidth;
    const view = this.app.viewport;
    if (!e.ctrlKey && Math.abs(dx) > Math.abs(dy)) {
      const next = panBy(view, -dx, width);
      this.app.setViewport(next.t0, next.t1);
      return;
    }
    const factor = wheelZoomFactor(dy, e.ctrlKey);
    if (factor > 1 && (view.t1 - view.t0) * factor > MAX_SPAN_NS) return;
    const x = Math.min(width, Math.max(0, e.clientX - over.getBoundingClientRect().left));
    const next = zoomAt(view, xToTime(view, x, width), factor);
    this.app.setViewport(next.t0, next.t1);
  }

  private onDragMove(e: PointerEvent): void {
    const d = this.drag;
    if (!d || d.pointerId !== e.pointerId) return;
    const dx = e.clientX - d.x0;
    if (!d.moved) {
      if (Math.abs(dx) < DRAG_THRESHOLD_PX) return;
      d.moved = true;
      d.over.classList.add('dragging');
      hideTooltip();
    }
    const width = d.over.clientWidth;
    if (d.select) {
      const t = xToTime(d.view, e.clientX - d.over.getBoundingClientRect().left, width);
      d.range = { t0: Math.min(d.anchorNs, t), t1: Math.max(d.anchorNs, t) };
      this.redrawSelection();
    } else {
      const next = panBy(d.view, dx, width);
      this.app.setViewport(next.t0, next.t1);
    }
  }
}
