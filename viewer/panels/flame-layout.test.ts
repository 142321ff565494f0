import { describe, expect, it } from 'vitest';
import type { FlameNode } from '../../protocol/view/types.js';
import { ancestry, indexNodes, layoutFlame, nodeByPath, srclocPath } from './flame-layout.js';

function node(id: number, parent: number, srcloc: number, name: string, totalNs: number, children: number[] = []): FlameNode {
  return { id, parent, srcloc, name, count: 1, totalNs, selfNs: totalNs, children };
}

// all(1000) -> a(600) -> [c(300), d(0.5)]; all -> b(400)
const tree: FlameNode[] = [
  node(0, -1, -1, 'all', 1000, [2, 1]),
  node(1, 0, 10, 'a', 600, [3, 4]),
  node(2, 0, 11, 'b', 400),
  node(3, 1, 12, 'c', 300),
  node(4, 1, 13, 'd', 0.5),
];

describe('flame graph layout', () => {
  it('spans the root over the full width and children by their share of it, biggest first', () => {
    const { rects, rows } = layoutFlame(tree, 0, 100);
    expect(rects.find((r) => r.id === 0)).toEqual({ id: 0, depth: 0, x: 0, w: 100, ancestor: false });
    expect(rects.find((r) => r.id === 1)).toMatchObject({ depth: 1, x: 0, w: 60 });
    expect(rects.find((r) => r.id === 2)).toMatchObject({ depth: 1, x: 60, w: 40 });
    expect(rects.find((r) => r.id === 3)).toMatchObject({ depth: 2, x: 0, w: 30 });
    expect(rows).toBe(3);
  });

  it('skips nodes narrower than the minimum and counts them', () => {
    const { rects, skipped } = layoutFlame(tree, 0, 100, 1);
    expect(rects.some((r) => r.id === 4)).toBe(false);
    expect(skipped).toBe(1);
    expect(layoutFlame(tree, 0, 1000, 0.1).rects.some((r) => r.id === 4)).toBe(true);
  });

  it('counts as hidden a skipped node and every call path below it, and fewer as the width grows', () => {
    // all(1000) -> a(990) -> x(9.99) -> y(5) -> z(1); all -> b(10)
    const deep: FlameNode[] = [
      node(0, -1, -1, 'all', 1000, [1, 2]),
      node(1, 0, 10, 'a', 990, [3]),
      node(2, 0, 11, 'b', 10),
      node(3, 1, 12, 'x', 9.99, [4]),
      node(4, 3, 13, 'y', 5, [5]),
      node(5, 4, 14, 'z', 1),
    ];
    const narrow = layoutFlame(deep, 0, 50);
    expect(narrow.skipped).toBe(2); // b (0.5 px) and x (0.4995 px)
    expect(narrow.hidden).toBe(4); // b, x, y, z
    expect(narrow.rects.length + narrow.hidden).toBe(deep.length);
    const wide = layoutFlame(deep, 0, 150);
    expect(wide.hidden).toBe(2); // y (0.75 px) and z; b and x now 1.5 px
    const all = layoutFlame(deep, 0, 2000);
    expect([all.hidden, all.rects.length]).toEqual([0, 6]);
  });

  it('gives a zoomed node the full width and keeps its ancestors above it, full width', () => {
    const { rects, rows } = layoutFlame(tree, 1, 200);
    expect(rects.filter((r) => r.ancestor).map((r) => r.id)).toEqual([0]);
    expect(rects.find((r) => r.id === 1)).toEqual({ id: 1, depth: 1, x: 0, w: 200, ancestor: false });
    expect(rects.find((r) => r.id === 3)).toMatchObject({ depth: 2, x: 0, w: 100 });
    expect(rects.some((r) => r.id === 2)).toBe(false);
    expect(rows).toBe(3);
  });

  it('keeps children inside their parent when their totals add up to more', () => {
    const odd = [node(0, -1, -1, 'all', 100, [1]), node(1, 0, 1, 'p', 100, [2, 3]), node(2, 1, 2, 'x', 80), node(3, 1, 3, 'y', 80)];
    const { rects } = layoutFlame(odd, 0, 100);
    const y = rects.find((r) => r.id === 3)!;
    expect(y.x + y.w).toBeLessThanOrEqual(100);
  });

  it('draws only the root for an empty range', () => {
    const { rects, rows } = layoutFlame([node(0, -1, -1, 'all', 0)], 0, 300);
    expect(rects).toHaveLength(1);
    expect(rows).toBe(1);
  });

  it('falls back to the root for an unknown focus', () => {
    expect(layoutFlame(tree, 99, 100).rects[0]).toMatchObject({ id: 0, w: 100, ancestor: false });
  });

  it('finds a zoomed node again by its path of source locations after a reload renumbers nodes', () => {
    const byId = indexNodes(tree);
    expect(ancestry(byId, 3)).toEqual([0, 1, 3]);
    const path = srclocPath(byId, 3);
    expect(path).toEqual([10, 12]);
    const reloaded = [node(0, -1, -1, 'all', 10, [1, 2]), node(1, 0, 11, 'b', 5), node(2, 0, 10, 'a', 5, [3]), node(3, 2, 12, 'c', 1)];
    expect(nodeByPath(indexNodes(reloaded), path)).toBe(3);
    // a path that no longer exists ends at the deepest node found
    expect(nodeByPath(indexNodes(reloaded), [10, 99])).toBe(2);
    expect(nodeByPath(indexNodes(reloaded), [])).toBe(0);
  });
});
