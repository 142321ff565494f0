import type { CompareRow, CompareSideStats } from './compare-types.js';

/**
 * The order of compare rows, shared by the server (GET /api/compare?sort=) and the viewer's
 * table (which sorts the rows it holds the same way), so both always agree.
 *
 * A key is `name`, or FIGURE-SIDE with FIGURE one of count, total, mean, median, p99 and SIDE
 * `a` (A's value), `b` (B's value), `change` (B - A) or `pct` ((B - A) / A x 100). Rows without
 * a value for the key (a name on one side only has no change) go last in either order; ties go
 * by name, ascending, so the order is total and stable.
 */

export const COMPARE_FIGURES = ['count', 'total', 'mean', 'median', 'p99'] as const;
export type CompareFigure = (typeof COMPARE_FIGURES)[number];
export const COMPARE_SIDES = ['a', 'b', 'change', 'pct'] as const;
export type CompareSortSide = (typeof COMPARE_SIDES)[number];

/** Every valid sort key: 'name' and FIGURE-SIDE. */
export const COMPARE_SORT_KEYS: readonly string[] = ['name', ...COMPARE_FIGURES.flatMap((f) => COMPARE_SIDES.map((s) => `${f}-${s}`))];

/** Default order of the API and the viewer: the biggest growth of total time first. */
export const DEFAULT_COMPARE_SORT = 'total-change';

const FIELD: Record<CompareFigure, keyof CompareSideStats> = { count: 'count', total: 'totalNs', mean: 'meanNs', median: 'medianNs', p99: 'p99Ns' };

export function isCompareSortKey(key: string): boolean {
  return COMPARE_SORT_KEYS.includes(key);
}

/** The number a row sorts by for `key` (not 'name'), or null when it has none. */
export function compareSortValue(row: CompareRow, key: string): number | null {
  const dash = key.lastIndexOf('-');
  const figure = key.slice(0, dash) as CompareFigure;
  const side = key.slice(dash + 1) as CompareSortSide;
  const field = FIELD[figure];
  if (field === undefined) return null;
  switch (side) {
    case 'a':
      return row.a ? row.a[field] : null;
    case 'b':
      return row.b ? row.b[field] : null;
    case 'change':
      return row.change ? row.change[field].abs : null;
    case 'pct':
      return row.change ? row.change[field].pct : null;
    default:
      return null;
  }
}

const byName = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

/**
 * A sorted copy of `rows` by `key` (see above) in `order`.
 * @throws TypeError for a key that is not in COMPARE_SORT_KEYS
 */
export function sortCompareRows(rows: readonly CompareRow[], key: string, order: 'asc' | 'desc'): CompareRow[] {
  if (!isCompareSortKey(key)) throw new TypeError(`unknown compare sort key ${key}`);
  const sign = order === 'asc' ? 1 : -1;
  if (key === 'name') return rows.slice().sort((x, y) => sign * byName(x.name, y.name));
  const keyed = rows.map((row) => ({ row, v: compareSortValue(row, key) }));
  keyed.sort((x, y) => {
    if (x.v === null || y.v === null) return x.v === y.v ? byName(x.row.name, y.row.name) : x.v === null ? 1 : -1;
    return sign * (x.v - y.v) || byName(x.row.name, y.row.name);
  });
  return keyed.map((k) => k.row);
}

/** Rows whose name contains `filter` (case-insensitive); all rows for ''. */
export function filterCompareRows(rows: readonly CompareRow[], filter: string): CompareRow[] {
  const f = filter.trim().toLowerCase();
  return f === '' ? rows.slice() : rows.filter((r) => r.name.toLowerCase().includes(f));
}
