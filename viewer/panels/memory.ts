import type { App } from '../app.js';
import { formatBytes, formatCount, formatDuration, formatTimestamp } from '../format.js';
import { callstackBlock } from './callstack-view.js';
import { bucketLabel, memoryPools, MEMORY_MAX_ROWS, MEMORY_PAGE, usedBuckets, type MemoryAllocation, type MemoryAnswer, type MemoryMode } from './memory-data.js';
import { allocationTable } from './memory-list.js';
import { PanelLifecycle, PanelShell, clickable, errorText, h } from './panel-kit.js';
import type { Panel } from './panel.js';
import type { SortState } from './table.js';

type View = 'list' | 'size' | 'zone' | 'stack' | 'histogram';

/** What the panel shows: the pool (its memory-usage plot's name), the mode and the time. */
export interface MemoryPick {
  pool: string | null;
  mode: MemoryMode;
  /** ns: the time of 'at' (null: the session's end) */
  t: number | null;
}

/**
 * Tracy's memory window for one pool (GET /memory, /memory/leaks): the allocations alive at a
 * time (picked by a click on the pool's memory-usage plot, or Alt+click on the timeline: see
 * memory-pick.ts), those made in the selected range and alive at its end, or the leaks. A
 * summary line, then tabs: the allocations (address, size, thread, allocated at, age, zone;
 * pages of MEMORY_PAGE with "More", up to MEMORY_MAX_ROWS), grouped by size, grouped by the
 * zone they were made in, grouped by their alloc callstack (a row click shows its frames), and
 * the size histogram. An allocation row click centres the timeline on it.
 */
