import type { SrclocStats } from '../../protocol/view/types.js';
import type { App } from '../app.js';
import { rgbCss, srclocRgb } from '../colors.js';
import { formatCount, formatDuration } from '../format.js';
import { chosenColumns, toggleColumn } from '../layout-state.js';
import { PanelLifecycle, PanelShell, clickable, errorText, h } from './panel-kit.js';
import type { Panel } from './panel.js';
import { type Column, type SortState, filterRows, nextSort, sortRows, sortableHead, updateSortHead } from './table.js';

/** Rows drawn at most; the rest are counted in a note (filter to reach them). */
export const STATS_MAX_ROWS = 500;

/** "file:line", or the file alone when the line is unknown (0). */
export function locationText(s: Pick<SrclocStats, 'file' | 'line'>): string {
  if (!s.file) return '';
  return s.line > 0 ? `${s.file}:${s.line}` : s.file;
}

/** "dir/file.cpp:12" -> "file.cpp:12": the side panel is narrow; the full path is the cell's title. */
export function shortLocation(loc: string): string {
  const i = Math.max(loc.lastIndexOf('/'), loc.lastIndexOf('\\'));
  return i >= 0 ? loc.slice(i + 1) : loc;
}

const DURATION_KEYS = ['total', 'self', 'mean', 'median', 'p99', 'max'] as const;
const FIELD: Record<(typeof DURATION_KEYS)[number], keyof SrclocStats> = { total: 'totalNs', self: 'selfNs', mean: 'meanNs', median: 'medianNs', p99: 'p99Ns', max: 'maxNs' };

export const STATS_COLUMNS: Column<SrclocStats>[] = [
  { key: 'name', label: 'name', value: (s) => s.name },
  { key: 'location', label: 'location', value: (s) => locationText(s) },
  { key: 'count', label: 'count', numeric: true, value: (s) => s.count },
  ...DURATION_KEYS.map((key) => ({ key, label: key, numeric: true, value: (s: SrclocStats) => s[FIELD[key]] as number })),
];

export const STATS_COLUMN_KEYS = STATS_COLUMNS.map((c) => c.key);
/** columns the picker cannot hide */
export const STATS_REQUIRED = ['name'];

/** Where the chosen columns are kept (the page layout: panel-layout.ts); null = all. */
export interface ColumnStore {
  get(): string[] | null;
  set(cols: string[] | null): void;
}

function memoryStore(): ColumnStore {
  let c: string[] | null = null;
  return { get: () => c, set: (x) => (c = x) };
}

/**
 * Statistics per source location over app.analysisRange() (GET /stats): sortable by any
 * column, filtered by name, the first STATS_MAX_ROWS rows drawn. A row click highlights that
 * source location's zones in the timeline (app.setHighlight). The columns shown are chosen in
 * the Columns picker; a line under the controls says which ones are hidden by that choice or
 * cut off by the panel's width (scroll right, or widen / maximize the panel).
 */
