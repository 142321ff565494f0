import type { ZoneMatch, ZoneSearchResult } from '../../protocol/view/types.js';
import type { App } from '../app.js';
import { rgbCss, srclocRgb } from '../colors.js';
import { formatCount, formatDuration, formatTimestamp } from '../format.js';
import { hideTooltip, showTooltip } from '../tooltip.js';
import { renderHistogram } from './histogram.js';
import { PanelLifecycle, PanelShell, clickable, errorText, h, threadLabel, threadNames } from './panel-kit.js';
import type { Panel } from './panel.js';
import { type Column, type SortState, nextSort, sortRows, sortableHead, updateSortHead } from './table.js';

/** Matches asked for (the server returns the first ones by start time). */
export const FIND_LIMIT = 1000;

let openHandler: ((query: string) => void) | null = null;

/**
 * Shows the find panel with `query` in its box and runs the search (the details panel's Find
 * button). Switches tabs by clicking #tab-find, so the panel host stays the one owner of tabs.
 */
export function openFind(query: string): void {
  openHandler?.(query);
}

interface MatchRow {
  index: number;
  match: ZoneMatch;
  name: string;
  thread: string;
}

/**
 * Find zone, like Tracy's: zones whose source-location name contains the text, over
 * app.analysisRange(): the matching locations with counts, the duration histogram and the first
 * FIND_LIMIT matches; a match click shows the zone in the timeline and selects it.
 */
