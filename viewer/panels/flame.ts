import type { FlameNode } from '../../protocol/view/types.js';
import type { App } from '../app.js';
import { rgbCss, srclocRgb, textOn } from '../colors.js';
import { formatCount, formatDuration } from '../format.js';
import { wireFlameEvents } from './flame-events.js';
import { indexNodes, layoutFlame, nodeByPath, srclocPath, ancestry } from './flame-layout.js';
import { PanelLifecycle, PanelShell, errorText, h } from './panel-kit.js';
import type { Panel } from './panel.js';

/** Height of one row of the graph, px. */
const ROW_PX = 18;
/** Narrowest node that gets a label, px. */
const LABEL_MIN_PX = 28;

/**
 * The flame graph (icicle) of app.analysisRange() from GET /flame: absolutely positioned divs
 * (data-node, data-total-ns, ...), nodes under 1 px skipped, coloured by source location. A
 * click zooms into a node (it takes the full width); the breadcrumb or Reset zooms out. The
 * zoom is kept across reloads by its path of source locations.
 */
export function createFlamePanel(app: App): Panel {
  const shell = new PanelShell();
  const crumbs = h('nav', { class: 'flame-crumbs', attrs: { 'aria-label': 'Flame graph zoom' } });
  const reset = h('button', { id: 'flame-reset', text: 'Reset zoom', title: 'show the whole range' });
  const info = h('div', { class: 'muted flame-info' });
  shell.head.append(h('div', { class: 'panel-controls' }, reset, crumbs), info);
  const graph = h('div', { class: 'flame', attrs: { role: 'tree', 'aria-label': 'Flame graph' } });
  shell.body.append(graph);

  let nodes: FlameNode[] = [];
  let byId = new Map<number, FlameNode>();
  let focus = 0;
  /** the focus as source locations from the root, to find it again after a reload */
  let focusPath: number[] = [];
  let drawnWidth = 0;

  const life = new PanelLifecycle(app, {
    reloadOn: ['session', 'selection'],
    load: async (reason, isCurrent) => {
      const at = shell.begin(app, () => show([], 'No session.'));
      if (at === null) return;
      const { id, range } = at;
      if (reason !== 'timer') shell.setState('loading', 'Loading flame graph...');
      try {
        const list = await app.api.flame(id, range ?? undefined);
        if (!isCurrent()) return;
        show(list, 'No zones in this range.');
      } catch (e) {
        if (isCurrent()) shell.setState('error', errorText(e));
      }
    },
  });

  function show(list: FlameNode[], emptyMessage: string): void {
    nodes = list;
    byId = indexNodes(list);
    focus = nodeByPath(byId, focusPath);
    const root = byId.get(0);
    const empty = !root || root.totalNs <= 0;
    shell.setState(empty ? 'empty' : 'ready', empty ? emptyMessage : '');
    render();
  }

  function zoom(id: number): void {
    if (!byId.has(id)) return;
    focus = id;
    focusPath = srclocPath(byId, id);
    render();
  }

  function render(): void {
    const width = graph.clientWidth;
    drawnWidth = width;
    renderCrumbs();
    const root = byId.get(0);
    if (!root || width <= 0) {
      graph.replaceChildren();
      graph.style.height = '0px';
      info.textContent = '';
      return;
    }
    const layout = layoutFlame(nodes, focus, width, 1);
    const els: HTMLElement[] = [];
    for (const r of layout.rects) {
      const n = byId.get(r.id)!;
      const isRoot = n.id === 0;
      const rgb = isRoot ? 0x5b6270 : srclocRgb(app.srclocs[n.srcloc], n.name);
      const label = isRoot ? `all — total ${formatDuration(n.totalNs)}` : n.name;
      const el = h('div', {
        class: `flame-node${r.ancestor ? ' ancestor' : ''}${r.id === focus ? ' focus' : ''}`,
        text: r.w >= LABEL_MIN_PX || isRoot ? label : '',
        data: { node: n.id, totalNs: n.totalNs, selfNs: n.selfNs, count: n.count, srcloc: n.srcloc, depth: r.depth },
        attrs: { role: 'treeitem', 'aria-label': tooltipLines(n).join(', ') },
      });
      el.style.left = `${r.x}px`;
      el.style.top = `${r.depth * ROW_PX}px`;
      el.style.width = `${Math.max(1, r.w)}px`;
      el.style.background = rgbCss(rgb);
      el.style.color = textOn(rgb);
      els.push(el);
    }
    graph.replaceChildren(...els);
    graph.style.height = `${layout.rows * ROW_PX}px`;
    info.textContent = `${formatCount(nodes.length - 1)} call paths, ${formatCount(root.count)} top-level zones; ${formatCount(els.length)} drawn, ${formatCount(layout.hidden)} under 1 px not drawn at ${formatCount(Math.round(width))} px${layout.hidden ? ' (widen or maximize the panel, or click a node to zoom)' : ''}`;
    info.dataset.drawn = String(els.length);
    info.dataset.hidden = String(layout.hidden);
    info.dataset.width = String(Math.round(width));
  }

  function renderCrumbs(): void {
    const path = byId.size ? ancestry(byId, focus) : [];
    reset.disabled = focus === 0;
    crumbs.replaceChildren(
      ...path.flatMap((id, i) => {
        const n = byId.get(id)!;
        const b = h('button', { class: 'crumb', text: id === 0 ? 'all' : n.name, data: { crumb: id } });
        if (id === focus) b.setAttribute('aria-current', 'true');
        b.addEventListener('click', () => zoom(id));
        return i === 0 ? [b] : [h('span', { class: 'muted', text: ' › ' }), b];
      }),
    );
  }

  function tooltipLines(n: FlameNode): string[] {
    const root = byId.get(0);
    const f = byId.get(focus);
    const pct = (x: number, of: FlameNode | undefined) => (of && of.totalNs > 0 ? `${((x / of.totalNs) * 100).toFixed(2)}%` : '-');
    const lines = [n.id === 0 ? 'all' : n.name, `total ${formatDuration(n.totalNs)} (${pct(n.totalNs, root)} of all)`, `self ${formatDuration(n.selfNs)}`, `count ${formatCount(n.count)}`];
    if (focus !== 0 && f && n.id !== focus) lines.push(`${pct(n.totalNs, f)} of ${f.name}`);
    return lines;
  }

  wireFlameEvents(graph, reset, { node: (id) => byId.get(id), focus: () => focus, zoom, tooltip: tooltipLines });
  app.on('srclocs', () => life.visible && render());
  app.on('session', () => {
    focus = 0;
    focusPath = [];
  });
  new ResizeObserver(() => {
    if (life.visible && graph.clientWidth !== drawnWidth) render();
  }).observe(graph);

  return {
    id: 'flame',
    title: 'Flame',
    element: shell.element,
    activate: () => life.activate(),
    deactivate: () => life.deactivate(),
  };
}
