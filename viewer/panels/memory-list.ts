import type { App } from '../app.js';
import { formatBytes, formatDuration, formatTimestamp } from '../format.js';
import { hexAddress, type MemoryAllocation } from './memory-data.js';
import { clickable, h } from './panel-kit.js';
import { type Column, type SortState, nextSort, sortRows, sortableHead } from './table.js';

export const ALLOCATION_COLUMNS: Column<MemoryAllocation>[] = [
  { key: 'address', label: 'address', value: (a) => a.address },
  { key: 'size', label: 'size', numeric: true, value: (a) => a.size },
  { key: 'thread', label: 'thread', value: (a) => a.threadName ?? `thread ${a.thread}` },
  { key: 'alloc', label: 'allocated at', numeric: true, value: (a) => a.allocNs },
  { key: 'age', label: 'age', numeric: true, value: (a) => a.ageNs },
  { key: 'zone', label: 'zone', value: (a) => a.zone ?? '' },
];

/**
 * A list of allocations (the Memory panel's, and the Profile panel's for a clicked frame):
 * table.memory-table, one row per allocation with data-address, data-size, ...; a header click
 * calls `onSort` with the next order; a row click centres the timeline on the allocation.
 */
export function allocationTable(app: App, rows: readonly MemoryAllocation[], sort: SortState, onSort: (next: SortState) => void): HTMLTableElement {
  const thead = sortableHead(ALLOCATION_COLUMNS, sort, (key, numeric) => onSort(nextSort(sort, key, numeric)));
  const tbody = h('tbody');
  for (const r of sortRows(rows, ALLOCATION_COLUMNS, sort)) {
    const tr = h(
      'tr',
      { data: { row: r.row, address: r.address, size: r.size, thread: r.thread, allocNs: r.allocNs, ageNs: r.ageNs, callstack: r.callstack ?? 0 }, title: r.freeNs === null ? 'not freed' : `freed at ${formatTimestamp(r.freeNs)}` },
      h('td', { class: 'mono', text: hexAddress(r.address) }),
      h('td', { class: 'num', text: formatBytes(r.size) }),
      h('td', { text: r.threadName ?? `thread ${r.thread}` }),
      h('td', { class: 'num', text: formatTimestamp(r.allocNs) }),
      h('td', { class: 'num', text: formatDuration(r.ageNs) }),
      h('td', { class: 'name-cell', text: r.zone ?? '' }),
    );
    clickable(tr, () => app.jumpTo(r.allocNs, Math.max(r.ageNs, 1000)));
    tbody.append(tr);
  }
  return h('table', { class: 'memory-table' }, thead, tbody);
}