export function createStatsPanel(app: App, store: ColumnStore = memoryStore()): Panel {
  const shell = new PanelShell();
  const filter = h('input', { id: 'stats-filter', attrs: { type: 'search', placeholder: 'filter by name', 'aria-label': 'Filter statistics' } });
  const summary = h('span', { class: 'muted stats-summary' });
  const pickerLabel = h('summary', { text: 'Columns' });
  const pickerList = h('div', { class: 'column-picker-list' });
  const picker = h('details', { id: 'stats-columns', class: 'column-picker' }, pickerLabel, pickerList);
  const colNote = h('div', { class: 'muted stats-columns-note', attrs: { role: 'status' } });
  shell.head.append(h('div', { class: 'panel-controls' }, filter, picker, summary), colNote);
  let sort: SortState = { key: 'total', dir: 'desc' };
  let shownKeys = chosenColumns(STATS_COLUMN_KEYS, store.get(), STATS_REQUIRED);
  const makeHead = () =>
    sortableHead(
      STATS_COLUMNS.filter((c) => shownKeys.includes(c.key)),
      sort,
      (key, numeric) => {
        sort = nextSort(sort, key, numeric);
        updateSortHead(thead, sort);
        render();
      },
    );
  let thead = makeHead();
  const tbody = h('tbody');
  const note = h('div', { class: 'muted table-note' });
  const table = h('table', { class: 'stats-table' }, thead, tbody);
  shell.body.append(table, note);
  let stats: SrclocStats[] = [];

  for (const c of STATS_COLUMNS) {
    const box = h('input', { attrs: { type: 'checkbox' }, data: { col: c.key } });
    box.disabled = STATS_REQUIRED.includes(c.key);
    box.addEventListener('change', () => {
      store.set(toggleColumn(STATS_COLUMN_KEYS, store.get(), c.key, box.checked, STATS_REQUIRED));
      columnsChanged();
    });
    pickerList.append(h('label', {}, box, ` ${c.label}`));
  }

  function columnsChanged(): void {
    shownKeys = chosenColumns(STATS_COLUMN_KEYS, store.get(), STATS_REQUIRED);
    for (const box of pickerList.querySelectorAll<HTMLInputElement>('input[data-col]')) box.checked = shownKeys.includes(box.dataset.col!);
    pickerLabel.textContent = `Columns (${shownKeys.length}/${STATS_COLUMN_KEYS.length})`;
    const next = makeHead();
    table.replaceChild(next, thead);
    thead = next;
    render();
  }

  /** Says which columns are not in view: hidden by the choice, or past the panel's right edge. */
  function updateColumnNote(): void {
    const hidden = STATS_COLUMN_KEYS.filter((k) => !shownKeys.includes(k));
    // the box that scrolls the table (#panel-body), else the panel's own body
    const view = shell.element.closest<HTMLElement>('#panel-body') ?? shell.body;
    const right = view.getBoundingClientRect().left + view.clientLeft + view.clientWidth;
    const clipped: string[] = [];
    if (view.clientWidth > 0 && !shell.element.hidden) {
      for (const th of thead.querySelectorAll<HTMLElement>('th[data-sort-key]')) {
        // a column counts as cut off when less than half of it is in view
        const r = th.getBoundingClientRect();
        if (r.left + r.width / 2 > right + 0.5) clipped.push(th.dataset.sortKey!);
      }
    }
    const parts: string[] = [];
    if (clipped.length) parts.push(`${clipped.length} column${clipped.length > 1 ? 's' : ''} out of view (${clipped.join(', ')}): scroll right, or widen or maximize the panel`);
    if (hidden.length) parts.push(`${hidden.length} hidden by the Columns choice (${hidden.join(', ')})`);
    colNote.textContent = parts.join('; ');
    colNote.hidden = parts.length === 0;
    colNote.dataset.clipped = clipped.join(',');
    colNote.dataset.hidden = hidden.join(',');
  }

  const life = new PanelLifecycle(app, {
    reloadOn: ['session', 'selection'],
    load: async (reason, isCurrent) => {
      const at = shell.begin(app, () => {
        stats = [];
        render();
      });
      if (at === null) return;
      const { id, range } = at;
      if (reason !== 'timer') shell.setState('loading', 'Loading statistics...');
      try {
        const list = await app.api.stats(id, range ?? undefined);
        if (!isCurrent()) return;
        stats = list.filter((s) => s.count > 0);
        render();
        shell.setState(stats.length ? 'ready' : 'empty', stats.length ? '' : 'No zones in this range.');
      } catch (e) {
        if (isCurrent()) shell.setState('error', errorText(e));
      }
    },
  });

  function render(): void {
    const shown = filterRows(stats, filter.value, (s) => s.name);
    const sorted = sortRows(shown, STATS_COLUMNS, sort);
    const rows = sorted.slice(0, STATS_MAX_ROWS).map(row);
    tbody.replaceChildren(...rows);
    let zones = 0;
    for (const s of stats) zones += s.count;
    summary.textContent = `${formatCount(stats.length)} source locations, ${formatCount(zones)} zones`;
    note.textContent = sorted.length > STATS_MAX_ROWS ? `showing ${formatCount(STATS_MAX_ROWS)} of ${formatCount(sorted.length)} rows: filter to see the others` : shown.length < stats.length ? `${formatCount(shown.length)} of ${formatCount(stats.length)} rows match the filter` : '';
    note.dataset.shown = String(rows.length);
    note.dataset.total = String(sorted.length);
    updateColumnNote();
  }

  function row(s: SrclocStats): HTMLTableRowElement {
    const rgb = s.color !== 0 ? s.color & 0xffffff : srclocRgb(app.srclocs[s.srcloc], s.name);
    const loc = locationText(s);
    const tr = h(
      'tr',
      { data: { srcloc: s.srcloc }, class: app.highlight === s.srcloc ? 'selected' : '', title: `${s.name}\n${s.function}\n${loc}\nmin ${formatDuration(s.minNs)}, p90 ${formatDuration(s.p90Ns)}` },
    );
    for (const key of shownKeys) {
      if (key === 'name') tr.append(h('td', { class: 'name-cell', data: { col: key } }, h('span', { class: 'swatch', attrs: { style: `background:${rgbCss(rgb)}` } }), s.name));
      else if (key === 'location') tr.append(h('td', { class: 'muted loc-cell', text: shortLocation(loc), title: loc, data: { location: loc, col: key } }));
      else if (key === 'count') tr.append(h('td', { class: 'num', text: formatCount(s.count), data: { count: s.count, col: key } }));
      else {
        const ns = s[FIELD[key as (typeof DURATION_KEYS)[number]]] as number;
        tr.append(h('td', { class: 'num', text: formatDuration(ns), data: { ns, col: key } }));
      }
    }
    clickable(tr, () => app.setHighlight(s.srcloc));
    return tr;
  }

  filter.addEventListener('input', render);
  // horizontal scrolling of #panel-body brings cut-off columns into view
  document.addEventListener('scroll', () => life.visible && updateColumnNote(), { capture: true, passive: true });
  new ResizeObserver(() => life.visible && updateColumnNote()).observe(shell.body);
  columnsChanged();
  app.on('highlight', () => {
    for (const tr of tbody.querySelectorAll<HTMLTableRowElement>('tr[data-srcloc]')) tr.classList.toggle('selected', Number(tr.dataset.srcloc) === app.highlight);
  });

  return {
    id: 'stats',
    title: 'Stats',
    element: shell.element,
    activate: () => life.activate(),
    deactivate: () => life.deactivate(),
  };
}
