import { hideTooltip, showTooltip } from '../tooltip.js';

/** What a flame graph panel tells its pointer handling. */
export interface FlameEventsOptions<N extends { id: number }> {
  /** the node drawn with `data-node="id"` */
  node(id: number): N | undefined;
  /** the node zoomed into (0: the root) */
  focus(): number;
  zoom(id: number): void;
  /** the hover lines of a node, or null for none */
  tooltip(n: N): string[] | null;
}

/**
 * The pointer handling both flame graphs (zones: flame.ts; callstacks: stack-flame.ts) share: a
 * click on a node zooms into it, hovering shows its tooltip, the reset button zooms out.
 */
export function wireFlameEvents<N extends { id: number }>(graph: HTMLElement, reset: HTMLElement, o: FlameEventsOptions<N>): void {
  const nodeAt = (ev: Event): N | undefined => {
    const el = (ev.target as HTMLElement).closest<HTMLElement>('[data-node]');
    return el ? o.node(Number(el.dataset.node)) : undefined;
  };
  graph.addEventListener('click', (ev) => {
    const n = nodeAt(ev);
    if (n && n.id !== o.focus()) o.zoom(n.id);
  });
  graph.addEventListener('mousemove', (ev) => {
    const n = nodeAt(ev);
    const lines = n ? o.tooltip(n) : null;
    if (lines) showTooltip(ev.clientX, ev.clientY, lines);
    else hideTooltip();
  });
  graph.addEventListener('mouseleave', hideTooltip);
  reset.addEventListener('click', () => o.zoom(0));
}
