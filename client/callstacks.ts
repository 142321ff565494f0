/**
 * JavaScript frames as Tracy code addresses, for the profilers (profile-cpu.ts, profile-heap.ts).
 *
 * Tracy's callstacks are lists of u64 return addresses; the receiver asks for each new address
 * once (ServerQueryCallstackFrame) and the app answers with function, file and line. V8's
 * profilers give call frames (function name, script URL, 0-based line and column) instead, so
 * each distinct frame gets a synthetic address here: FRAME_BASE + a dense index. The same frame
 * always has the same address, so the receiver resolves it once and deduplicates stacks by their
 * address lists like any Tracy app's.
 *
 * Bounded: at most MAX_FRAMES distinct frames per session (a key and ~100 bytes each); past it
 * every new frame maps to one "(frames over the limit)" address, counted in `overflowed`.
 */
import type { QueryCallstackFrame } from '../protocol/tracy/query-replies.js';

/** Frame addresses start here: far from 0 (which Tracy treats as no frame) and below bit 63 (kernel). */
export const FRAME_BASE = 0x100000000;
/** Most distinct frames one session keeps. */
export const MAX_FRAMES = 65536;
/** Most frames of one stack sent (innermost kept): deeper stacks are cut, outermost frames first. */
export const MAX_STACK_DEPTH = 128;

/** A V8 call frame, as the inspector's Profiler and HeapProfiler report it. */
export interface V8CallFrame {
  functionName: string;
  url: string;
  /** 0-based, -1 unknown */
  lineNumber: number;
  /** 0-based, -1 unknown */
  columnNumber: number;
}

/** The image name the receiver shows for a frame: JavaScript code, or V8's own pseudo frames. */
const JS_IMAGE = 'JavaScript';
const V8_IMAGE = 'V8';

export class FrameTable {
  /** New frames that did not fit under MAX_FRAMES (they share the overflow address). */
  overflowed = 0;
  private readonly byKey = new Map<string, number>();
  private readonly frames: QueryCallstackFrame[] = [];
  private overflowAddress = 0;

  /** Distinct frames held. */
  get size(): number {
    return this.frames.length;
  }

  /** The address of `frame`, minted when new. */
  address(frame: V8CallFrame): number {
    const key = `${frame.functionName}\u0000${frame.url}\u0000${frame.lineNumber}\u0000${frame.columnNumber}`;
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    if (this.frames.length >= MAX_FRAMES) {
      this.overflowed++;
      if (this.overflowAddress === 0) this.overflowAddress = this.add({ image: V8_IMAGE, function: '(frames over the limit)', file: '', line: 0 });
      return this.overflowAddress;
    }
    const a = this.add(describe(frame));
    this.byKey.set(key, a);
    return a;
  }

  /** The frame at `address`, or undefined when this table never minted it. */
  frame(address: number): QueryCallstackFrame | undefined {
    const i = address - FRAME_BASE;
    return Number.isInteger(i) && i >= 0 ? this.frames[i] : undefined;
  }

  private add(f: QueryCallstackFrame): number {
    this.frames.push(f);
    return FRAME_BASE + this.frames.length - 1;
  }
}

/**
 * Function "name (column N)" is not used: Tracy shows file:line and has no column; anonymous
 * functions are "(anonymous)" as in Chrome's DevTools; V8's pseudo frames ("(program)",
 * "(garbage collector)", "(idle)", "(root)") have no URL and the image "V8".
 */
function describe(f: V8CallFrame): QueryCallstackFrame {
  const pseudo = f.url === '' && f.functionName.startsWith('(');
  return {
    image: pseudo ? V8_IMAGE : JS_IMAGE,
    function: f.functionName === '' ? '(anonymous)' : f.functionName,
    file: f.url,
    line: f.lineNumber >= 0 ? f.lineNumber + 1 : 0,
  };
}

/**
 * The stacks of one V8 profile tree (CPU profile nodes or sampling-heap-profile nodes): for
 * each node id, its address list innermost first (the node itself, then its parents up to but
 * not including the root), computed once per node and cut at MAX_STACK_DEPTH.
 */
export class ProfileTree {
  /** Stacks cut at MAX_STACK_DEPTH. */
  truncated = 0;
  private readonly parent = new Map<number, number>();
  private readonly callFrame = new Map<number, V8CallFrame>();
  private readonly stacks = new Map<number, Float64Array>();

  constructor(
    private readonly table: FrameTable,
    private readonly rootId: number,
  ) {}

  /** Adds node `id` with `frame` under `parentId` (-1 for the root). */
  node(id: number, frame: V8CallFrame, parentId: number): void {
    this.callFrame.set(id, frame);
    if (parentId >= 0) this.parent.set(id, parentId);
  }

  /** The function name of node `id` ("" when unknown). */
  functionName(id: number): string {
    return this.callFrame.get(id)?.functionName ?? '';
  }

  /** The addresses of node `id`'s stack, innermost first; empty for the root or an unknown node. */
  stack(id: number): Float64Array {
    let s = this.stacks.get(id);
    if (s !== undefined) return s;
    const addrs: number[] = [];
    let at: number | undefined = id;
    let depth = 0;
    while (at !== undefined && at !== this.rootId) {
      const f = this.callFrame.get(at);
      if (f === undefined) break;
      if (depth++ >= MAX_STACK_DEPTH) {
        this.truncated++;
        break;
      }
      addrs.push(this.table.address(f));
      at = this.parent.get(at);
    }
    s = Float64Array.from(addrs);
    this.stacks.set(id, s);
    return s;
  }
}
