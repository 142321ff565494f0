/**
 * The ids ("pointers") a client sends and the contents it answers queries with
 * (tracy-protocol.md P13):
 * - one counter for every id: strings, plot names, frame names and source locations never share
 *   one, ids are non-zero and never reused;
 * - a thread's counter starts at `threadId * 2^32 + 1`, so the main thread and every worker mint
 *   distinct ids without talking to each other (exact: below 2^53 for threadId < 2^21);
 * - contents stay for the whole connection: queries can come long after use, even after Terminate.
 *
 * Thread ids (u32, non-zero): a JS thread is `threadId + 1` (main 1, worker 1 is 2, ...); its
 * async tracks are `(threadId + 1) * 65536 + lane` (lane 1..65535), named "<thread> async <lane>".
 *
 * A worker records every definition (`takeDefs`) and ships it with its events; the main thread
 * applies them, so it can answer queries for ids a worker minted.
 */
import type { QueryCallstackFrame } from '../protocol/tracy/query-replies.js';
import type { FrameTable } from './callstacks.js';

export interface SrclocDef {
  /** string ids */
  name: number;
  fn: number;
  file: number;
  line: number;
  /** 0xRRGGBB */
  color: number;
}

/** A definition as it travels to the main thread (structured-clone friendly). */
export type IdDef =
  | [kind: 0, id: number, text: string]
  | [kind: 1, id: number, name: number, fn: number, file: number, line: number, color: number]
  | [kind: 2, tid: number, name: string];

const TEXT = 0;
const SRCLOC = 1;
const THREAD = 2;

export const LANES_PER_THREAD = 65536;
export const TWO_POW_32 = 4294967296;

/** Tracy thread id of JS thread `threadId` (worker_threads.threadId; 0 = main). */
export function threadTid(threadId: number): number {
  return threadId + 1;
}

export class IdTables {
  /** id -> text of strings, plot names and frame names */
  readonly texts = new Map<number, string>();
  readonly srclocs = new Map<number, SrclocDef>();
  readonly threadNames = new Map<number, string>();

  private next: number;
  private readonly strings = new Map<string, number>();
  private readonly plots = new Map<string, number>();
  private readonly frames = new Map<string, number>();
  private defs: IdDef[] | null;

  /**
   * @param threadId worker_threads.threadId of the minting thread (0 = main, browsers)
   * @param recordDefs keep definitions for takeDefs() (worker threads)
   */
  constructor(threadId: number, recordDefs = false) {
    this.next = threadId * TWO_POW_32 + 1;
    this.defs = recordDefs ? [] : null;
  }

  /** The id of string `text` (source location names, functions, files). */
  string(text: string): number {
    let id = this.strings.get(text);
    if (id === undefined) {
      id = this.defineText(text);
      this.strings.set(text, id);
    }
    return id;
  }

  /** The id of plot `name`. */
  plot(name: string): number {
    let id = this.plots.get(name);
    if (id === undefined) {
      id = this.defineText(name);
      this.plots.set(name, id);
    }
    return id;
  }

  /** The id of frame set `name`. */
  frame(name: string): number {
    let id = this.frames.get(name);
    if (id === undefined) {
      id = this.defineText(name);
      this.frames.set(name, id);
    }
    return id;
  }

  /** A new source location id (the caller interns: one per name and colour). */
  srcloc(name: string, fn: string, file: string, line: number, color: number): number {
    const def: SrclocDef = { name: this.string(name), fn: this.string(fn), file: this.string(file), line, color };
    const id = this.next++;
    this.srclocs.set(id, def);
    this.defs?.push([SRCLOC, id, def.name, def.fn, def.file, line, color]);
    return id;
  }

  setThreadName(tid: number, name: string): void {
    this.threadNames.set(tid, name);
    this.defs?.push([THREAD, tid, name]);
  }

  /** The profilers' frames (profile-cpu.ts, profile-heap.ts): set when profiling starts. */
  callstackFrames: FrameTable | null = null;

  /** The frame to answer ServerQueryCallstackFrame with (undefined: not one of ours; null: no profiler ever ran). */
  callstackFrame(address: number): QueryCallstackFrame | undefined | null {
    return this.callstackFrames === null ? null : this.callstackFrames.frame(address);
  }

  /** The name to answer ServerQueryThreadString with. */
  threadName(tid: number): string {
    const named = this.threadNames.get(tid);
    if (named !== undefined) return named;
    if (tid >= LANES_PER_THREAD) {
      const base = Math.floor(tid / LANES_PER_THREAD);
      return `${this.threadName(base)} async ${tid % LANES_PER_THREAD}`;
    }
    return tid === 1 ? 'main' : `worker ${tid - 1}`;
  }

  /** Definitions made since the last call (recordDefs only). */
  takeDefs(): IdDef[] {
    const out = this.defs ?? [];
    if (this.defs !== null) this.defs = [];
    return out;
  }

  /** Adds another thread's definitions. */
  applyDefs(defs: readonly IdDef[]): void {
    for (const d of defs) {
      switch (d[0]) {
        case TEXT:
          this.texts.set(d[1], d[2]);
          break;
        case SRCLOC:
          this.srclocs.set(d[1], { name: d[2], fn: d[3], file: d[4], line: d[5], color: d[6] });
          break;
        case THREAD:
          this.threadNames.set(d[1], d[2]);
          break;
      }
    }
  }

  private defineText(text: string): number {
    const id = this.next++;
    this.texts.set(id, text);
    this.defs?.push([TEXT, id, text]);
    return id;
  }
}
