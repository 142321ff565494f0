/**
 * The Profile panel's data, without DOM (unit-tested in node, stack-flame-data.test.ts): what
 * GET /stack-flame is asked for from the panel's choices, its nodes in the shape the flame
 * graph's layout takes (flame-layout.ts), values as samples or bytes, hover lines, the zoom's
 * identity across reloads, and the empty states.
 */
import type { FlameNode, StackFlameKind, StackFlameNode, StackFlameResult } from '../../protocol/view/types.js';
import type { StackFlameQuery } from '../api.js';
import type { TimeRange } from '../app.js';
import { formatBytes, formatCount, formatTimestamp } from '../format.js';
import { ancestry } from './flame-layout.js';

export const PROFILE_KINDS: readonly { kind: StackFlameKind; label: string; title: string }[] = [
  { kind: 'cpu', label: 'CPU', title: 'CPU samples taken in the range (or the whole session)' },
  { kind: 'inuse', label: 'In use', title: "memory alive at the range's end, else at the time clicked on a memory plot, else at the session's end" },
  { kind: 'alloc', label: 'Allocated', title: 'memory allocated in the range (or the whole session), freed or not' },
];

/** What the panel shows: the kind, the pool for memory kinds, the direction and the times it depends on. */
export interface ProfileChoice {
  kind: StackFlameKind;
  /** a memory pool as the Memory panel names it (its plot's name); null when the session has none */
  pool: string | null;
  /** bottom-up: callers under their callees */
  invert: boolean;
  /** the range selection */
  selection: TimeRange | null;
  /** the time last clicked on a memory plot (the Memory panel's pick), ns; null for none */
  clickedT: number | null;
  /** cpu: one thread's samples (its id and label), or null for every thread */
  thread?: { id: number; label: string } | null;
}

export interface ProfilePlan {
  /** GET /stack-flame's (and /pprof's) parameters */
  query: StackFlameQuery;
  /** what the graph shows, for the line above it */
  describe: string;
  /** the memory window that lists a clicked frame's allocations (with `frame` added); null for cpu */
  allocations: { mode: 'at' | 'made'; t?: number; t0?: number; t1?: number } | null;
  /** for the allocation list's heading */
  allocationsDescribe: string;
}

/**
 * The request for a choice:
 * - cpu: samples in the selection, else in the whole session;
 * - inuse: allocations alive at the selection's end, else at the clicked time, else at the
 *   session's end (no t1: the server's last event); a frame's allocations are GET /memory?t;
 * - alloc: allocations made in the selection, else in the whole session; a frame's allocations
 *   are those GET /memory?t0&t1&made=1 lists: every one made in the range, freed or not, as the
 *   graph counts them; the heading says so.
 */
export function profilePlan(c: ProfileChoice): ProfilePlan {
  const sel = c.selection;
  const pool = c.pool ?? undefined;
  const poolText = c.pool === null ? '' : ` (${c.pool})`;
  switch (c.kind) {
    case 'cpu':
      return {
        query: { kind: 'cpu', ...(sel && { t0: sel.t0, t1: sel.t1 }), ...(c.thread && { thread: c.thread.id }), invert: c.invert },
        describe: `CPU samples ${sel ? 'in the range' : 'in the whole session'}${c.thread ? ` on ${c.thread.label}` : ''}`,
        allocations: null,
        allocationsDescribe: '',
      };
    case 'inuse': {
      const t = sel ? sel.t1 : c.clickedT;
      const when = sel ? `at ${formatTimestamp(sel.t1)} (the range's end)` : t !== null ? `at ${formatTimestamp(t)} (the time clicked on the memory plot)` : "at the session's end";
      return {
        query: { kind: 'inuse', ...(t !== null && { t1: t }), pool, invert: c.invert },
        describe: `Memory in use ${when}${poolText}`,
        allocations: { mode: 'at', ...(t !== null && { t }) },
        allocationsDescribe: `alive ${when}`,
      };
    }
    case 'alloc':
      return {
        query: { kind: 'alloc', ...(sel && { t0: sel.t0, t1: sel.t1 }), pool, invert: c.invert },
        describe: `Memory allocated ${sel ? 'in the range' : 'in the whole session'}${poolText}`,
        allocations: { mode: 'made', t0: sel ? sel.t0 : 0, ...(sel && { t1: sel.t1 }) },
        allocationsDescribe: `made ${sel ? 'in the range' : 'in the session'}, freed or not`,
      };
  }
}

/** GET /stack-flame's answer: the contract's result, plus what the server counted without a callstack. */
export type StackFlameAnswer = StackFlameResult & {
  /** samples or allocations in the range that carry no callstack (not in the graph); absent from older servers */
  withoutStack?: { count: number; value: number };
};

/** The note on what the graph leaves out for want of a callstack ('' when nothing). */
export function withoutStackNote(r: Pick<StackFlameAnswer, 'kind' | 'withoutStack'>): string {
  const w = r.withoutStack;
  if (!w || w.count <= 0) return '';
  if (r.kind === 'cpu') return `${formatCount(w.count)} ${w.count === 1 ? 'sample' : 'samples'} without a call stack not drawn`;
  return `${formatCount(w.count)} ${w.count === 1 ? 'allocation' : 'allocations'} (${formatBytes(w.value)}) without a call stack not drawn`;
}

