import { addressHex, type CallstackTable } from '../../protocol/tracy/index.js';
import type { CallstackInfo, StackFlameKind, StackFlameNode, StackFrame } from '../../protocol/view/types.js';
import { ALLOC_MASK, ALLOC_ROWS, ALLOC_SHIFT } from '../store/alloc-log.js';
import type { MemoryPool, SessionStore } from '../store/session-store.js';
import type { TimeSeries } from '../store/time-series.js';
import { runInSlices, type SlicedQuery, type SliceOptions } from './query-slicer.js';

/**
 * Callstacks as the API shows them, and the stack profiles behind the CPU and memory flame
 * graphs and the pprof export: per distinct callstack, how many samples (cpu), or how many
 * allocations and bytes (inuse at t1, alloc in [t0, t1]) it holds. Totals are computed in slices
 * over the stored samples or allocation records (one unit per row looked at).
 */

/** Nodes of one stack flame graph at most; deeper paths are cut and counted (`cut`). */
export const MAX_STACK_FLAME_NODES = 50_000;

/** The frames of callstack `id`, innermost first, inlined frames expanded; null for an unknown id. */
export function callstackFrames(table: CallstackTable, id: number): StackFrame[] | null {
  const depth = table.depthOf(id);
  if (depth === 0) return null;
  const frames: StackFrame[] = [];
  for (let i = 0; i < depth; i++) {
    const address = addressHex(table.addressLo(id, i), table.addressHi(id, i));
    const answer = table.resolved(address);
    if (!answer || answer.frames.length === 0) {
      frames.push({ function: address, file: '', line: 0, image: answer?.image ?? '', address, inlined: false });
      continue;
    }
    const n = answer.frames.length;
    for (let j = 0; j < n; j++) {
      const f = answer.frames[j]!;
      frames.push({ function: f.function || address, file: f.file, line: f.line, image: answer.image, address, inlined: j < n - 1 });
    }
  }
  return frames;
}

export function callstackInfo(table: CallstackTable, id: number): CallstackInfo | null {
  const frames = callstackFrames(table, id);
  return frames === null ? null : { id, frames };
}

/**
 * Whether a frame is the profiler's own: Tracy's client functions (`tracy::...`) and its
 * force-inlined capture helper (`Callstack`, in TracyCallstack.hpp), which head every stack the
 * client captures.
 */
export function isProfilerFrame(f: StackFrame): boolean {
  return f.function.startsWith('tracy::') || f.function === 'Callstack' || /[/\\]TracyCallstack\.h(pp)?$/.test(f.file);
}

/** The innermost frame of the app's own (see isProfilerFrame), as a stack's one-line name. */
export function stackTopName(frames: readonly StackFrame[]): string {
  for (const f of frames) if (!isProfilerFrame(f)) return f.function;
  return frames[0]?.function ?? '';
}

/** Per callstack id: samples or allocations (count) and samples or bytes (value). */
export interface StackTotals {
  kind: StackFlameKind;
  t0: number;
  t1: number;
  count: Map<number, number>;
  value: Map<number, number>;
  /** samples or allocations in the range that carry no callstack */
  withoutStack: { count: number; value: number };
}

export interface StackTotalsOptions {
  kind: StackFlameKind;
  t0: number;
  t1: number;
  /** memory kinds: the pool (required) */
  pool?: MemoryPool;
  /** cpu: one thread's samples only */
  thread?: number;
}