export function createFindPanel(app: App): Panel {
  const shell = new PanelShell();
  const input = h('input', { id: 'find-input', attrs: { type: 'search', placeholder: 'zone name contains...', 'aria-label': 'Zone name', autocomplete: 'off' } });
  const go = h('button', { id: 'find-go', text: 'Find' });
  const logY = h('input', { id: 'find-log', attrs: { type: 'checkbox', 'aria-label': 'Logarithmic counts' } });
  shell.head.append(h('div', { class: 'panel-controls' }, input, go, h('label', { class: 'muted', title: 'histogram heights on a log scale' }, logY, ' log counts')));
  const summary = h('div', { class: 'find-summary' });
  const srclocBody = h('tbody');
  const srclocTable = h('table', { class: 'find-srclocs' }, h('thead', {}, h('tr', {}, h('th', { text: 'source location' }), h('th', { text: 'count', class: 'num' }))), srclocBody);
  const histHost = h('div', { class: 'find-histogram' });
  const note = h('div', { class: 'muted find-note' });
  const matchBody = h('tbody');
  let sort: SortState = { key: 'start', dir: 'asc' };
  const columns: Column<MatchRow>[] = [
    { key: 'start', label: 'start', numeric: true, value: (r) => r.match.startNs },
    { key: 'duration', label: 'duration', numeric: true, value: (r) => r.match.durNs },
    { key: 'thread', label: 'thread', value: (r) => r.thread },
    { key: 'name', label: 'name', value: (r) => r.name },
  ];
  const matchHead = sortableHead(columns, sort, (key, numeric) => {
    sort = nextSort(sort, key, numeric);
    updateSortHead(matchHead, sort);
    renderMatches();
  });
  const matchTable = h('table', { class: 'find-matches' }, matchHead, matchBody);
  shell.body.append(summary, srclocTable, histHost, note, matchTable);

  /** the query shown (the last one run) */
  let query = '';
  let result: ZoneSearchResult | null = null;
  let rows: MatchRow[] = [];
  let selectedMatch = -1;

  const life = new PanelLifecycle(app, {
    reloadOn: ['session', 'selection'],
    load: async (reason, isCurrent) => {
      const at = shell.begin(app, () => clear('empty', 'No session.'));
      if (at === null) return;
      const { id, range } = at;
      if (query === '') return clear('empty', 'Type part of a zone name and press Enter.');
      if (reason !== 'timer') shell.setState('loading', `Searching "${query}"...`);
      try {
        const q = query;
        const [res, names] = await Promise.all([app.api.search(id, q, range ?? undefined, FIND_LIMIT), threadNames(app)]);
        if (!isCurrent()) return;
        result = res;
        const srclocNames = new Map(res.srclocs.map((s) => [s.srcloc, s.name]));
        rows = res.matches.map((match, index) => ({ index, match, name: srclocNames.get(match.srcloc) ?? `#${match.srcloc}`, thread: threadLabel(names, match.thread) }));
        render();
        shell.setState(res.total === 0 ? 'empty' : 'ready', res.total === 0 ? `No zone in this range matches "${q}".` : '');
      } catch (e) {
        if (isCurrent()) shell.setState('error', errorText(e));
      }
    },
  });

  function clear(state: 'empty', message: string): void {
    result = null;
    rows = [];
    render();
    shell.setState(state, message);
  }

  function run(): void {
    const q = input.value.trim();
    if (q !== query) selectedMatch = -1;
    query = q;
    life.reload('event');
  }

  function render(): void {
    const res = result;
    shell.body.hidden = res === null;
    if (!res) return;
    summary.textContent = `${formatCount(res.total)} zones match "${res.query}" in ${res.srclocs.filter((s) => s.count > 0).length} of ${res.srclocs.length} source locations`;
    summary.dataset.total = String(res.total);
    srclocBody.replaceChildren(
      ...res.srclocs
        .slice()
        .sort((a, b) => b.count - a.count)
        .map((s) => {
          const rgb = srclocRgb(app.srclocs[s.srcloc], s.name);
          const tr = h(
            'tr',
            { data: { srcloc: s.srcloc, count: s.count }, class: app.highlight === s.srcloc ? 'selected' : '', title: 'highlight these zones in the timeline' },
            h('td', {}, h('span', { class: 'swatch', attrs: { style: `background:${rgbCss(rgb)}` } }), s.name),
            h('td', { class: 'num', text: formatCount(s.count), data: { count: s.count } }),
          );
          clickable(tr, () => app.setHighlight(s.srcloc));
          return tr;
        }),
    );
    const { edgesNs, counts } = res.histogram;
    histHost.replaceChildren(
      counts.length === 0
        ? h('span')
        : renderHistogram(edgesNs, counts, {
            logY: logY.checked,
            onHover: (i, x, y) => {
              if (i < 0) return hideTooltip();
              showTooltip(x, y, [`${formatCount(counts[i] ?? 0)} zones`, `${formatDuration(edgesNs[i] ?? 0)} – ${formatDuration(edgesNs[i + 1] ?? 0)}`]);
            },
          }),
    );
    note.textContent = res.total > res.matches.length ? `showing first ${formatCount(res.matches.length)} of ${formatCount(res.total)} (by start time)` : `showing all ${formatCount(res.total)}`;
    note.dataset.shown = String(res.matches.length);
    note.dataset.total = String(res.total);
    renderMatches();
  }

  function renderMatches(): void {
    matchBody.replaceChildren(
      ...sortRows(rows, columns, sort).map((r) => {
        const m = r.match;
        const tr = h(
          'tr',
          {
            class: r.index === selectedMatch ? 'selected' : '',
            data: { match: r.index, startNs: m.startNs, durNs: m.durNs, thread: m.thread, depth: m.depth, row: m.row, srcloc: m.srcloc },
          },
          h('td', { class: 'num mono', text: formatTimestamp(m.startNs) }),
          h('td', { class: 'num', text: formatDuration(m.durNs) }),
          h('td', { text: r.thread }),
          h('td', { text: r.name }),
        );
        clickable(tr, () => {
          selectedMatch = r.index;
          for (const el of matchBody.querySelectorAll('tr.selected')) el.classList.remove('selected');
          tr.classList.add('selected');
          app.jumpTo(m.startNs, m.durNs, { thread: m.thread, depth: m.depth, row: m.row });
        });
        return tr;
      }),
    );
  }

  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') run();
  });
  go.addEventListener('click', run);
  logY.addEventListener('change', render);
  app.on('highlight', () => {
    for (const tr of srclocBody.querySelectorAll<HTMLTableRowElement>('tr[data-srcloc]')) tr.classList.toggle('selected', Number(tr.dataset.srcloc) === app.highlight);
  });
  app.on('session', () => (selectedMatch = -1));

  openHandler = (q: string) => {
    input.value = q;
    query = q.trim();
    selectedMatch = -1;
    const tab = document.getElementById('tab-find');
    if (tab) tab.click();
    else life.reload('event');
  };
  render();

  return {
    id: 'find',
    title: 'Find',
    element: shell.element,
    activate: () => life.activate(),
    deactivate: () => life.deactivate(),
  };
}
