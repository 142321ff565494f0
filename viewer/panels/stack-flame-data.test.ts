import { describe, expect, it } from 'vitest';
import type { StackFlameNode } from '../../protocol/view/types.js';
import { indexNodes, layoutFlame } from './flame-layout.js';
import { emptyMessage, withoutStackNote, formatStackValue, heaviestPath, namePath, nodeByNamePath, nodeLocation, profilePlan, share, stackTooltip, toFlameNodes, type ProfileChoice } from './stack-flame-data.js';

function node(id: number, parent: number, name: string, value: number, children: number[] = [], p: Partial<StackFlameNode> = {}): StackFlameNode {
  return { id, parent, name, file: `${name}.cpp`, line: id * 10, value, self: children.length ? 0 : value, count: value / 16, children, ...p };
}

// in use at the end of callstacks.client.bin's unnamed pool, top-down: the leaks under cs1_L3
const tree: StackFlameNode[] = [
  node(0, -1, 'all', 27_000, [1], { file: '', line: 0 }),
  node(1, 0, 'cs1_L3', 27_000, [2]),
  node(2, 1, 'cs1_deep', 27_000, [3, 4]),
  node(3, 2, 'cs1_leak_here', 26_640),
  node(4, 2, 'cs1_alloc_here', 360),
];

const choice = (p: Partial<ProfileChoice> = {}): ProfileChoice => ({ kind: 'inuse', pool: 'Memory usage', invert: false, selection: null, clickedT: null, ...p });

describe('what the Profile panel asks for', () => {
  it('asks for CPU samples of the selection, else of the whole session, without a pool', () => {
    expect(profilePlan(choice({ kind: 'cpu' })).query).toEqual({ kind: 'cpu', invert: false });
    const p = profilePlan(choice({ kind: 'cpu', selection: { t0: 5, t1: 9 }, invert: true }));
    expect(p.query).toEqual({ kind: 'cpu', t0: 5, t1: 9, invert: true });
    expect(p.describe).toBe('CPU samples in the range');
    expect(p.allocations).toBeNull();
    // one thread's samples: thread= in the query (and so in the pprof link), named in the line above the graph
    const one = profilePlan(choice({ kind: 'cpu', thread: { id: 7, label: 'Main thread (#7)' } }));
    expect(one.query).toEqual({ kind: 'cpu', thread: 7, invert: false });
    expect(one.describe).toBe('CPU samples in the whole session on Main thread (#7)');
  });

  it("asks for memory in use at the range's end first, then at the clicked time, then at the session's end", () => {
    const sel = profilePlan(choice({ selection: { t0: 1e9, t1: 2e9 }, clickedT: 5e8 }));
    expect(sel.query).toEqual({ kind: 'inuse', t1: 2e9, pool: 'Memory usage', invert: false });
    expect(sel.allocations).toEqual({ mode: 'at', t: 2e9 });
    expect(sel.describe).toBe("Memory in use at 2.000 000 000 s (the range's end) (Memory usage)");
    const clicked = profilePlan(choice({ clickedT: 5e8 }));
    expect(clicked.query).toEqual({ kind: 'inuse', t1: 5e8, pool: 'Memory usage', invert: false });
    expect(clicked.allocations).toEqual({ mode: 'at', t: 5e8 });
    expect(clicked.describe).toContain('the time clicked on the memory plot');
    const end = profilePlan(choice({}));
    expect(end.query).toEqual({ kind: 'inuse', pool: 'Memory usage', invert: false });
    expect(end.allocations).toEqual({ mode: 'at' });
    expect(end.describe).toBe("Memory in use at the session's end (Memory usage)");
  });

  it('asks for memory allocated in the range or the session, and lists every allocation of a frame made there, freed or not', () => {
    const sel = profilePlan(choice({ kind: 'alloc', selection: { t0: 3, t1: 7 }, clickedT: 5 }));
    expect(sel.query).toEqual({ kind: 'alloc', t0: 3, t1: 7, pool: 'Memory usage', invert: false });
    expect(sel.allocations).toEqual({ mode: 'made', t0: 3, t1: 7 });
    expect(sel.allocationsDescribe).toBe('made in the range, freed or not');
    const all = profilePlan(choice({ kind: 'alloc', pool: 'Memory usage: cs-pool' }));
    expect(all.query).toEqual({ kind: 'alloc', pool: 'Memory usage: cs-pool', invert: false });
    expect(all.allocations).toEqual({ mode: 'made', t0: 0 });
    expect(all.describe).toBe('Memory allocated in the whole session (Memory usage: cs-pool)');
  });
});

