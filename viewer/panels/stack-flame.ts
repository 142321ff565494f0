import type { StackFlameKind, StackFlameNode } from '../../protocol/view/types.js';
import type { App } from '../app.js';
import { colorFromName, rgbCss, textOn } from '../colors.js';
import { formatBytes, formatCount, formatDuration, formatTimestamp } from '../format.js';
import { wireFlameEvents } from './flame-events.js';
import { ancestry, indexNodes, layoutFlame } from './flame-layout.js';
import { memoryPools, MEMORY_PAGE, type MemoryAllocation, type MemoryAnswer } from './memory-data.js';
import { allocationTable } from './memory-list.js';
import { PanelLifecycle, PanelShell, clickable, errorText, h } from './panel-kit.js';
import type { Panel } from './panel.js';
import { emptyMessage, formatStackValue, namePath, nodeByNamePath, NO_POOL_MESSAGE, profilePlan, PROFILE_KINDS, stackTooltip, toFlameNodes, withoutStackNote, type ProfileChoice, type StackFlameAnswer } from './stack-flame-data.js';
import type { SortState } from './table.js';

/** Height of one row of the graph, px (as the zone flame graph). */
/** Zones listed for a zoomed frame. */
const ZONE_PAGE = 50;
const ROW_PX = 18;
/** Narrowest node that gets a label, px. */
const LABEL_MIN_PX = 28;
const ROOT_RGB = 0x5b6270;

export interface StackFlameOptions {
  /** the time last clicked on a memory plot (the Memory panel's pick), ns, or null */
  clickedTime(): number | null;
}

/**
 * The Profile panel: a flame graph of callstacks from GET /stack-flame. Kind: CPU samples, memory
 * in use (at the range's end, else the time clicked on a memory plot, else the session's end)
 * or memory allocated (in the range, else the session); memory kinds pick a pool as the Memory
 * panel offers them; top-down (callees under callers) or bottom-up (callers under the function
 * that allocated or was sampled). Drawn like the zone flame graph (flame-layout.ts): width =
 * share of the value, labels with the value in samples or bytes; hover shows name, file:line,
 * value, share and count. A click zooms into a frame (breadcrumbs back) and, for memory kinds,
 * lists the allocations whose stack contains it (GET /memory?frame=NAME). "pprof" downloads the
 * same profile (GET /pprof). The zoom is kept across reloads by its path of function names.
 */
