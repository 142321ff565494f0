import type { App } from '../app.js';
import { xToTime } from '../plots/plot-math.js';
import type { MemoryPick } from './memory.js';

/** A press that moves less than this (CSS px) is a click, as on the timeline and the charts. */
const CLICK_SLOP_PX = 3;

export interface MemoryPickTarget {
  pick(p: Partial<MemoryPick>): void;
  /** shows the Memory tab */
  show(): void;
}

/**
 * Where a time for the Memory panel is picked, without changing the plots or the timeline:
 * - a click (not a drag) on a memory-usage plot (a plot row of the series made from alloc/free
 *   events, `memory: true`; the Memory lane of runtime-metric plots is not one) picks that pool
 *   at the time under the cursor;
 * - Alt+click on the timeline picks the time under the cursor for the pool shown. The press is
 *   taken in the capture phase, so the timeline neither selects a zone nor starts a drag.
 * Both listen on the containers (#plots, #timeline), so rows made later are covered.
 */
export function installMemoryPick(app: App, plots: HTMLElement, timeline: { container: HTMLElement; canvas: HTMLCanvasElement }, target: MemoryPickTarget): void {
  let down: { x: number; y: number } | null = null;
  plots.addEventListener('pointerdown', (e) => (down = { x: e.clientX, y: e.clientY }), true);
  plots.addEventListener('click', (e) => {
    const start = down;
    down = null;
    if (!start || Math.abs(e.clientX - start.x) >= CLICK_SLOP_PX || Math.abs(e.clientY - start.y) >= CLICK_SLOP_PX || e.shiftKey) return;
    const row = (e.target as Element | null)?.closest?.('.plot-row');
    const name = row?.querySelector<HTMLElement>('.plot-header')?.dataset.plot;
    const over = row?.querySelector<HTMLElement>('.u-over');
    if (!row || name === undefined || !over || !over.contains(e.target as Node)) return;
    const plot = app.data?.plots.find((p) => p.name === name);
    if (!plot || plot.memory !== true) return;
    const t = Math.round(xToTime(app.viewport, e.clientX - over.getBoundingClientRect().left, over.clientWidth));
    target.pick({ pool: name, mode: 'at', t });
    target.show();
  });

  let altDown: { x: number; id: number } | null = null;
  const canvas = timeline.canvas;
  timeline.container.addEventListener(
    'pointerdown',
    (e) => {
      if (!e.altKey || e.target !== canvas || e.button !== 0) return;
      e.stopPropagation();
      e.preventDefault();
      altDown = { x: e.clientX, id: e.pointerId };
    },
    true,
  );
  timeline.container.addEventListener(
    'pointerup',
    (e) => {
      const d = altDown;
      if (!d || d.id !== e.pointerId) return;
      altDown = null;
      e.stopPropagation();
      if (Math.abs(e.clientX - d.x) >= CLICK_SLOP_PX) return;
      const t = Math.round(xToTime(app.viewport, e.clientX - canvas.getBoundingClientRect().left, canvas.clientWidth));
      target.pick({ mode: 'at', t });
      target.show();
    },
    true,
  );
}