describe('the empty states', () => {
  it('says there are no CPU samples in the session, or in the range', () => {
    expect(emptyMessage(choice({ kind: 'cpu' }), { total: 0, count: 0 })).toMatch(/^No CPU samples in this session\./);
    expect(emptyMessage(choice({ kind: 'cpu', selection: { t0: 0, t1: 1 } }), { total: 0, count: 0 })).toMatch(/^No CPU samples in this range\./);
  });

  it('names the pool when no memory is in use or allocated, and is silent for a graph with data', () => {
    expect(emptyMessage(choice({}), { total: 0, count: 0 })).toBe('No allocations of Memory usage alive then.');
    expect(emptyMessage(choice({ kind: 'alloc' }), { total: 0, count: 0 })).toBe('No allocations of Memory usage made in this session.');
    expect(emptyMessage(choice({}), { total: 10, count: 1 })).toBeNull();
  });

  it('says when what there is carries no call stack, and notes what a graph leaves out for that', () => {
    expect(emptyMessage(choice({}), { total: 0, count: 0, withoutStack: { count: 3, value: 2048 } })).toMatch(/^The 3 allocations \(2\.00 KiB\) carry no call stack/);
    expect(emptyMessage(choice({ kind: 'cpu' }), { total: 0, count: 0, withoutStack: { count: 0, value: 0 } })).toMatch(/^No CPU samples in this session\./);
    expect(withoutStackNote({ kind: 'inuse', withoutStack: { count: 1, value: 40 } })).toBe('1 allocation (40 B) without a call stack not drawn');
    expect(withoutStackNote({ kind: 'cpu', withoutStack: { count: 2, value: 2 } })).toBe('2 samples without a call stack not drawn');
    expect(withoutStackNote({ kind: 'alloc', withoutStack: { count: 0, value: 0 } })).toBe('');
    expect(withoutStackNote({ kind: 'alloc' })).toBe('');
  });
});

describe('stack flame graph nodes', () => {
  it('lays out by value share with the flame graph layout', () => {
    const { rects } = layoutFlame(toFlameNodes(tree), 0, 1000);
    expect(rects.find((r) => r.id === 1)).toMatchObject({ depth: 1, x: 0, w: 1000 });
    const leak = rects.find((r) => r.id === 3)!;
    expect(leak).toMatchObject({ depth: 3, x: 0 });
    expect(leak.w).toBeCloseTo((26_640 / 27_000) * 1000, 9);
    expect(rects.find((r) => r.id === 4)!.x).toBeCloseTo(leak.w, 9);
  });

  it('follows the largest child down to the leaf that holds the most', () => {
    const byId = indexNodes(toFlameNodes(tree));
    expect(heaviestPath(byId).map((id) => byId.get(id)!.name)).toEqual(['all', 'cs1_L3', 'cs1_deep', 'cs1_leak_here']);
    expect(heaviestPath(byId, 4)).toEqual([4]);
    expect(heaviestPath(new Map())).toEqual([]);
  });

  it('finds a zoomed frame again by its path of function names after a reload renumbers nodes', () => {
    const byId = indexNodes(toFlameNodes(tree));
    expect(namePath(byId, 3)).toEqual(['cs1_L3', 'cs1_deep', 'cs1_leak_here']);
    const reloaded = toFlameNodes([node(0, -1, 'all', 10, [2]), node(1, 2, 'cs1_deep', 10, [3]), node(2, 0, 'cs1_L3', 10, [1]), node(3, 1, 'cs1_leak_here', 4)]);
    expect(nodeByNamePath(indexNodes(reloaded), ['cs1_L3', 'cs1_deep', 'cs1_leak_here'])).toBe(3);
    expect(nodeByNamePath(indexNodes(reloaded), ['cs1_L3', 'gone'])).toBe(2);
    expect(nodeByNamePath(indexNodes(reloaded), [])).toBe(0);
  });
});

describe('stack flame graph text', () => {
  it('formats values as samples or bytes', () => {
    expect(formatStackValue(1, 'samples')).toBe('1 sample');
    expect(formatStackValue(12_345, 'samples')).toBe('12,345 samples');
    expect(formatStackValue(26_640, 'bytes')).toBe('26.0 KiB');
    expect(share(1, 3)).toBe('33.33%');
    expect(share(1, 0)).toBe('-');
  });

  it('shows name, file:line, value, share of all and of the zoomed frame, self and count on hover', () => {
    const root = tree[0]!;
    expect(stackTooltip(tree[3]!, root, tree[2], 'bytes')).toEqual(['cs1_leak_here', 'cs1_leak_here.cpp:30', '26.0 KiB (98.67% of all)', '98.67% of cs1_deep', 'self 26.0 KiB', '1,665 allocations']);
    expect(stackTooltip(root, root, root, 'samples')).toEqual(['all', '27,000 samples (100.00% of all)', 'count 1,688']);
    expect(nodeLocation({ file: 'a.cpp', line: 0 })).toBe('a.cpp');
    expect(nodeLocation({ file: '', line: 3 })).toBe('');
  });
});
