import type { SessionStore } from '../store/session-store.js';
import type { ThreadTimeline } from '../store/thread-timeline.js';
import { runInSlices, runToEnd, type SlicedQuery, type SliceOptions } from './query-slicer.js';
import { ThreadZoneWalk, ZoneWalks } from './zone-walk.js';
import type { RangeOptions } from './zone-stats.js';
import type { FlameNode } from '../../protocol/view/types.js';

/** Flame graph nodes (the shape the viewer receives: protocol/view/types.ts). */
export type { FlameNode };

/**
 * Most nodes one flame graph holds (node 0 included). A call tree is merged by source-location
 * path, so real sessions have hundreds to a few thousand; a pathological one (deep recursion
 * through many locations) could have one per zone. Past the cap, a zone that would need a new
 * node is left out with its subtree and counted in `droppedZones`.
 */
export const MAX_FLAME_NODES = 50_000;

export interface FlameGraph {
  nodes: FlameNode[];
  /** zones left out because the tree reached MAX_FLAME_NODES (their subtrees are not counted either) */
  droppedZones: number;
}

/**
 * The call tree of a range merged by source location path (all threads together): node 0 is
 * the root, whose total is the sum of the top-level zones' durations.
 *
 * A range holds the whole trees of the top-level zones that start in [t0, t1]: their
 * descendants count even when they start after t1, and zones whose top-level zone started
 * before t0 do not count. So every node's self time is its total minus its children's. A zone
 * whose parent was evicted is the top of what is left of its tree, shown under the root.
 */
export function flameGraph(store: SessionStore, options: RangeOptions = {}): FlameNode[] {
  return runToEnd(new FlameGraphQuery(store, options)).nodes;
}

/**
 * As flameGraph, computed in slices (query-slicer.ts), with the count of zones left out by
 * the node cap. Memory: the nodes plus 4 bytes per zone of two adjacent depths (reused).
 * @throws the abort reason of `slice.signal` when aborted between slices
 */
export function flameGraphSliced(store: SessionStore, options: RangeOptions = {}, slice: SliceOptions = {}): Promise<FlameGraph> {
  return runInSlices(new FlameGraphQuery(store, options), slice);
}

/** Rows per chunk of RowNodes (2^16 Int32 = 256 KiB). */
const ROW_CHUNK_SHIFT = 16;
const ROW_CHUNK = 1 << ROW_CHUNK_SHIFT;
/**
 * RowNodes chunks kept between queries, at most MAX_POOLED_CHUNKS (8 MiB): a flame graph over
 * millions of zones then reuses them instead of allocating tens of MiB that the garbage
 * collector must reclaim with a full pause.
 */
const MAX_POOLED_CHUNKS = 32;
const chunkPool: Int32Array[] = [];

/**
 * The node of every visited row of one depth, indexed by row - base: the walk visits a depth's
 * rows in ascending order, so rows not given a node (skipped, evicted) read as -1. Stored in
 * chunks taken from a pool that the depth two levels up (or an earlier query) gave back: after
 * the first two depths, walking millions of zones allocates nothing (no doubling copies).
 */
class RowNodes {
  private base = -1;
  private length = 0;
  private readonly chunks: Int32Array[] = [];


  set(row: number, node: number): void {
    if (this.base < 0) this.base = row;
    const at = row - this.base;
    while (this.length < at) this.push(-1);
    this.push(node);
  }

  get(row: number): number {
    const at = row - this.base;
    return this.base < 0 || at < 0 || at >= this.length ? -1 : this.chunks[at >>> ROW_CHUNK_SHIFT]![at & (ROW_CHUNK - 1)]!;
  }

  /** Gives the chunks back to the pool; the rows read as -1 from then on. */
  release(): void {
    for (const c of this.chunks) if (chunkPool.length < MAX_POOLED_CHUNKS) chunkPool.push(c);
    this.chunks.length = 0;
    this.length = 0;
    this.base = -1;
  }

  private push(node: number): void {
    const c = this.length >>> ROW_CHUNK_SHIFT;
    if (c === this.chunks.length) this.chunks.push(chunkPool.pop() ?? new Int32Array(ROW_CHUNK));
    this.chunks[c]![this.length & (ROW_CHUNK - 1)] = node;
    this.length++;
  }
}

