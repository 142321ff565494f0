import { describe, expect, it } from 'vitest';
import { type Column, compareValues, filterRows, nextSort, sortRows } from './table.js';

interface Row {
  name: string;
  n: number;
}
const columns: Column<Row>[] = [
  { key: 'name', label: 'name', value: (r) => r.name },
  { key: 'n', label: 'n', numeric: true, value: (r) => r.n },
];
const rows: Row[] = [
  { name: 'b', n: 2 },
  { name: 'A', n: 10 },
  { name: 'c', n: 2 },
  { name: '', n: Number.NaN },
];

describe('table sorting', () => {
  it('toggles the direction when the sorted column is clicked again', () => {
    expect(nextSort({ key: 'n', dir: 'desc' }, 'n', true)).toEqual({ key: 'n', dir: 'asc' });
    expect(nextSort({ key: 'n', dir: 'asc' }, 'n', true)).toEqual({ key: 'n', dir: 'desc' });
  });

  it('starts a new numeric column descending and a new text column ascending', () => {
    expect(nextSort({ key: 'name', dir: 'asc' }, 'n', true)).toEqual({ key: 'n', dir: 'desc' });
    expect(nextSort({ key: 'n', dir: 'desc' }, 'name', false)).toEqual({ key: 'name', dir: 'asc' });
  });

  it('sorts numbers numerically, not as text', () => {
    expect(sortRows(rows, columns, { key: 'n', dir: 'desc' }).map((r) => r.n)).toEqual([10, 2, 2, Number.NaN]);
  });

  it('keeps equal rows in their order in both directions', () => {
    expect(sortRows(rows, columns, { key: 'n', dir: 'asc' }).map((r) => r.name)).toEqual(['b', 'c', 'A', '']);
    expect(sortRows(rows, columns, { key: 'n', dir: 'desc' }).map((r) => r.name)).toEqual(['A', 'b', 'c', '']);
  });

  it('sorts text case-insensitively with missing values last', () => {
    expect(sortRows(rows, columns, { key: 'name', dir: 'asc' }).map((r) => r.name)).toEqual(['A', 'b', 'c', '']);
    expect(sortRows(rows, columns, { key: 'name', dir: 'desc' }).map((r) => r.name)).toEqual(['c', 'b', 'A', '']);
    expect(compareValues(Number.NaN, 1, 'asc')).toBe(1);
    expect(compareValues(1, Number.NaN, 'desc')).toBe(-1);
  });

  it('returns a copy in the original order for an unknown column', () => {
    const out = sortRows(rows, columns, { key: 'nope', dir: 'asc' });
    expect(out).toEqual(rows);
    expect(out).not.toBe(rows);
  });

  it('filters by a case-insensitive substring and keeps everything for a blank filter', () => {
    const named = [{ name: 'Update' }, { name: 'Update/Inner' }, { name: 'Frame' }];
    expect(filterRows(named, 'upd', (r) => r.name).map((r) => r.name)).toEqual(['Update', 'Update/Inner']);
    expect(filterRows(named, '  ', (r) => r.name)).toHaveLength(3);
  });
});
