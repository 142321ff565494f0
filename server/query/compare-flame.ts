import type { CompareSide } from './compare-table.js';
import { FlameGraphQuery, MAX_FLAME_NODES, type FlameGraph } from './flame-graph.js';
import { runInSlices, runToEnd, type SlicedQuery, type SliceOptions } from './query-slicer.js';
import type { CompareFlame, CompareFlameNode } from '../../protocol/view/compare-types.js';

/**
 * The flame graphs of both sides (flame-graph.ts, each over its own range) merged into one
 * tree by call path of names: a node is a path of zone names from the root, with A's and B's
 * count, total and self time (null on a side without that path), so the viewer colours each
 * node by its change. Paths are matched by name because source location indexes differ between
 * captures; several locations of one name under one parent become one node (their figures
 * added). At most MAX_FLAME_NODES merged nodes: a path past that is left out with its subtree
 * and counted in `droppedNodes`.
 */
export class CompareFlameQuery implements SlicedQuery<CompareFlame> {
  private readonly qa: FlameGraphQuery;
  private qb: FlameGraphQuery | null = null;
  private fa: FlameGraph | null = null;
  private fb: FlameGraph | null = null;
  private readonly nodes: CompareFlameNode[] = [{ id: 0, parent: -1, name: 'all', children: [], a: null, b: null }];
  /** merged parent id + '\u0000' + name -> merged id */
  private readonly index = new Map<string, number>();
  /** merge phase: the side (0 = A, 1 = B), its next node, and its nodes' merged ids (-1: left out) */
  private mergeSide = 0;
  private mergeAt = 0;
  private mergedOf: Int32Array = new Int32Array(0);
  private droppedNodes = 0;

  constructor(
    a: CompareSide,
    private readonly b: CompareSide,
  ) {
    this.qa = new FlameGraphQuery(a.store, a.range);
  }

  step(units: number): boolean {
    if (this.fa === null) {
      if (!this.qa.step(units)) return false;
      this.fa = this.qa.result();
      this.qb = new FlameGraphQuery(this.b.store, this.b.range);
      return false;
    }
    if (this.fb === null) {
      if (!this.qb!.step(units)) return false;
      this.fb = this.qb!.result();
      this.qb = null;
      return false;
    }
    let left = units;
    while (this.mergeSide < 2) {
      const graph = this.mergeSide === 0 ? this.fa : this.fb;
      const from = graph.nodes;
      if (this.mergeAt === 0) {
        this.mergedOf = new Int32Array(from.length).fill(-1);
        this.mergedOf[0] = 0;
        this.add(0, from[0]!);
        this.mergeAt = 1;
      }
      // a flame graph's nodes come after their parents (flame-graph.ts makes them so)
      for (; this.mergeAt < from.length; this.mergeAt++) {
        if (left-- <= 0) return false;
        const n = from[this.mergeAt]!;
        const parent = this.mergedOf[n.parent]!;
        if (parent < 0) continue; // its parent was left out
        const id = this.nodeFor(parent, n.name);
        if (id < 0) continue;
        this.mergedOf[this.mergeAt] = id;
        this.add(id, n);
      }
      this.mergeSide++;
      this.mergeAt = 0;
    }
    return true;
  }

  result(): CompareFlame {
    return { nodes: this.nodes, droppedZones: { a: this.fa!.droppedZones, b: this.fb!.droppedZones }, droppedNodes: this.droppedNodes };
  }

  private add(id: number, n: { count: number; totalNs: number; selfNs: number }): void {
    const node = this.nodes[id]!;
    const key = this.mergeSide === 0 ? 'a' : 'b';
    const f = (node[key] ??= { count: 0, totalNs: 0, selfNs: 0 });
    f.count += n.count;
    f.totalNs += n.totalNs;
    f.selfNs += n.selfNs;
  }

  private nodeFor(parent: number, name: string): number {
    const key = `${parent}\u0000${name}`;
    let id = this.index.get(key);
    if (id === undefined) {
      if (this.nodes.length >= MAX_FLAME_NODES) {
        this.droppedNodes++;
        return -1;
      }
      id = this.nodes.length;
      this.nodes.push({ id, parent, name, children: [], a: null, b: null });
      this.nodes[parent]!.children.push(id);
      this.index.set(key, id);
    }
    return id;
  }
}

/** compareFlame at once (in-process callers, tests). */
export function compareFlame(a: CompareSide, b: CompareSide): CompareFlame {
  return runToEnd(new CompareFlameQuery(a, b));
}

/**
 * As compareFlame, in slices. Memory: both sides' flame graphs (at most MAX_FLAME_NODES nodes
 * each) and the merged tree (at most as many).
 * @throws the abort reason of `slice.signal` when aborted between slices
 */
export function compareFlameSliced(a: CompareSide, b: CompareSide, slice: SliceOptions = {}): Promise<CompareFlame> {
  return runInSlices(new CompareFlameQuery(a, b), slice);
}
