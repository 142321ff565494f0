import { describe, expect, it } from 'vitest';
import type { CompareFlameNode, CompareRow } from '../../protocol/view/compare-types.js';
import { changeClass, changeRgb, COMPARE_COLUMNS, flameNodesOf, pctText } from './compare-view.js';
import { COMPARE_SORT_KEYS } from '../../protocol/view/compare-sort.js';

const stats = (ns: number) => ({ count: 10, totalNs: 10 * ns, meanNs: ns, medianNs: ns, p99Ns: ns });

describe('the compare panel', () => {
  it('has a column per API sort key it shows, each sortable by the server', () => {
    for (const c of COMPARE_COLUMNS) expect(COMPARE_SORT_KEYS).toContain(c.key);
    expect(new Set(COMPARE_COLUMNS.map((c) => c.key)).size).toBe(COMPARE_COLUMNS.length);
  });

  it('marks more time in B as worse, less as better, and a name on one side as neither', () => {
    const slower: CompareRow = { name: 'x', a: stats(100), b: stats(150), change: { count: { abs: 0, pct: 0 }, totalNs: { abs: 500, pct: 50 }, meanNs: { abs: 50, pct: 50 }, medianNs: { abs: 50, pct: 50 }, p99Ns: { abs: 50, pct: 50 } } };
    expect(changeClass(slower, 'median-pct')).toBe('worse');
    expect(changeClass({ ...slower, change: { ...slower.change!, medianNs: { abs: -5, pct: -5 } } }, 'median-pct')).toBe('better');
    expect(changeClass({ ...slower, change: { ...slower.change!, medianNs: { abs: 0, pct: 0 } } }, 'median-change')).toBe('');
    expect(changeClass({ name: 'y', a: null, b: stats(1), change: null }, 'median-pct')).toBe('');
  });

  it('writes percentages with a sign, "new" for growth from zero', () => {
    expect(pctText(12.345)).toBe('+12.3%');
    expect(pctText(-4)).toBe('-4.0%');
    expect(pctText(250)).toBe('+250%');
    expect(pctText(null)).toBe('new');
    expect(pctText(undefined)).toBe('');
  });

  it('colours an unchanged path grey, a grown one red and a shrunk one green, saturating at +-100 %', () => {
    expect(changeRgb(100, 100)).toBe(0x6b707a);
    expect(changeRgb(100, 200)).toBe(0xe03b3b);
    expect(changeRgb(100, 500)).toBe(0xe03b3b);
    expect(changeRgb(0, 5)).toBe(0xe03b3b);
    expect(changeRgb(100, 0)).toBe(0x2fb35a);
    const half = changeRgb(100, 150);
    expect(half >> 16).toBeGreaterThan(0x6b);
    expect(half >> 16).toBeLessThan(0xe0);
  });

  it("lays the merged flame graph out by B's totals, and by A's for paths gone from B", () => {
    const nodes: CompareFlameNode[] = [
      { id: 0, parent: -1, name: 'all', children: [1, 2], a: { count: 2, totalNs: 30, selfNs: 0 }, b: { count: 1, totalNs: 40, selfNs: 0 } },
      { id: 1, parent: 0, name: 'kept', children: [], a: { count: 1, totalNs: 10, selfNs: 10 }, b: { count: 1, totalNs: 40, selfNs: 40 } },
      { id: 2, parent: 0, name: 'gone', children: [], a: { count: 1, totalNs: 20, selfNs: 20 }, b: null },
    ];
    expect(flameNodesOf(nodes).map((n) => [n.name, n.totalNs])).toEqual([['all', 40], ['kept', 40], ['gone', 20]]);
  });
});
