/**
 * Sortable tables: the sort order (pure, unit-tested) and the header row that shows and changes
 * it (arrow, aria-sort, click to sort / toggle).
 */

export type SortDir = 'asc' | 'desc';

export interface SortState {
  key: string;
  dir: SortDir;
}

export interface Column<R> {
  key: string;
  label: string;
  /** right-aligned, and sorted descending on the first click */
  numeric?: boolean;
  title?: string;
  value(row: R): number | string;
}

/**
 * The order after a click on `key`: the same column toggles; another column starts descending
 * for numbers (the biggest first) and ascending for text.
 */
export function nextSort(state: SortState, key: string, numeric: boolean): SortState {
  if (state.key === key) return { key, dir: state.dir === 'desc' ? 'asc' : 'desc' };
  return { key, dir: numeric ? 'desc' : 'asc' };
}

/** Compares numbers numerically and text case-insensitively; NaN and '' sort last either way. */
export function compareValues(a: number | string, b: number | string, dir: SortDir): number {
  const aMissing = a === '' || (typeof a === 'number' && Number.isNaN(a));
  const bMissing = b === '' || (typeof b === 'number' && Number.isNaN(b));
  if (aMissing || bMissing) return aMissing === bMissing ? 0 : aMissing ? 1 : -1;
  let c: number;
  if (typeof a === 'number' && typeof b === 'number') c = a - b;
  else {
    const x = String(a).toLowerCase();
    const y = String(b).toLowerCase();
    c = x < y ? -1 : x > y ? 1 : 0;
  }
  return dir === 'asc' ? c : -c;
}

/** A sorted copy of `rows` (stable: equal rows keep their order). */
export function sortRows<R>(rows: readonly R[], columns: readonly Column<R>[], state: SortState): R[] {
  const col = columns.find((c) => c.key === state.key);
  if (!col) return rows.slice();
  const keyed = rows.map((row, i) => ({ row, i, v: col.value(row) }));
  keyed.sort((a, b) => compareValues(a.v, b.v, state.dir) || a.i - b.i);
  return keyed.map((k) => k.row);
}

/** Rows whose text (from `text`) contains `filter`, case-insensitive; all rows for ''. */
export function filterRows<R>(rows: readonly R[], filter: string, text: (row: R) => string): R[] {
  const f = filter.trim().toLowerCase();
  if (f === '') return rows.slice();
  return rows.filter((r) => text(r).toLowerCase().includes(f));
}

const ARROW: Record<SortDir, string> = { asc: ' ▲', desc: ' ▼' };

/**
 * A <thead> of `columns` (th data-sort-key=KEY, class "num" for numbers); a click calls
 * `onSort(key, numeric)`. `updateSortHead` marks the sorted column.
 */
export function sortableHead<R>(columns: readonly Column<R>[], state: SortState, onSort: (key: string, numeric: boolean) => void): HTMLTableSectionElement {
  const thead = document.createElement('thead');
  const tr = document.createElement('tr');
  for (const c of columns) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.dataset.sortKey = c.key;
    if (c.numeric) th.className = 'num';
    if (c.title) th.title = c.title;
    const label = document.createElement('span');
    label.textContent = c.label;
    const arrow = document.createElement('span');
    arrow.className = 'sort-arrow';
    th.append(label, arrow);
    th.addEventListener('click', () => onSort(c.key, c.numeric === true));
    tr.append(th);
  }
  thead.append(tr);
  updateSortHead(thead, state);
  return thead;
}

export function updateSortHead(thead: HTMLTableSectionElement, state: SortState): void {
  for (const th of thead.querySelectorAll<HTMLTableCellElement>('th[data-sort-key]')) {
    const on = th.dataset.sortKey === state.key;
    th.setAttribute('aria-sort', on ? (state.dir === 'asc' ? 'ascending' : 'descending') : 'none');
    const arrow = th.querySelector('.sort-arrow');
    if (arrow) arrow.textContent = on ? ARROW[state.dir] : '';
  }
}
