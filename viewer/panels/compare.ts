import type { CompareFlame, CompareHistogram, CompareResult, CompareRow } from '../../protocol/view/compare-types.js';
import { DEFAULT_COMPARE_SORT, filterCompareRows, sortCompareRows } from '../../protocol/view/compare-sort.js';
import { ApiError } from '../api.js';
import type { App } from '../app.js';
import { formatCount } from '../format.js';
import { renderCompareFlame, renderOverlayHistogram } from './compare-charts.js';
import { changeClass, COMPARE_COLUMNS } from './compare-view.js';
import { PanelLifecycle, PanelShell, clickable, errorText, h } from './panel-kit.js';
import type { Panel } from './panel.js';
import { type SortState, nextSort, sortableHead, updateSortHead } from './table.js';

/** Rows drawn at most (filter to reach the others); rows fetched at most: the API's maximum. */
export const COMPARE_MAX_ROWS = 500;
const FETCH_LIMIT = 10_000;

const STYLE = `
.compare-table-wrap { overflow: auto; max-width: 100%; max-height: max(220px, 55vh); }
/* the name column stays in sight while the numbers scroll sideways */
.compare-table td.name-cell { position: sticky; left: 0; background: var(--bg2); z-index: 1; }
.compare-table th:first-child { left: 0; z-index: 2; }
.compare-table td.worse { color: #ff7b72; }
.compare-table td.better { color: #56d364; }
.compare-table td.only { color: var(--muted); font-style: italic; }
.compare-drop { border: 1px dashed var(--border); border-radius: 4px; padding: 2px 8px; }
.compare-drop.over { border-color: var(--accent); color: var(--accent); }
.cmp-hist-fill { position: absolute; bottom: 0; left: 0.5px; right: 0.5px; }
.cmp-legend { font-size: 12px; margin: 4px 0; }
.cmp-legend span { display: inline-block; width: 10px; height: 10px; margin: 0 3px 0 8px; vertical-align: middle; }
.compare-section { margin-top: 10px; font-weight: 600; }
`;

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = (await res.json()) as T & { error?: string; code?: string };
  if (!res.ok) throw new ApiError(res.status, body.code ?? 'ZS_HTTP', body.error ?? `HTTP ${res.status}`);
  return body;
}

/**
 * Compare (Tracy's compare window, pprof's -diff_base): this session (B) against a baseline (A):
 * another session, a stored capture, or a .zscap / Chrome JSON file dropped on the panel or
 * chosen (uploaded through POST /api/sessions/import, then compared). The table (GET
 * /api/compare) has per zone name count, total, mean, median and p99 of both and their change,
 * sorted like the API (the same sort keys and order), filtered by name; more time in B is red,
 * less green. A row click shows that name's two duration histograms overlaid on a log axis;
 * below, the flame graph of both merged by call path, coloured by change. B covers the range
 * selection (else the whole session), A the whole baseline.
 */