export class FlameGraphQuery implements SlicedQuery<FlameGraph> {
  private readonly nodes: FlameNode[] = [{ id: 0, parent: -1, srcloc: -1, name: 'all', count: 0, totalNs: 0, selfNs: 0, children: [] }];
  /** node -> srcloc -> child node */
  private readonly childIndex = new Map<number, Map<number, number>>();
  private readonly walks: ZoneWalks;
  private droppedZones = 0;
  /** every RowNodes made, to give their chunks back when the query ends */
  private readonly rowNodes: RowNodes[] = [];

  constructor(
    private readonly store: SessionStore,
    options: RangeOptions = {},
  ) {
    const t0 = options.t0 ?? -Infinity;
    const t1 = options.t1 ?? Infinity;
    const walks: ThreadZoneWalk[] = [];
    for (const thread of store.threads.values()) {
      if (options.threads && !options.threads.includes(thread.id)) continue;
      walks.push(new ThreadZoneWalk(thread, t0, untilOf(thread, t1), this.visitor(t1)));
    }
    this.walks = new ZoneWalks(walks);
  }

  step(units: number): boolean {
    this.walks.step(units);
    return this.walks.done;
  }

  result(): FlameGraph {
    for (const r of this.rowNodes) r.release();
    this.rowNodes.length = 0;
    const nodes = this.nodes;
    nodes[0]!.count = nodes[0]!.children.reduce((a, c) => a + nodes[c]!.count, 0);
    return { nodes, droppedZones: this.droppedZones };
  }

  /** One thread's visitor: the nodes of its previous depth's rows are all it keeps. */
  private visitor(t1: number) {
    let depthNow = -1;
    let parents = new RowNodes();
    let current = new RowNodes();
    this.rowNodes.push(parents, current);
    return (depth: number, row: number, s: number, dur: number, selfNs: number, srcloc: number, parentRow: number): void => {
      if (depth !== depthNow) {
        // the new depth's parents are the rows just done, if that was the depth above
        parents.release();
        if (depth === depthNow + 1) [parents, current] = [current, parents];
        else current.release();
        depthNow = depth;
      }
      let parentNode = 0;
      if (depth > 0 && parentRow >= 0) {
        const p = parents.get(parentRow);
        if (p < 0) return; // its tree's top-level zone started before t0 (or was left out)
        parentNode = p;
      } else if (s > t1) {
        return; // a top-level zone (or an orphan) after the range
      }
      const node = this.nodeFor(parentNode, srcloc);
      if (node < 0) {
        this.droppedZones++;
        return;
      }
      const n = this.nodes[node]!;
      n.count++;
      n.totalNs += dur;
      n.selfNs += selfNs;
      if (parentNode === 0) this.nodes[0]!.totalNs += dur;
      current.set(row, node);
    };
  }

  /** The child of `parent` for `srcloc`, made if needed; -1 when the node cap is reached. */
  private nodeFor(parent: number, srcloc: number): number {
    let children = this.childIndex.get(parent);
    if (!children) {
      children = new Map();
      this.childIndex.set(parent, children);
    }
    let node = children.get(srcloc);
    if (node === undefined) {
      if (this.nodes.length >= MAX_FLAME_NODES) return -1;
      node = this.nodes.length;
      const store = this.store;
      this.nodes.push({ id: node, parent, srcloc, name: store.srclocs.displayName(srcloc, store.names.strings), count: 0, totalNs: 0, selfNs: 0, children: [] });
      this.nodes[parent]!.children.push(node);
      children.set(srcloc, node);
    }
    return node;
  }
}

/** Descendants of the last top-level zone starting by t1 start before it ends: walk until then. */
function untilOf(thread: ThreadTimeline, t1: number): number {
  const top = thread.depths[0];
  if (top === undefined || t1 === Infinity) return t1;
  const last = top.firstStartingAfter(t1) - 1;
  return last >= top.firstRow ? Math.max(t1, top.endAt(last)) : t1;
}