/** Why the graph is empty (null when it is not): says what was looked at. */
export function emptyMessage(c: ProfileChoice, r: Pick<StackFlameAnswer, 'total' | 'count' | 'withoutStack'>): string | null {
  if (r.count > 0 && r.total > 0) return null;
  const w = r.withoutStack;
  if (w && w.count > 0) {
    const what = c.kind === 'cpu' ? `The ${formatCount(w.count)} CPU samples` : `The ${formatCount(w.count)} allocations (${formatBytes(w.value)})`;
    return `${what} carry no call stack, so there is no graph to draw (Tracy sends stacks with the ...S macros, e.g. TracyAllocS, or with TRACY_CALLSTACK defined).`;
  }
  const where = c.selection ? 'this range' : 'this session';
  if (c.kind === 'cpu') return `No CPU samples in ${where}. Tracy sends them only when the app runs with sampling on and the system lets it sample (on Linux: root, or perf_event_paranoid at most 1).`;
  const pool = c.pool === null ? '' : ` of ${c.pool}`;
  if (c.kind === 'inuse') return `No allocations${pool} alive then.`;
  return `No allocations${pool} made in ${where}.`;
}

/** Without any memory pool there is nothing to draw for the memory kinds. */
export const NO_POOL_MESSAGE = 'No memory events in this session (TracyAlloc / TracyFree), so no memory profile.';

/** The nodes as the flame graph's layout takes them: value as totalNs, self as selfNs (no source locations). */
export function toFlameNodes(nodes: readonly StackFlameNode[]): FlameNode[] {
  return nodes.map((n) => ({ id: n.id, parent: n.parent, srcloc: -1, name: n.name, count: n.count, totalNs: n.value, selfNs: n.self, children: n.children }));
}

/** "1 sample", "1,234 samples", or bytes as "12.3 MiB". */
export function formatStackValue(value: number, unit: StackFlameResult['unit']): string {
  if (unit === 'bytes') return formatBytes(value);
  return `${formatCount(value)} ${value === 1 ? 'sample' : 'samples'}`;
}

/** "12.34%" of `whole` ("-" when whole is 0). */
export function share(part: number, whole: number): string {
  return whole > 0 ? `${((part / whole) * 100).toFixed(2)}%` : '-';
}

/** A node's file:line ('' when the server has no file for it). */
export function nodeLocation(n: Pick<StackFlameNode, 'file' | 'line'>): string {
  if (!n.file) return '';
  return n.line > 0 ? `${n.file}:${n.line}` : n.file;
}

/**
 * Hover lines: the name, file:line, value and its share of all (and of the zoomed node), self,
 * and how many samples or allocations.
 */
export function stackTooltip(n: StackFlameNode, root: StackFlameNode | undefined, focus: StackFlameNode | undefined, unit: StackFlameResult['unit']): string[] {
  const lines = [n.id === 0 ? 'all' : n.name];
  const loc = nodeLocation(n);
  if (loc) lines.push(loc);
  lines.push(`${formatStackValue(n.value, unit)} (${share(n.value, root?.value ?? 0)} of all)`);
  if (focus && focus.id !== 0 && focus.id !== n.id) lines.push(`${share(n.value, focus.value)} of ${focus.name}`);
  if (n.id !== 0) lines.push(`self ${formatStackValue(n.self, unit)}`);
  lines.push(unit === 'bytes' ? `${formatCount(n.count)} ${n.count === 1 ? 'allocation' : 'allocations'}` : `count ${formatCount(n.count)}`);
  return lines;
}

/** The function names from the root's child down to `id`: a node's identity across reloads. */
export function namePath(byId: Map<number, FlameNode>, id: number): string[] {
  return ancestry(byId, id)
    .slice(1)
    .map((n) => byId.get(n)!.name);
}

/** The node reached by following the names of `path` from the root, or the deepest one found on the way. */
export function nodeByNamePath(byId: Map<number, FlameNode>, path: readonly string[]): number {
  let node = byId.get(0);
  if (!node) return 0;
  for (const name of path) {
    let next: FlameNode | undefined;
    for (const c of node.children) {
      const n = byId.get(c);
      if (n && n.name === name) {
        next = n;
        break;
      }
    }
    if (!next) break;
    node = next;
  }
  return node.id;
}

/**
 * From `from` down to a leaf, always into the largest child (ties: the first by name): the
 * chain a reader's eye follows in a flame graph. Ids, `from` first.
 */
export function heaviestPath(byId: Map<number, FlameNode>, from = 0): number[] {
  const path: number[] = [];
  let node = byId.get(from);
  while (node && path.length <= byId.size) {
    path.push(node.id);
    let best: FlameNode | undefined;
    for (const c of node.children) {
      const n = byId.get(c);
      if (n && (!best || n.totalNs > best.totalNs || (n.totalNs === best.totalNs && n.name < best.name))) best = n;
    }
    node = best;
  }
  return path;
}