export function createComparePanel(app: App): Panel {
  const style = document.createElement('style');
  style.textContent = STYLE;
  document.head.append(style);

  const shell = new PanelShell();
  const baseline = h('select', { id: 'compare-baseline', attrs: { 'aria-label': 'Baseline (A)' } });
  const file = h('input', { id: 'compare-file', attrs: { type: 'file', accept: '.zscap,.json,.gz,.bin', hidden: '' } });
  const drop = h('button', { class: 'compare-drop', text: 'Baseline from file…', title: 'choose or drop a .zscap or Chrome trace (.json) to compare with' });
  const filter = h('input', { id: 'compare-filter', attrs: { type: 'search', placeholder: 'filter by name', 'aria-label': 'Filter compare' } });
  const summary = h('div', { class: 'muted compare-summary' });
  shell.head.append(h('div', { class: 'panel-controls' }, h('span', { text: 'A (baseline):' }), baseline, drop, file, filter), summary);
  let sort: SortState = { key: DEFAULT_COMPARE_SORT, dir: 'desc' };
  const thead = sortableHead(
    COMPARE_COLUMNS.map((c) => ({ key: c.key, label: c.label, title: c.title, numeric: c.key !== 'name', value: () => 0 })),
    sort,
    (key, numeric) => {
      sort = nextSort(sort, key, numeric);
      updateSortHead(thead, sort);
      render();
    },
  );
  const tbody = h('tbody');
  const note = h('div', { class: 'muted table-note' });
  const histogram = h('div', { id: 'compare-histogram' });
  const flame = h('div', { class: 'flame', id: 'compare-flame', attrs: { role: 'img', 'aria-label': 'Flame graph coloured by change' } });
  const flameInfo = h('div', { class: 'muted flame-info' });
  // the table scrolls inside its own box (both ways, its header sticky): the panel keeps the dock's width
  const tableWrap = h('div', { class: 'compare-table-wrap', id: 'compare-table-wrap' }, h('table', { class: 'stats-table compare-table' }, thead, tbody));
  shell.body.append(tableWrap, note, histogram, h('div', { class: 'compare-section', text: 'Flame graph: width = B, colour = change from A (red slower, green faster)' }), flameInfo, flame);

  let baselineId: string | null = null;
  let result: CompareResult | null = null;
  let flameNodes: CompareFlame['nodes'] = [];
  let selected: string | null = null;
  let histGeneration = 0;

  function query(): string {
    const range = app.analysisRange();
    const p = new URLSearchParams({ a: baselineId ?? '', b: app.sessionId ?? '' });
    if (range) {
      p.set('t0b', String(Math.round(range.t0)));
      p.set('t1b', String(Math.round(range.t1)));
    }
    return p.toString();
  }

  const life = new PanelLifecycle(app, {
    reloadOn: ['session', 'selection'],
    // a comparison walks two whole sessions: recomputed on a change of session, range or baseline, not on a timer
    liveRefreshMs: 0,
    load: async (_reason, isCurrent) => {
      shell.showRange(app.analysisRange());
      renderBaselines();
      if (app.sessionId === null) return clear('empty', 'No session.');
      if (baselineId === null) return clear('empty', 'Pick a baseline (A): another session, a stored capture, or drop a .zscap / Chrome trace here.');
      shell.setState('loading', 'Comparing...');
      const q = query();
      try {
        const body = await getJson<CompareResult>(`/api/compare?${q}&limit=${FETCH_LIMIT}`);
        if (!isCurrent()) return;
        result = body;
        render();
        shell.setState(body.rows.length ? 'ready' : 'empty', body.rows.length ? '' : 'No zones on either side.');
        if (selected !== null) void loadHistogram(selected);
        const f = await getJson<CompareFlame>(`/api/compare/flame?${q}`);
        if (!isCurrent()) return;
        flameNodes = f.nodes;
        flameInfo.textContent = `${formatCount(f.nodes.length - 1)} call paths${f.droppedNodes ? `, ${formatCount(f.droppedNodes)} left out (node cap)` : ''}`;
        flameInfo.dataset.nodes = String(renderCompareFlame(flame, flameNodes));
      } catch (e) {
        if (isCurrent()) shell.setState('error', errorText(e));
      }
    },
  });

  function clear(state: 'empty', message: string): void {
    result = null;
    flameNodes = [];
    render();
    histogram.replaceChildren();
    renderCompareFlame(flame, []);
    flameInfo.textContent = '';
    shell.setState(state, message);
  }

  function renderBaselines(): void {
    const opts = [h('option', { text: '— pick a baseline —', attrs: { value: '' } })];
    for (const s of app.sessions) {
      if (s.id === app.sessionId) continue;
      opts.push(h('option', { text: `${s.app ?? '?'} [${s.id}]${s.stored ? ' (stored)' : s.state !== 'ended' ? ' (live)' : ''}${s.source === 'import' ? ` ${s.remote}` : ''}`, attrs: { value: s.id } }));
    }
    if (baselineId !== null && !opts.some((o) => o.value === baselineId)) opts.push(h('option', { text: `session ${baselineId}`, attrs: { value: baselineId } }));
    baseline.replaceChildren(...opts);
    baseline.value = baselineId ?? '';
  }

  function render(): void {
    const rows = result ? sortCompareRows(filterCompareRows(result.rows, filter.value), sort.key, sort.dir) : [];
    tbody.replaceChildren(...rows.slice(0, COMPARE_MAX_ROWS).map(row));
    note.dataset.shown = String(Math.min(rows.length, COMPARE_MAX_ROWS));
    note.dataset.total = String(rows.length);
    note.textContent = rows.length > COMPARE_MAX_ROWS ? `showing ${formatCount(COMPARE_MAX_ROWS)} of ${formatCount(rows.length)} names: filter to see the others` : '';
    if (!result) return void (summary.textContent = '');
    const { a, b } = result;
    const cut = result.total > result.rows.length ? ` (the first ${formatCount(result.rows.length)} of ${formatCount(result.total)} names)` : '';
    summary.textContent = `A: ${a.app ?? '?'} [${a.id}], ${formatCount(a.zones)} zones; B: ${b.app ?? '?'} [${b.id}], ${formatCount(b.zones)} zones; ${formatCount(result.total)} names, ${formatCount(result.onlyA)} only in A, ${formatCount(result.onlyB)} only in B${cut}`;
  }

  function row(r: CompareRow): HTMLTableRowElement {
    const tr = h('tr', { data: { name: r.name }, class: r.name === selected ? 'selected' : '' });
    for (const c of COMPARE_COLUMNS) {
      const cls = c.key === 'name' ? 'name-cell' : `num${c.change ? ` ${changeClass(r, c.key)}` : ''}${r.change === null && c.key !== 'name' ? ' only' : ''}`;
      tr.append(h('td', { class: cls, text: c.text(r), data: { col: c.key } }));
    }
    if (r.change === null) tr.title = r.a ? 'only in A (gone from B)' : 'only in B (new)';
    clickable(tr, () => select(r.name));
    return tr;
  }

  function select(name: string): void {
    selected = name;
    for (const tr of tbody.querySelectorAll<HTMLTableRowElement>('tr[data-name]')) tr.classList.toggle('selected', tr.dataset.name === name);
    void loadHistogram(name);
  }

  async function loadHistogram(name: string): Promise<void> {
    const gen = ++histGeneration;
    histogram.dataset.state = 'loading';
    try {
      const hist = await getJson<CompareHistogram>(`/api/compare/histogram?${query()}&name=${encodeURIComponent(name)}`);
      if (gen !== histGeneration) return;
      histogram.replaceChildren(h('div', { class: 'compare-section', text: `Durations of ${name}` }), hist.edgesNs.length ? renderOverlayHistogram(hist) : h('div', { class: 'muted', text: 'no zones of this name in range' }));
      histogram.dataset.state = 'ready';
    } catch (e) {
      if (gen === histGeneration) histogram.replaceChildren(h('div', { class: 'error-text', text: errorText(e) }));
    }
  }

  async function useFile(f: File): Promise<void> {
    shell.setState('loading', `Uploading ${f.name} as the baseline...`);
    try {
      const res = await fetch(`/api/sessions/import?name=${encodeURIComponent(f.name)}`, { method: 'POST', body: f });
      const body = (await res.json()) as { id?: string; error?: string; code?: string };
      if (res.status !== 201 || body.id === undefined) throw new ApiError(res.status, body.code ?? 'ZS_HTTP', body.error ?? `HTTP ${res.status}`);
      baselineId = body.id;
      life.reload();
    } catch (e) {
      shell.setState('error', `Could not use ${f.name} as the baseline: ${errorText(e)}`);
    }
  }

  baseline.addEventListener('change', () => {
    baselineId = baseline.value || null;
    life.reload();
  });
  filter.addEventListener('input', render);
  drop.addEventListener('click', () => file.click());
  file.addEventListener('change', () => {
    const f = file.files?.[0];
    if (f) void useFile(f);
    file.value = '';
  });
  // a file dropped on the panel is a baseline, not a session to open (import-drop.ts handles the rest of the page)
  const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes('Files');
  for (const type of ['dragenter', 'dragover'] as const) {
    shell.element.addEventListener(type, (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.stopPropagation();
      drop.classList.add('over');
    });
  }
  shell.element.addEventListener('dragleave', () => drop.classList.remove('over'));
  shell.element.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.stopPropagation();
    drop.classList.remove('over');
    const f = e.dataTransfer?.files[0];
    if (f) void useFile(f);
  });
  app.on('sessions', () => life.visible && renderBaselines());
  app.on('session', () => {
    if (baselineId === app.sessionId) baselineId = null;
    selected = null;
    histogram.replaceChildren();
  });
  new ResizeObserver(() => life.visible && flameNodes.length && renderCompareFlame(flame, flameNodes)).observe(flame);

  return {
    id: 'compare',
    title: 'Compare',
    element: shell.element,
    activate: () => life.activate(),
    deactivate: () => life.deactivate(),
  };
}
