import type { LockSummary } from '../../protocol/view/types.js';
import type { App } from '../app.js';
import { formatCount, formatDuration, formatTimestamp } from '../format.js';
import { LOCK_CSS } from '../timeline/lock-painter.js';
import { PanelLifecycle, PanelShell, clickable, errorText, h } from './panel-kit.js';
import type { Panel } from './panel.js';
import { type Column, type SortState, nextSort, sortRows, sortableHead, updateSortHead } from './table.js';

/** The Locks panel's columns: what GET /locks gives per lock over the range. */
export const LOCK_COLUMNS: Column<LockSummary>[] = [
  { key: 'name', label: 'lock', value: (l) => l.name },
  { key: 'acquisitions', label: 'acq.', numeric: true, title: 'acquisitions starting in the range', value: (l) => l.acquisitions },
  { key: 'contended', label: 'contended', numeric: true, title: 'acquisitions during whose hold another thread waited', value: (l) => l.contended },
  { key: 'waitTotal', label: 'wait', numeric: true, title: 'total time waiting to obtain', value: (l) => l.waitTotalNs },
  { key: 'waitMax', label: 'max wait', numeric: true, title: 'longest wait: click the row to jump to it', value: (l) => l.waitMaxNs },
  { key: 'holdTotal', label: 'hold', numeric: true, title: 'total time held', value: (l) => l.holdTotalNs },
  { key: 'holdMax', label: 'max hold', numeric: true, value: (l) => l.holdMaxNs },
];

/**
 * Every lock over app.analysisRange() (GET /locks): acquisitions, contended acquisitions, total
 * and longest wait and hold, sortable by any column. A row click shows the longest wait in the
 * timeline (app.jumpTo its wait and hold).
 */
export function createLocksPanel(app: App): Panel {
  const shell = new PanelShell();
  const summary = h('span', { class: 'muted stats-summary' });
  const legend = h(
    'span',
    { class: 'muted lock-legend' },
    ...(['wait', 'hold', 'shared', 'contended'] as const).map((k) => h('span', { class: 'lock-key' }, h('span', { class: 'swatch', attrs: { style: `background:${LOCK_CSS[k]}` } }), k === 'shared' ? 'shared hold' : k)),
  );
  shell.head.append(h('div', { class: 'panel-controls' }, summary, legend));
  let sort: SortState = { key: 'waitTotal', dir: 'desc' };
  const thead = sortableHead(LOCK_COLUMNS, sort, (key, numeric) => {
    sort = nextSort(sort, key, numeric);
    updateSortHead(thead, sort);
    render();
  });
  const tbody = h('tbody');
  shell.body.append(h('table', { class: 'stats-table locks-table' }, thead, tbody));
  let locks: LockSummary[] = [];

  const life = new PanelLifecycle(app, {
    reloadOn: ['session', 'selection'],
    load: async (reason, isCurrent) => {
      const at = shell.begin(app, () => {
        locks = [];
        render();
      });
      if (at === null) return;
      const { id, range } = at;
      if (reason !== 'timer') shell.setState('loading', 'Loading locks...');
      try {
        const r = await app.api.locks(id, range ?? undefined);
        if (!isCurrent()) return;
        locks = r.locks;
        render();
        shell.setState(locks.length ? 'ready' : 'empty', locks.length ? '' : 'No locks in this session.');
      } catch (e) {
        if (isCurrent()) shell.setState('error', errorText(e));
      }
    },
  });

  function render(): void {
    tbody.replaceChildren(...sortRows(locks, LOCK_COLUMNS, sort).map(row));
    let acq = 0;
    for (const l of locks) acq += l.acquisitions;
    summary.textContent = `${formatCount(locks.length)} ${locks.length === 1 ? 'lock' : 'locks'}, ${formatCount(acq)} acquisitions`;
  }

  function row(l: LockSummary): HTMLTableRowElement {
    const w = l.worstWait;
    const title = [`${l.name}${l.shared ? ' (shared lock)' : ''}`, `contended time ${formatDuration(l.contendedTotalNs)}`];
    if (w) title.push(`longest wait: ${w.threadName ?? `thread ${w.thread}`} at ${formatTimestamp(w.startNs)} (click to show)`);
    const tr = h(
      'tr',
      { data: { lock: l.id }, title: title.join('\n') },
      h('td', { class: 'name-cell', text: l.shared ? `${l.name} (shared)` : l.name }),
      h('td', { class: 'num', text: formatCount(l.acquisitions), data: { col: 'acquisitions', value: l.acquisitions } }),
      h('td', { class: 'num', text: formatCount(l.contended), data: { col: 'contended', value: l.contended } }),
    );
    for (const [col, ns] of [
      ['waitTotal', l.waitTotalNs],
      ['waitMax', l.waitMaxNs],
      ['holdTotal', l.holdTotalNs],
      ['holdMax', l.holdMaxNs],
    ] as const) {
      tr.append(h('td', { class: 'num', text: formatDuration(ns), data: { col, ns } }));
    }
    if (w) clickable(tr, () => app.jumpTo(w.startNs, w.endNs - w.startNs));
    return tr;
  }

  return {
    id: 'locks',
    title: 'Locks',
    element: shell.element,
    activate: () => life.activate(),
    deactivate: () => life.deactivate(),
  };
}