function add(map: Map<number, number>, key: number, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

/** The resumable scan behind /stack-flame and /pprof. */
export class StackTotalsQuery implements SlicedQuery<StackTotals> {
  private readonly out: StackTotals;
  private readonly series: TimeSeries[];
  private seriesAt = 0;
  private segAt = 0;
  private rowAt = -1;
  private row: number;
  private readonly endRow: number;

  constructor(
    store: SessionStore,
    private readonly o: StackTotalsOptions,
  ) {
    this.out = { kind: o.kind, t0: o.t0, t1: o.t1, count: new Map(), value: new Map(), withoutStack: { count: 0, value: 0 } };
    if (o.kind === 'cpu') {
      this.series = o.thread === undefined ? [...store.samples.values()] : [store.samples.get(o.thread)].filter((s): s is TimeSeries => s !== undefined);
      this.row = this.endRow = 0;
    } else {
      if (!o.pool) throw new TypeError(`a ${o.kind} profile needs a memory pool`);
      this.series = [];
      this.row = o.pool.records.firstRow;
      this.endRow = o.pool.records.count; // records made while the query runs are not seen
    }
  }

  step(units: number): boolean {
    return this.o.kind === 'cpu' ? this.stepSamples(units) : this.stepRecords(units);
  }

  result(): StackTotals {
    return this.out;
  }

  private stepSamples(units: number): boolean {
    let budget = units;
    const { t0, t1 } = this.o;
    while (budget > 0 && this.seriesAt < this.series.length) {
      const segs = this.series[this.seriesAt]!.segments;
      if (this.segAt >= segs.length) {
        this.seriesAt++;
        this.segAt = 0;
        this.rowAt = -1;
        continue;
      }
      const seg = segs[this.segAt]!;
      if (seg.count === 0 || seg.maxTime < t0 || seg.minTime > t1) {
        this.segAt++;
        this.rowAt = -1;
        budget--;
        continue;
      }
      if (this.rowAt < 0) this.rowAt = seg.lowerBound(t0);
      const end = Math.min(seg.count, this.rowAt + budget);
      let i = this.rowAt;
      for (; i < end; i++) {
        if (seg.time[i]! > t1) break;
        const cs = seg.value[i]!;
        add(this.out.count, cs, 1);
        add(this.out.value, cs, 1);
      }
      budget -= i - this.rowAt + 1;
      if (i < end) {
        // past t1: this segment is done
        this.segAt++;
        this.rowAt = -1;
      } else if (end === seg.count) {
        this.segAt++;
        this.rowAt = -1;
      } else this.rowAt = end;
    }
    return this.seriesAt >= this.series.length;
  }

  private stepRecords(units: number): boolean {
    let budget = units;
    const log = this.o.pool!.records;
    const { kind, t0, t1 } = this.o;
    const out = this.out;
    while (budget > 0 && this.row < this.endRow) {
      if (this.row < log.firstRow) this.row = log.firstRow; // evicted meanwhile
      const seg = log.segmentOf(this.row);
      const base = (this.row >>> ALLOC_SHIFT) * ALLOC_ROWS;
      if (seg === null || seg.minAllocNs > t1) {
        this.row = base + ALLOC_ROWS;
        budget--;
        continue;
      }
      const end = Math.min(base + seg.count, this.endRow, this.row + budget);
      budget -= end - this.row;
      for (let r = Math.max(this.row, base + seg.firstSlot); r < end; r++) {
        const slot = r & ALLOC_MASK;
        const allocNs = seg.allocNs[slot]!;
        if (allocNs > t1) continue;
        // inuse: alive at t1; alloc: made in [t0, t1]
        const freeNs = seg.freeNs[slot]!;
        if (kind === 'inuse' ? !(freeNs > t1 || freeNs === Infinity) : allocNs < t0) continue;
        const cs = seg.allocStack[slot]!;
        const size = seg.size[slot]!;
        if (cs === 0) {
          out.withoutStack.count++;
          out.withoutStack.value += size;
          continue;
        }
        add(out.count, cs, 1);
        add(out.value, cs, size);
      }
      this.row = end >= base + seg.count ? base + ALLOC_ROWS : end;
    }
    return this.row >= this.endRow;
  }
}

export function stackTotalsSliced(store: SessionStore, o: StackTotalsOptions, slice: SliceOptions = {}): Promise<StackTotals> {
  return runInSlices(new StackTotalsQuery(store, o), slice);
}

/**
 * The flame graph of stack totals: paths of function names from the outermost caller to the
 * innermost frame (top-down), or the reverse (bottom-up, `invert`), merged by name. Frames of
 * the profiler's own (isProfilerFrame) at the innermost end are left out (Tracy's GUI shows
 * them): they say nothing about the app and would put the same helper at the tip of every stack.
 */
export function stackFlame(table: CallstackTable, totals: StackTotals, invert: boolean): { nodes: StackFlameNode[]; total: number; count: number; cut: number } {
  const nodes: StackFlameNode[] = [{ id: 0, parent: -1, name: 'all', file: '', line: 0, value: 0, self: 0, count: 0, children: [] }];
  const childByName: Map<string, number>[] = [new Map()];
  let cut = 0;
  for (const [cs, value] of totals.value) {
    const count = totals.count.get(cs) ?? 0;
    const all = callstackFrames(table, cs) ?? [];
    let inner = 0;
    while (inner < all.length - 1 && isProfilerFrame(all[inner]!)) inner++;
    const frames = all.slice(inner);
    const path = invert ? frames : frames.reverse();
    let at = 0;
    nodes[0]!.value += value;
    nodes[0]!.count += count;
    for (const f of path) {
      let next = childByName[at]!.get(f.function);
      if (next === undefined) {
        if (nodes.length >= MAX_STACK_FLAME_NODES) {
          cut++;
          break;
        }
        next = nodes.length;
        nodes.push({ id: next, parent: at, name: f.function, file: f.file, line: f.line, value: 0, self: 0, count: 0, children: [] });
        childByName.push(new Map());
        childByName[at]!.set(f.function, next);
        nodes[at]!.children.push(next);
      }
      at = next;
      nodes[at]!.value += value;
      nodes[at]!.count += count;
    }
    nodes[at]!.self += value;
  }
  for (const n of nodes) n.children.sort((a, b) => nodes[b]!.value - nodes[a]!.value);
  return { nodes, total: nodes[0]!.value, count: nodes[0]!.count, cut };
}

/** Callstack ids whose frames include function `name` (the flame graph's click filter), memoized per id. */
export function stackFilterByFunction(table: CallstackTable, name: string): (callstack: number) => boolean {
  const memo = new Map<number, boolean>();
  return (cs) => {
    if (cs === 0) return false;
    let hit = memo.get(cs);
    if (hit === undefined) {
      hit = (callstackFrames(table, cs) ?? []).some((f) => f.function === name);
      memo.set(cs, hit);
    }
    return hit;
  };
}
