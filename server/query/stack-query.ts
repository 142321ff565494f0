import type { CallstackTable, ResolvedAddress } from '../../protocol/tracy/index.js';
import type { CallstackInfo, StackFlameKind, StackFlameNode, StackFrame } from '../../protocol/view/types.js';
import { ALLOC_MASK, ALLOC_ROWS, ALLOC_SHIFT } from '../store/alloc-log.js';
import type { MemoryPool, SessionStore } from '../store/session-store.js';
import type { TimeSeries } from '../store/time-series.js';
import { runInSlices, runToEnd, type SlicedQuery, type SliceOptions } from './query-slicer.js';

/**
 * Callstacks as the API shows them, and the stack profiles behind the CPU and memory flame
 * graphs and the pprof export: per distinct callstack, how many samples (cpu), or how many
 * allocations and bytes (inuse at t1, alloc in [t0, t1]) it holds. Totals are computed in slices
 * over the stored samples or allocation records (one unit per row looked at).
 */

/** Nodes of one stack flame graph at most; deeper paths are cut and counted (`cut`). */
export const MAX_STACK_FLAME_NODES = 50_000;

/**
 * Callstacks as frames, innermost first, inlined frames expanded. One address's frames are made
 * once per instance (an answer never changes once given), so a query reading thousands of stacks
 * builds each address's objects once and reads the table by index, not by address key.
 */
export class StackFrames {
  private readonly byAddress: (StackFrame[] | undefined)[] = [];

  constructor(private readonly table: CallstackTable) {}

  /** The frames of stack `id`; null for an unknown id. */
  of(id: number): StackFrame[] | null {
    const table = this.table;
    const depth = table.depthOf(id);
    if (depth === 0) return null;
    const frames: StackFrame[] = [];
    for (let i = 0; i < depth; i++) {
      const index = table.addressIndexAt(id, i);
      let mine = this.byAddress[index];
      if (mine === undefined) {
        mine = addressFrames(table.addressAt(index), table.answerAt(index));
        // an address not answered yet may be answered later: only answers are kept
        if (table.answerAt(index) !== null) this.byAddress[index] = mine;
      }
      for (const f of mine) frames.push(f);
    }
    return frames;
  }

  /** Stack `id`'s frames without the profiler's own at the innermost end (see isProfilerFrame). */
  appFrames(id: number): StackFrame[] | null {
    const all = this.of(id);
    if (all === null) return null;
    let inner = 0;
    while (inner < all.length - 1 && isProfilerFrame(all[inner]!)) inner++;
    return inner === 0 ? all : all.slice(inner);
  }
}

/** One address's frames: the app's answer, or the address itself while unanswered. */
function addressFrames(address: string, answer: ResolvedAddress | null): StackFrame[] {
  if (!answer || answer.frames.length === 0) return [{ function: address, file: '', line: 0, image: answer?.image ?? '', address, inlined: false }];
  const n = answer.frames.length;
  return answer.frames.map((f, j) => ({ function: f.function || address, file: f.file, line: f.line, image: answer.image, address, inlined: j < n - 1 }));
}

/** The frames of callstack `id`, innermost first, inlined frames expanded; null for an unknown id. */
export function callstackFrames(table: CallstackTable, id: number): StackFrame[] | null {
  return new StackFrames(table).of(id);
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

/** A stack flame graph: nodes (node 0 the root), their totals, and the nodes left out past the cap. */
export interface StackFlame {
  nodes: StackFlameNode[];
  total: number;
  count: number;
  cut: number;
}

/**
 * The flame graph of stack totals: paths of function names from the outermost caller to the
 * innermost frame (top-down), or the reverse (bottom-up, `invert`), merged by name. Frames of
 * the profiler's own (isProfilerFrame) at the innermost end are left out (Tracy's GUI shows
 * them): they say nothing about the app and would put the same helper at the tip of every stack.
 * Resumable: one unit per frame walked, so tens of thousands of deep stacks are built in slices.
 */
export class StackFlameBuild implements SlicedQuery<StackFlame> {
  private readonly nodes: StackFlameNode[] = [{ id: 0, parent: -1, name: 'all', file: '', line: 0, value: 0, self: 0, count: 0, children: [] }];
  private readonly childByName: Map<string, number>[] = [new Map()];
  private readonly frames: StackFrames;
  private readonly entries: Iterator<[number, number]>;
  private cut = 0;
  private done = false;

  constructor(
    table: CallstackTable,
    private readonly totals: StackTotals,
    private readonly invert: boolean,
  ) {
    this.frames = new StackFrames(table);
    this.entries = totals.value.entries();
  }

  step(units: number): boolean {
    const nodes = this.nodes;
    let left = units;
    while (left > 0) {
      const next = this.entries.next();
      if (next.done) {
        this.done = true;
        for (const n of nodes) n.children.sort((a, b) => nodes[b]!.value - nodes[a]!.value);
        return true;
      }
      const [cs, value] = next.value;
      const count = this.totals.count.get(cs) ?? 0;
      const frames = this.frames.appFrames(cs) ?? [];
      left -= 1 + frames.length;
      nodes[0]!.value += value;
      nodes[0]!.count += count;
      let at = 0;
      for (let k = 0; k < frames.length; k++) {
        const f = frames[this.invert ? k : frames.length - 1 - k]!;
        let child = this.childByName[at]!.get(f.function);
        if (child === undefined) {
          if (nodes.length >= MAX_STACK_FLAME_NODES) {
            this.cut++;
            break;
          }
          child = nodes.length;
          nodes.push({ id: child, parent: at, name: f.function, file: f.file, line: f.line, value: 0, self: 0, count: 0, children: [] });
          this.childByName.push(new Map());
          this.childByName[at]!.set(f.function, child);
          nodes[at]!.children.push(child);
        }
        at = child;
        nodes[at]!.value += value;
        nodes[at]!.count += count;
      }
      nodes[at]!.self += value;
    }
    return this.done;
  }

  result(): StackFlame {
    return { nodes: this.nodes, total: this.nodes[0]!.value, count: this.nodes[0]!.count, cut: this.cut };
  }
}

/** The flame graph of stack totals at once (small inputs, tests); see StackFlameBuild. */
export function stackFlame(table: CallstackTable, totals: StackTotals, invert: boolean): StackFlame {
  return runToEnd(new StackFlameBuild(table, totals, invert));
}

export function stackFlameSliced(table: CallstackTable, totals: StackTotals, invert: boolean, slice: SliceOptions = {}): Promise<StackFlame> {
  return runInSlices(new StackFlameBuild(table, totals, invert), slice);
}

/** Callstack ids whose frames include function `name` (the flame graph's click filter), memoized per id. */
export function stackFilterByFunction(table: CallstackTable, name: string): (callstack: number) => boolean {
  const memo = new Map<number, boolean>();
  const frames = new StackFrames(table);
  return (cs) => {
    if (cs === 0) return false;
    let hit = memo.get(cs);
    if (hit === undefined) {
      hit = (frames.of(cs) ?? []).some((f) => f.function === name);
      memo.set(cs, hit);
    }
    return hit;
  };
}