export function createMemoryPanel(app: App): Panel & { pick(p: Partial<MemoryPick>): void; state: () => MemoryPick } {
  const shell = new PanelShell(false);
  const poolSelect = h('select', { id: 'memory-pool', attrs: { 'aria-label': 'Memory pool' } });
  const modes = h('span', { class: 'memory-modes', attrs: { role: 'group' } });
  const views = h('span', { class: 'memory-views', attrs: { role: 'group' } });
  const atLine = h('div', { class: 'muted memory-at' });
  const summary = h('div', { class: 'memory-summary' });
  shell.head.append(h('div', { class: 'panel-controls' }, poolSelect, modes), atLine, summary, h('div', { class: 'panel-controls' }, views));
  const content = h('div', { class: 'memory-content' });
  const more = h('button', { id: 'memory-more', text: 'More' });
  more.hidden = true;
  shell.body.append(content, more);

  const pick: MemoryPick = { pool: null, mode: 'at', t: null };
  let view: View = 'list';
  let answer: MemoryAnswer | null = null;
  let rows: MemoryAllocation[] = [];
  let sort: SortState = { key: 'alloc', dir: 'asc' };
  /** callstacks whose frames are shown in the by-stack view (kept across reloads) */
  const openStacks = new Set<number>();

  const modeButtons = new Map<MemoryMode, HTMLButtonElement>();
  for (const [m, label] of [['at', 'At time'], ['range', 'Made in range, alive at its end'], ['leaks', 'Leaks']] as const) {
    const b = h('button', { text: label, data: { mode: m } });
    b.addEventListener('click', () => api.pick({ mode: m }));
    modeButtons.set(m, b);
    modes.append(b);
  }
  const viewButtons = new Map<View, HTMLButtonElement>();
  for (const [v, label] of [['list', 'Allocations'], ['size', 'By size'], ['zone', 'By zone'], ['stack', 'By stack'], ['histogram', 'Size histogram']] as const) {
    const b = h('button', { text: label, data: { view: v } });
    b.addEventListener('click', () => {
      view = v;
      render();
    });
    viewButtons.set(v, b);
    views.append(b);
  }
  poolSelect.addEventListener('change', () => api.pick({ pool: poolSelect.value }));

  function pools(): string[] {
    return memoryPools(app.data?.plots ?? []);
  }

  function syncControls(): void {
    const list = pools();
    if (pick.pool === null || !list.includes(pick.pool)) pick.pool = list[0] ?? null;
    if ([...poolSelect.options].map((o) => o.value).join('\n') !== list.join('\n')) poolSelect.replaceChildren(...list.map((n) => h('option', { text: n, attrs: { value: n } })));
    poolSelect.value = pick.pool ?? '';
    for (const [m, b] of modeButtons) b.setAttribute('aria-pressed', String(m === pick.mode));
    for (const [v, b] of viewButtons) b.setAttribute('aria-pressed', String(v === view));
    const el = shell.element;
    el.dataset.pool = pick.pool ?? '';
    el.dataset.mode = pick.mode;
  }

  const life = new PanelLifecycle(app, {
    reloadOn: ['session', 'selection'],
    load: async (reason, isCurrent) => {
      syncControls();
      const id = app.sessionId;
      if (id === null || pick.pool === null) {
        answer = null;
        rows = [];
        render();
        return shell.setState('empty', id === null ? 'No session.' : 'No memory events in this session (TracyAlloc / TracyFree).');
      }
      const sel = app.selection;
      if (pick.mode === 'range' && !sel) {
        answer = null;
        rows = [];
        render();
        return shell.setState('empty', 'Select a range (shift-drag on the timeline or a plot) to list the allocations made in it and still alive at its end.');
      }
      if (reason !== 'timer') shell.setState('loading', 'Loading allocations...');
      try {
        const q = { pool: pick.pool, mode: pick.mode, limit: MEMORY_PAGE, ...(pick.mode === 'at' && pick.t !== null && { t: pick.t }), ...(pick.mode === 'range' && sel && { t0: sel.t0, t1: sel.t1 }) };
        const a = await app.api.memory<MemoryAnswer>(id, q);
        if (!isCurrent()) return;
        answer = a;
        rows = a.allocations;
        render();
        shell.setState('ready');
      } catch (e) {
        if (isCurrent()) shell.setState('error', errorText(e));
      }
    },
  });

  more.addEventListener('click', async () => {
    const id = app.sessionId;
    const a = answer;
    if (id === null || !a || a.cursor === null || pick.pool === null) return;
    more.disabled = true;
    try {
      const next = await app.api.memory<MemoryAnswer>(id, { pool: pick.pool, mode: a.mode, limit: MEMORY_PAGE, cursor: a.cursor, ...(a.t !== null && { t: a.t }), ...(a.mode === 'range' && { t0: a.t0 ?? 0, t1: a.t ?? 0 }) });
      if (answer !== a) return;
      rows = rows.concat(next.allocations).slice(0, MEMORY_MAX_ROWS);
      answer = { ...a, cursor: rows.length >= MEMORY_MAX_ROWS ? null : next.cursor };
      render();
    } catch (e) {
      shell.setState('error', errorText(e));
    } finally {
      more.disabled = false;
    }
  });

  function render(): void {
    syncControls();
    const a = answer;
    const el = shell.element;
    if (a?.t !== null && a?.t !== undefined) el.dataset.t = String(a.t);
    else delete el.dataset.t;
    atLine.textContent = !a
      ? 'Click the memory-usage plot (or Alt+click the timeline) to see the allocations alive at that time.'
      : a.mode === 'leaks'
        ? `Never freed by ${formatTimestamp(a.lastNs)} (the session's last event)`
        : a.mode === 'range'
          ? `Made in ${formatTimestamp(a.t0 ?? 0)} + ${formatDuration((a.t ?? 0) - (a.t0 ?? 0))} and alive at its end`
          : `Alive at ${formatTimestamp(a.t ?? 0)}`;
    summary.replaceChildren();
    more.hidden = !a || a.cursor === null || view !== 'list';
    if (!a) return content.replaceChildren();
    summary.dataset.count = String(a.active.count);
    summary.dataset.bytes = String(a.active.bytes);
    const window = a.mode === 'range' ? 'in the range' : 'so far';
    summary.append(
      h('div', { class: 'memory-active', text: `${formatCount(a.active.count)} allocations alive, ${formatBytes(a.active.bytes)}` }),
      h('div', { class: 'muted small', text: `${formatCount(a.window.allocs)} allocated ${window} (${formatBytes(a.window.allocatedBytes)}), ${formatCount(a.window.frees)} freed; peak ${a.peak.bytes === null ? '-' : `${formatBytes(a.peak.bytes)} at ${formatTimestamp(a.peak.timeNs ?? 0)}`}` }),
      h('div', { class: 'muted small', text: `pool ${a.pool.name}: ${formatCount(a.pool.allocs)} allocations, ${formatCount(a.pool.frees)} frees, ${formatBytes(a.pool.allocatedBytes)} allocated in all${a.pool.unknownFrees ? `, ${formatCount(a.pool.unknownFrees)} frees of unknown addresses` : ''}` }),
      a.pool.storedRecords < a.pool.records ? h('div', { class: 'muted small', text: `records before ${formatTimestamp(a.pool.evictedBeforeNs)} were evicted by the memory budget (${formatCount(a.pool.liveEvicted.count)} live allocations, ${formatBytes(a.pool.liveEvicted.bytes)}, are not listed)` }) : '',
    );
    if (view === 'list') renderList(a);
    else if (view === 'size') renderGroups(['size', 'count', 'bytes'], a.bySize.map((g) => ({ key: String(g.size), label: formatBytes(g.size), ...g })), a.bySizeOther);
    else if (view === 'zone') renderGroups(['zone', 'count', 'bytes'], a.byZone.map((g) => ({ key: String(g.srcloc), label: g.zone ?? '(no zone)', ...g })), a.byZoneOther);
    else if (view === 'stack') renderStacks(a);
    else renderHistogram(a);
  }

  function renderList(a: MemoryAnswer): void {
    const table = allocationTable(app, rows, sort, (next) => {
      sort = next;
      render();
    });
    const note = h('div', { class: 'muted table-note', text: rows.length < a.active.count ? `showing ${formatCount(rows.length)} of ${formatCount(a.active.count)} (in allocation order)` : '' });
    content.replaceChildren(table, note);
  }

  function renderGroups(cols: [string, string, string], groups: { key: string; label: string; count: number; bytes: number }[], other: { groups: number; count: number; bytes: number }): void {
    const head = h('thead', {}, h('tr', {}, h('th', { text: cols[0] }), h('th', { class: 'num', text: 'allocations' }), h('th', { class: 'num', text: 'bytes' })));
    const tbody = h('tbody');
    for (const g of groups) tbody.append(h('tr', { data: { key: g.key, count: g.count, bytes: g.bytes } }, h('td', { class: 'name-cell', text: g.label }), h('td', { class: 'num', text: formatCount(g.count) }), h('td', { class: 'num', text: formatBytes(g.bytes) })));
    const note = other.count > 0 ? h('div', { class: 'muted table-note', text: `and ${formatCount(other.groups)} more groups: ${formatCount(other.count)} allocations, ${formatBytes(other.bytes)}` }) : null;
    content.replaceChildren(h('table', { class: 'memory-groups' }, head, tbody), note ?? '');
  }

  /**
   * Grouped by alloc callstack (largest first, as the server orders them): the innermost
   * function that is not Tracy's own, allocations, bytes. A row click shows or hides the frames
   * in a row under it; the group of allocations without a callstack has none to show.
   */
  function renderStacks(a: MemoryAnswer): void {
    // a server before issue 17 does not group by stack
    const groups = a.byStack ?? [];
    const head = h('thead', {}, h('tr', {}, h('th', { text: 'stack (innermost function)' }), h('th', { class: 'num', text: 'allocations' }), h('th', { class: 'num', text: 'bytes' })));
    const tbody = h('tbody');
    for (const g of groups) {
      const has = g.callstack !== 0;
      const tr = h(
        'tr',
        { class: has ? 'stack-group' : 'stack-group none', data: { key: String(g.callstack), callstack: g.callstack, top: g.top, count: g.count, bytes: g.bytes }, title: has ? 'click to show the call stack' : 'allocated without a call stack' },
        h('td', { class: 'name-cell mono', text: has ? g.top || `#${g.callstack}` : '(no call stack)' }),
        h('td', { class: 'num', text: formatCount(g.count) }),
        h('td', { class: 'num', text: formatBytes(g.bytes) }),
      );
      tbody.append(tr);
      if (!has) continue;
      tr.setAttribute('aria-expanded', String(openStacks.has(g.callstack)));
      const frames = () => h('tr', { class: 'stack-frames', data: { callstack: g.callstack } }, h('td', { attrs: { colspan: '3' } }, callstackBlock(app, g.callstack)));
      if (openStacks.has(g.callstack)) tbody.append(frames());
      clickable(tr, () => {
        const open = !openStacks.has(g.callstack);
        if (open) {
          openStacks.add(g.callstack);
          tr.after(frames());
        } else {
          openStacks.delete(g.callstack);
          const next = tr.nextElementSibling;
          if (next?.classList.contains('stack-frames')) next.remove();
        }
        tr.setAttribute('aria-expanded', String(open));
      });
    }
    const other = a.byStackOther ?? { groups: 0, count: 0, bytes: 0 };
    const note = other.count > 0 ? h('div', { class: 'muted table-note', text: `and ${formatCount(other.groups)} more stacks: ${formatCount(other.count)} allocations, ${formatBytes(other.bytes)}` }) : null;
    const empty = groups.length === 0 ? h('div', { class: 'muted table-note', text: a.byStack ? 'No allocations.' : 'This server does not group allocations by call stack.' }) : null;
    content.replaceChildren(h('table', { class: 'memory-groups memory-stacks' }, head, tbody), note ?? '', empty ?? '');
  }

  function renderHistogram(a: MemoryAnswer): void {
    const ks = usedBuckets(a.histogram.counts);
    const max = Math.max(1, ...ks.map((k) => a.histogram.counts[k]!));
    const tbody = h('tbody');
    for (const k of ks) {
      const n = a.histogram.counts[k]!;
      const bar = h('div', { class: 'memory-bar', attrs: { style: `width:${((100 * n) / max).toFixed(1)}%` } });
      tbody.append(h('tr', { data: { bucket: k, count: n } }, h('td', { class: 'num', text: bucketLabel(k) }), h('td', { class: 'num', text: formatCount(n) }), h('td', { class: 'memory-bar-cell' }, bar)));
    }
    content.replaceChildren(h('table', { class: 'memory-histogram' }, h('thead', {}, h('tr', {}, h('th', { class: 'num', text: 'size' }), h('th', { class: 'num', text: 'allocations' }), h('th', {}))), tbody));
  }

  app.on('session', () => openStacks.clear());
  app.on('data', () => {
    // the pool list follows the session's memory-usage series
    if (life.visible && pick.pool === null && pools().length > 0) life.reload('event');
  });

  const api = {
    id: 'memory',
    title: 'Memory',
    element: shell.element,
    activate: () => life.activate(),
    deactivate: () => life.deactivate(),
    state: () => ({ ...pick }),
    /** Shows another pool, mode or time (a click on the memory plot); reloads when visible. */
    pick(p: Partial<MemoryPick>): void {
      if (p.pool !== undefined) pick.pool = p.pool;
      if (p.mode !== undefined) pick.mode = p.mode;
      if (p.t !== undefined) pick.t = p.t;
      rows = [];
      if (life.visible) life.reload('event');
    },
  };
  return api;
}
