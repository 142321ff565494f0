import type { SessionStore } from '../store/session-store.js';
import { walkThreadZones } from './zone-walk.js';
import type { RangeOptions } from './zone-stats.js';
import type { FlameNode } from '../../protocol/view/types.js';

/** Flame graph nodes (the shape the viewer receives: protocol/view/types.ts). */
export type { FlameNode };

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
  const t0 = options.t0 ?? -Infinity;
  const t1 = options.t1 ?? Infinity;
  const nodes: FlameNode[] = [{ id: 0, parent: -1, srcloc: -1, name: 'all', count: 0, totalNs: 0, selfNs: 0, children: [] }];
  const childIndex = new Map<number, Map<number, number>>(); // node -> srcloc -> child node
  for (const thread of store.threads.values()) {
    if (options.threads && !options.threads.includes(thread.id)) continue;
    // node of every visited zone, per depth, by row
    const nodeOfRow: Map<number, number>[] = [];
    // descendants of the last top-level zone starting by t1 start before it ends
    let until = t1;
    const top = thread.depths[0];
    if (top !== undefined && t1 < Infinity) {
      const last = top.firstStartingAfter(t1) - 1;
      if (last >= top.firstRow) until = Math.max(t1, top.endAt(last));
    }
    walkThreadZones(thread, t0, until, (depth, row, s, dur, selfNs, srcloc, parentRow) => {
      let parentNode = 0;
      if (depth > 0 && parentRow >= 0) {
        const p = nodeOfRow[depth - 1]?.get(parentRow);
        if (p === undefined) return; // its tree's top-level zone started before t0
        parentNode = p;
      } else if (s > t1) {
        return; // a top-level zone (or an orphan) after the range
      }
      let children = childIndex.get(parentNode);
      if (!children) {
        children = new Map();
        childIndex.set(parentNode, children);
      }
      let node = children.get(srcloc);
      if (node === undefined) {
        node = nodes.length;
        nodes.push({ id: node, parent: parentNode, srcloc, name: store.srclocs.displayName(srcloc, store.names.strings), count: 0, totalNs: 0, selfNs: 0, children: [] });
        nodes[parentNode]!.children.push(node);
        children.set(srcloc, node);
      }
      const n = nodes[node]!;
      n.count++;
      n.totalNs += dur;
      n.selfNs += selfNs;
      if (parentNode === 0) nodes[0]!.totalNs += dur;
      (nodeOfRow[depth] ??= new Map()).set(row, node);
    });
  }
  nodes[0]!.count = nodes[0]!.children.reduce((a, c) => a + nodes[c]!.count, 0);
  return nodes;
}