export function createStackFlamePanel(app: App, options: StackFlameOptions): Panel {
  const shell = new PanelShell();
  const kinds = h('span', { class: 'profile-kinds', attrs: { role: 'group', 'aria-label': 'Profile kind' } });
  const poolSelect = h('select', { id: 'profile-pool', attrs: { 'aria-label': 'Memory pool' } });
  const threadSelect = h('select', { id: 'profile-thread', attrs: { 'aria-label': 'Thread (CPU samples)' } });
  const dirs = h('span', { class: 'profile-dirs', attrs: { role: 'group', 'aria-label': 'Direction' } });
  const pprof = h('a', { id: 'profile-pprof', text: 'pprof', title: 'download this profile as a gzipped pprof profile.proto (go tool pprof, speedscope, ...)', attrs: { download: '' } });
  const crumbs = h('nav', { class: 'flame-crumbs', attrs: { 'aria-label': 'Profile zoom' } });
  const reset = h('button', { id: 'profile-reset', text: 'Reset zoom', title: 'show the whole profile' });
  const describeLine = h('div', { class: 'profile-describe' });
  const info = h('div', { class: 'muted flame-info' });
  shell.head.append(h('div', { class: 'panel-controls' }, kinds, poolSelect, threadSelect, dirs, pprof), describeLine, h('div', { class: 'panel-controls' }, reset, crumbs), info);
  const graph = h('div', { class: 'flame stack-flame', attrs: { role: 'tree', 'aria-label': 'Profile flame graph' } });
  const allocs = h('section', { class: 'profile-allocs' });
  allocs.hidden = true;
  /** the zones whose callstack has the zoomed frame (GET /search?frame=NAME) */
  const zones = h('section', { class: 'profile-zones' });
  zones.hidden = true;
  shell.body.append(graph, allocs, zones);
  let zoneGeneration = 0;

  const pick = { kind: 'cpu' as StackFlameKind, pool: null as string | null, invert: false, thread: null as number | null };
  let result: StackFlameAnswer | null = null;
  let byNode = new Map<number, StackFlameNode>();
  let layoutNodes = toFlameNodes([]);
  let byId = indexNodes(layoutNodes);
  let focus = 0;
  let focusPath: string[] = [];
  let drawnWidth = 0;
  let choice: ProfileChoice | null = null;
  let allocGeneration = 0;
  let allocRows: MemoryAllocation[] = [];
  let allocAnswer: MemoryAnswer | null = null;
  let allocSort: SortState = { key: 'size', dir: 'desc' };
  /** a memory kind was asked for before the first update said which pools there are */
  let waitingForData = false;

  const kindButtons = new Map<StackFlameKind, HTMLButtonElement>();
  for (const k of PROFILE_KINDS) {
    const b = h('button', { text: k.label, title: k.title, data: { kind: k.kind } });
    b.addEventListener('click', () => change({ kind: k.kind }));
    kindButtons.set(k.kind, b);
    kinds.append(b);
  }
  const dirButtons = new Map<boolean, HTMLButtonElement>();
  for (const [invert, label, title] of [
    [false, 'Top-down', 'callers above their callees'],
    [true, 'Bottom-up', 'the sampled or allocating function on top, its callers below'],
  ] as const) {
    const b = h('button', { text: label, title, data: { invert: invert ? 1 : 0 } });
    b.addEventListener('click', () => change({ invert }));
    dirButtons.set(invert, b);
    dirs.append(b);
  }
  poolSelect.addEventListener('change', () => change({ pool: poolSelect.value }));
  threadSelect.addEventListener('change', () => change({ thread: threadSelect.value === '' ? null : Number(threadSelect.value) }));

  /** The threads the session's update lists, for the CPU kind's thread picker ('' = all). */
  function threadOptions(): { value: string; label: string }[] {
    const list = (app.data?.threads ?? []).map((t) => ({ value: String(t.thread), label: t.name ? `${t.name} (#${t.thread})` : `thread #${t.thread}` }));
    return [{ value: '', label: 'all threads' }, ...list];
  }

  function pools(): string[] {
    return memoryPools(app.data?.plots ?? []);
  }

  /** Another kind, pool or direction: the zoom starts over (its names mean something else now). */
  function change(p: Partial<typeof pick>): void {
    Object.assign(pick, p);
    focus = 0;
    focusPath = [];
    if (life.visible) life.reload('event');
    else syncControls();
  }

  function syncControls(): void {
    const list = pools();
    if (pick.pool === null || !list.includes(pick.pool)) pick.pool = list[0] ?? null;
    if ([...poolSelect.options].map((o) => o.value).join('\n') !== list.join('\n')) poolSelect.replaceChildren(...list.map((n) => h('option', { text: n, attrs: { value: n } })));
    poolSelect.value = pick.pool ?? '';
    poolSelect.hidden = pick.kind === 'cpu' || list.length === 0;
    const threads = threadOptions();
    if (pick.thread !== null && !threads.some((t) => t.value === String(pick.thread))) threads.push({ value: String(pick.thread), label: `thread #${pick.thread}` });
    if ([...threadSelect.options].map((o) => `${o.value}=${o.text}`).join('\n') !== threads.map((t) => `${t.value}=${t.label}`).join('\n')) {
      threadSelect.replaceChildren(...threads.map((t) => h('option', { text: t.label, attrs: { value: t.value } })));
    }
    threadSelect.value = pick.thread === null ? '' : String(pick.thread);
    threadSelect.hidden = pick.kind !== 'cpu';
    for (const [k, b] of kindButtons) b.setAttribute('aria-pressed', String(k === pick.kind));
    for (const [inv, b] of dirButtons) b.setAttribute('aria-pressed', String(inv === pick.invert));
    const el = shell.element;
    el.dataset.kind = pick.kind;
    el.dataset.pool = pick.pool ?? '';
    el.dataset.invert = pick.invert ? '1' : '0';
  }

  const life = new PanelLifecycle(app, {
    reloadOn: ['session', 'selection'],
    load: async (reason, isCurrent) => {
      syncControls();
      waitingForData = false;
      const at = shell.begin(app, () => show(null, 'No session.'));
      if (at === null) return;
      const { id, range } = at;
      if (pick.kind !== 'cpu' && pick.pool === null) {
        if (app.data === null) {
          waitingForData = true;
          return shell.setState('loading', "Waiting for the session's data...");
        }
        return show(null, NO_POOL_MESSAGE);
      }
      const thread = pick.kind === 'cpu' && pick.thread !== null ? { id: pick.thread, label: threadSelect.selectedOptions[0]?.text ?? `thread #${pick.thread}` } : null;
      const c: ProfileChoice = { kind: pick.kind, pool: pick.kind === 'cpu' ? null : pick.pool, invert: pick.invert, selection: app.selection, clickedT: options.clickedTime(), thread };
      const plan = profilePlan(c);
      pprof.href = app.api.pprofUrl(id, plan.query);
      pprof.removeAttribute('aria-disabled');
      describeLine.textContent = plan.describe;
      if (reason !== 'timer') shell.setState('loading', 'Loading profile...');
      try {
        const r: StackFlameAnswer = await app.api.stackFlame(id, plan.query);
        if (!isCurrent()) return;
        choice = c;
        show(r, emptyMessage(c, r));
      } catch (e) {
        if (isCurrent()) shell.setState('error', errorText(e));
      }
    },
  });

  /** Draws `r` (null: nothing), with `empty` as the status when it has nothing to show. */
  function show(r: StackFlameAnswer | null, empty: string | null): void {
    result = r;
    byNode = new Map((r?.nodes ?? []).map((n) => [n.id, n]));
    layoutNodes = toFlameNodes(r?.nodes ?? []);
    byId = indexNodes(layoutNodes);
    focus = nodeByNamePath(byId, focusPath);
    const el = shell.element;
    if (r) {
      el.dataset.unit = r.unit;
      el.dataset.total = String(r.total);
      el.dataset.count = String(r.count);
    } else {
      delete el.dataset.unit;
      delete el.dataset.total;
      delete el.dataset.count;
      pprof.removeAttribute('href');
      pprof.setAttribute('aria-disabled', 'true');
      describeLine.textContent = '';
    }
    shell.setState(empty !== null ? 'empty' : 'ready', empty ?? '');
    render();
    void loadAllocations();
    void loadZones();
  }

  function zoom(id: number): void {
    if (!byId.has(id)) return;
    focus = id;
    focusPath = namePath(byId, id);
    render();
    void loadAllocations();
    void loadZones();
  }

  /** With a frame zoomed into: the zones whose callstack has it (first ZONE_PAGE), click to jump. */
  async function loadZones(): Promise<void> {
    const gen = ++zoneGeneration;
    const id = app.sessionId;
    const n = byNode.get(focus);
    if (id === null || !n || n.id === 0) {
      zones.hidden = true;
      zones.replaceChildren();
      delete zones.dataset.frame;
      return;
    }
    try {
      const r = await app.api.search(id, '', app.selection ?? undefined, ZONE_PAGE, n.name);
      if (gen !== zoneGeneration) return;
      zones.dataset.frame = n.name;
      zones.dataset.total = String(r.total);
      if (r.total === 0) {
        zones.hidden = true;
        zones.replaceChildren();
        return;
      }
      zones.hidden = false;
      const rows = r.matches.map((m) => {
        const name = r.srclocs.find((l) => l.srcloc === m.srcloc)?.name ?? '';
        const tr = h('tr', { data: { startNs: m.startNs, thread: m.thread } }, h('td', { class: 'num mono', text: formatTimestamp(m.startNs) }), h('td', { class: 'num', text: formatDuration(m.durNs) }), h('td', { text: name }));
        clickable(tr, () => app.jumpTo(m.startNs, m.durNs, { thread: m.thread, depth: m.depth, row: m.row }));
        return tr;
      });
      const more = r.total > r.matches.length ? h('div', { class: 'muted table-note', text: `the first ${formatCount(r.matches.length)} of ${formatCount(r.total)} by start time` }) : '';
      zones.replaceChildren(
        h('div', { class: 'profile-zones-title', text: `${formatCount(r.total)} zones with ${n.name} in their callstack` }),
        h('table', { class: 'table' }, h('tbody', {}, ...rows)),
        more,
      );
    } catch (e) {
      if (gen !== zoneGeneration) return;
      zones.hidden = false;
      zones.replaceChildren(h('div', { class: 'error-text small', text: errorText(e) }));
    }
  }

  function render(): void {
    const width = graph.clientWidth;
    drawnWidth = width;
    renderCrumbs();
    const root = byNode.get(0);
    const r = result;
    if (!r || !root || root.value <= 0 || width <= 0) {
      graph.replaceChildren();
      graph.style.height = '0px';
      info.textContent = '';
      return;
    }
    const layout = layoutFlame(layoutNodes, focus, width, 1);
    const els: HTMLElement[] = [];
    for (const rect of layout.rects) {
      const n = byNode.get(rect.id)!;
      const isRoot = n.id === 0;
      const rgb = isRoot ? ROOT_RGB : colorFromName(n.name);
      const value = formatStackValue(n.value, r.unit);
      const label = isRoot ? `all — ${value}` : `${n.name} ${value}`;
      const f = byNode.get(focus);
      const el = h('div', {
        class: `flame-node${rect.ancestor ? ' ancestor' : ''}${rect.id === focus ? ' focus' : ''}`,
        text: rect.w >= LABEL_MIN_PX || isRoot ? label : '',
        data: { node: n.id, parent: n.parent, name: n.name, value: n.value, self: n.self, count: n.count, depth: rect.depth, file: n.file, line: n.line },
        attrs: { role: 'treeitem', 'aria-label': stackTooltip(n, root, f, r.unit).join(', ') },
      });
      el.style.left = `${rect.x}px`;
      el.style.top = `${rect.depth * ROW_PX}px`;
      el.style.width = `${Math.max(1, rect.w)}px`;
      el.style.background = rgbCss(rgb);
      el.style.color = textOn(rgb);
      els.push(el);
    }
    graph.replaceChildren(...els);
    graph.style.height = `${layout.rows * ROW_PX}px`;
    const what = r.unit === 'bytes' ? `${formatCount(r.count)} allocations, ${formatBytes(r.total)}` : `${formatCount(r.total)} samples`;
    const parts = [`${what}; ${formatCount(r.nodes.length - 1)} call paths, ${formatCount(els.length)} drawn`];
    parts.push(`${formatCount(layout.hidden)} under 1 px not drawn at ${formatCount(Math.round(width))} px`);
    if (r.cut > 0) parts.push(`${formatCount(r.cut)} left out by the server's node limit`);
    const without = withoutStackNote(r);
    if (without) parts.push(without);
    info.textContent = parts.join(', ');
    info.dataset.drawn = String(els.length);
    info.dataset.hidden = String(layout.hidden);
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

  /**
   * For memory kinds with a frame zoomed into: the allocations whose alloc stack contains it
   * (GET /memory?frame=NAME, the first MEMORY_PAGE), listed like the Memory panel's list.
   */
  async function loadAllocations(): Promise<void> {
    const gen = ++allocGeneration;
    const id = app.sessionId;
    const c = choice;
    const n = byNode.get(focus);
    const plan = c ? profilePlan(c) : null;
    if (id === null || !c || c.pool === null || !plan?.allocations || !n || n.id === 0 || !result || result.kind === 'cpu') {
      allocs.hidden = true;
      allocs.replaceChildren();
      delete allocs.dataset.frame;
      allocAnswer = null;
      allocRows = [];
      return;
    }
    allocs.hidden = false;
    allocs.dataset.frame = n.name;
    allocs.dataset.state = 'loading';
    const heading = h('div', { class: 'profile-allocs-title', text: `Allocations with ${n.name} in their stack, ${plan.allocationsDescribe}` });
    if (allocs.dataset.shown !== n.name) allocs.replaceChildren(heading, h('div', { class: 'muted small', text: 'Loading allocations...' }));
    try {
      const a = await app.api.memory<MemoryAnswer>(id, { pool: c.pool, ...plan.allocations, limit: MEMORY_PAGE, frame: n.name });
      if (gen !== allocGeneration) return;
      allocAnswer = a;
      allocRows = a.allocations;
      allocs.dataset.shown = n.name;
      renderAllocations(heading);
      allocs.dataset.state = 'ready';
    } catch (e) {
      if (gen !== allocGeneration) return;
      allocs.replaceChildren(heading, h('div', { class: 'error-text small', text: errorText(e) }));
      allocs.dataset.state = 'error';
      delete allocs.dataset.shown;
    }
  }

  function renderAllocations(heading: HTMLElement): void {
    const a = allocAnswer;
    if (!a) return;
    const summary = h('div', { class: 'profile-allocs-summary', text: `${formatCount(a.active.count)} allocations, ${formatBytes(a.active.bytes)}`, data: { count: a.active.count, bytes: a.active.bytes } });
    const table = allocationTable(app, allocRows, allocSort, (next) => {
      allocSort = next;
      renderAllocations(heading);
    });
    const note = allocRows.length < a.active.count ? h('div', { class: 'muted table-note', text: `showing the first ${formatCount(allocRows.length)} of ${formatCount(a.active.count)} (in allocation order; the Memory panel pages through all)` }) : null;
    allocs.replaceChildren(heading, summary, allocRows.length ? table : h('div', { class: 'muted small', text: 'None of them is in this list.' }), note ?? '');
  }

  wireFlameEvents(graph, reset, {
    node: (id) => byNode.get(id),
    focus: () => focus,
    zoom,
    tooltip: (n) => (result ? stackTooltip(n, byNode.get(0), byNode.get(focus), result.unit) : null),
  });
  app.on('session', () => {
    focus = 0;
    focusPath = [];
    pick.pool = null;
    pick.thread = null;
  });
  app.on('data', () => {
    // the pool list follows the session's memory-usage series, as in the Memory panel
    if (life.visible && pick.kind !== 'cpu' && ((pick.pool === null && pools().length > 0) || waitingForData)) life.reload('event');
  });
  new ResizeObserver(() => {
    if (life.visible && graph.clientWidth !== drawnWidth) render();
  }).observe(graph);

  return {
    id: 'profile',
    title: 'Profile',
    element: shell.element,
    activate: () => life.activate(),
    deactivate: () => life.deactivate(),
  };
}
