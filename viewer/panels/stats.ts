import type { SrclocStats } from '../../protocol/view/types.js';
import type { App } from '../app.js';
import { rgbCss, srclocRgb } from '../colors.js';
import { formatCount, formatDuration } from '../format.js';
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

/**
 * Statistics per source location over app.analysisRange() (GET /stats): sortable by any
 * column, filtered by name, the first STATS_MAX_ROWS rows drawn. A row click highlights that
 * source location's zones in the timeline (app.setHighlight).
 */
export function createStatsPanel(app: App): Panel {
  const shell = new PanelShell();
  const filter = h('input', { id: 'stats-filter', attrs: { type: 'search', placeholder: 'filter by name', 'aria-label': 'Filter statistics' } });
  const summary = h('span', { class: 'muted stats-summary' });
  shell.head.append(h('div', { class: 'panel-controls' }, filter, summary));
  let sort: SortState = { key: 'total', dir: 'desc' };
  const thead = sortableHead(STATS_COLUMNS, sort, (key, numeric) => {
    sort = nextSort(sort, key, numeric);
    updateSortHead(thead, sort);
    render();
  });
  const tbody = h('tbody');
  const note = h('div', { class: 'muted table-note' });
  shell.body.append(h('table', { class: 'stats-table' }, thead, tbody), note);
  let stats: SrclocStats[] = [];

  const life = new PanelLifecycle(app, {
    reloadOn: ['session', 'selection'],
    load: async (reason, isCurrent) => {
      const range = app.analysisRange();
      shell.showRange(range);
      const id = app.sessionId;
      if (id === null) {
        stats = [];
        render();
        return shell.setState('empty', 'No session.');
      }
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
  }

  function row(s: SrclocStats): HTMLTableRowElement {
    const rgb = s.color !== 0 ? s.color & 0xffffff : srclocRgb(app.srclocs[s.srcloc], s.name);
    const loc = locationText(s);
    const tr = h(
      'tr',
      { data: { srcloc: s.srcloc }, class: app.highlight === s.srcloc ? 'selected' : '', title: `${s.name}\n${s.function}\n${loc}\nmin ${formatDuration(s.minNs)}, p90 ${formatDuration(s.p90Ns)}` },
      h('td', { class: 'name-cell' }, h('span', { class: 'swatch', attrs: { style: `background:${rgbCss(rgb)}` } }), s.name),
      h('td', { class: 'muted loc-cell', text: shortLocation(loc), title: loc, data: { location: loc } }),
      h('td', { class: 'num', text: formatCount(s.count), data: { count: s.count } }),
    );
    for (const key of DURATION_KEYS) {
      const ns = s[FIELD[key]] as number;
      tr.append(h('td', { class: 'num', text: formatDuration(ns), data: { ns, col: key } }));
    }
    clickable(tr, () => app.setHighlight(s.srcloc));
    return tr;
  }

  filter.addEventListener('input', render);
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
