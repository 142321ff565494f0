import type { FlameNode } from '../../protocol/view/types.js';

/**
 * Icicle layout of the flame graph (pure: unit-tested in node). The focus node spans the full
 * width; its ancestors sit above it, full width too (click one to zoom back out); its subtree
 * hangs below, each node as wide as its share of the focus node's total. Siblings go
 * left-heavy: biggest total first, ties by name, so the layout is stable between refreshes.
 */

export interface FlameRect {
  id: number;
  /** row from the top (0 = root) */
  depth: number;
  /** px from the left edge */
  x: number;
  /** px */
  w: number;
  /** an ancestor of the focus (drawn full width, dimmed) */
  ancestor: boolean;
}

export interface FlameLayout {
  rects: FlameRect[];
  /** rows used (deepest depth + 1) */
  rows: number;
  /** nodes not drawn because they were narrower than the minimum (their subtrees are not counted) */
  skipped: number;
  /** call paths under the focus not drawn: the skipped nodes and everything below them */
  hidden: number;
}

/** Nodes by id (the API numbers them by position, but nothing here relies on that). */
export function indexNodes(nodes: readonly FlameNode[]): Map<number, FlameNode> {
  const m = new Map<number, FlameNode>();
  for (const n of nodes) m.set(n.id, n);
  return m;
}

/** Ids from the root down to `id` (inclusive); [root] for an unknown id. */
export function ancestry(byId: Map<number, FlameNode>, id: number): number[] {
  const path: number[] = [];
  let n = byId.get(id);
  while (n) {
    path.push(n.id);
    if (n.parent < 0 || path.length > byId.size) break;
    n = byId.get(n.parent);
  }
  path.reverse();
  return path.length ? path : [0];
}

export function sortedChildren(byId: Map<number, FlameNode>, node: FlameNode): FlameNode[] {
  const out: FlameNode[] = [];
  for (const c of node.children) {
    const n = byId.get(c);
    if (n) out.push(n);
  }
  out.sort((a, b) => b.totalNs - a.totalNs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || a.id - b.id);
  return out;
}

export function layoutFlame(nodes: readonly FlameNode[], focusId: number, widthPx: number, minPx = 1): FlameLayout {
  const byId = indexNodes(nodes);
  const rects: FlameRect[] = [];
  let skipped = 0;
  let hidden = 0;
  if (!byId.has(focusId)) focusId = 0;
  const focus = byId.get(focusId);
  if (!focus) return { rects, rows: 0, skipped, hidden };
  const path = ancestry(byId, focusId);
  for (let i = 0; i < path.length; i++) rects.push({ id: path[i]!, depth: i, x: 0, w: widthPx, ancestor: i < path.length - 1 });
  let rows = path.length;
  if (focus.totalNs <= 0) return { rects, rows, skipped, hidden: subtreeSize(byId, focus) - 1 };
  const scale = widthPx / focus.totalNs;
  // depth-first with an explicit stack: call trees can be deeper than the JS stack
  const stack: { node: FlameNode; depth: number; x: number; w: number }[] = [{ node: focus, depth: path.length - 1, x: 0, w: widthPx }];
  while (stack.length) {
    const { node, depth, x, w } = stack.pop()!;
    let cx = x;
    const end = x + w;
    for (const child of sortedChildren(byId, node)) {
      const cw = Math.min(child.totalNs * scale, end - cx);
      if (cw < minPx) {
        skipped++;
        hidden += subtreeSize(byId, child);
        cx += Math.max(0, cw);
        continue;
      }
      rects.push({ id: child.id, depth: depth + 1, x: cx, w: cw, ancestor: false });
      rows = Math.max(rows, depth + 2);
      stack.push({ node: child, depth: depth + 1, x: cx, w: cw });
      cx += cw;
    }
  }
  return { rects, rows, skipped, hidden };
}

/** Nodes in the subtree of `node`, itself included (iterative: trees can be deep). */
export function subtreeSize(byId: Map<number, FlameNode>, node: FlameNode): number {
  let n = 0;
  const stack = [node];
  while (stack.length) {
    const x = stack.pop()!;
    n++;
    if (n > byId.size) break;
    for (const c of x.children) {
      const k = byId.get(c);
      if (k) stack.push(k);
    }
  }
  return n;
}

/** The source locations from the root's child down to `id`: a node's identity across reloads. */
export function srclocPath(byId: Map<number, FlameNode>, id: number): number[] {
  return ancestry(byId, id)
    .slice(1)
    .map((n) => byId.get(n)!.srcloc);
}

/** The node reached by following `path` from the root, or the deepest one found on the way. */
export function nodeByPath(byId: Map<number, FlameNode>, path: readonly number[]): number {
  let node = byId.get(0);
  if (!node) return 0;
  for (const srcloc of path) {
    let next: FlameNode | undefined;
    for (const c of node.children) {
      const n = byId.get(c);
      if (n && n.srcloc === srcloc) {
        next = n;
        break;
      }
    }
    if (!next) break;
    node = next;
  }
  return node.id;
}
