import type { SessionStore } from '../store/session-store.js';
import type { ThreadTimeline } from '../store/thread-timeline.js';
import { runInSlices, runToEnd, type SlicedQuery, type SliceOptions } from './query-slicer.js';
import { queryDepthPage, type DepthZones, type ThreadZones } from './zone-lod.js';

/**
 * GET /zones in pages: at most `limit` items (single zones or merged runs) per answer, and a
 * cursor to continue from. Items come thread by thread (ascending id), depth by depth, row by
 * row, so the cursor is the next (thread, depth, row) to return, written "thread.depth.row".
 * Rows are numbered for good in each track (eviction only raises the first stored row), so
 * paging an ended session with the same range and level of detail returns every zone exactly
 * once, whatever the page size; a thread may appear on two pages (its depths split), and its
 * open zones come with its first appearance.
 */

/** Items per page when no limit is given, and the most a page holds (GET /zones: 400 ZS_QUERY_LIMIT above). */
export const MAX_ZONE_PAGE_ITEMS = 100_000;

export interface ZoneCursor {
  thread: number;
  depth: number;
  row: number;
}

export interface ZonePageOptions {
  t0: number;
  t1: number;
  /** ns per pixel; 0 = every zone individually */
  nsPerPx: number;
  /** only these app thread ids */
  threads?: number[];
  /** where the previous page stopped (null: from the start) */
  cursor?: ZoneCursor | null;
  /** items at most (default and most: MAX_ZONE_PAGE_ITEMS) */
  limit?: number;
}

export interface ZonePage {
  threads: (ThreadZones & { name: string | null })[];
  /** pass back as ?cursor= for the next page; null when this page ends the range */
  cursor: string | null;
  /** items in this page */
  items: number;
}

const CURSOR = /^(\d{1,10})\.(\d{1,6})\.(\d{1,15})$/;

/** Parses "thread.depth.row"; null when malformed. */
export function parseZoneCursor(text: string): ZoneCursor | null {
  const m = CURSOR.exec(text);
  if (!m) return null;
  return { thread: Number(m[1]), depth: Number(m[2]), row: Number(m[3]) };
}

export function formatZoneCursor(c: ZoneCursor): string {
  return `${c.thread}.${c.depth}.${c.row}`;
}

/** One page of a viewport's zones (see above), at once; bounded by `limit` items, whatever the range. */
export function queryZonePage(store: SessionStore, options: ZonePageOptions): ZonePage {
  return runToEnd(new ZonePageQuery(store, options));
}

/**
 * As queryZonePage, in slices (query-slicer.ts): a page of 100,000 zones takes tens of ms.
 * @throws the abort reason of `slice.signal` when aborted between slices
 */
export function queryZonePageSliced(store: SessionStore, options: ZonePageOptions, slice: SliceOptions = {}): Promise<ZonePage> {
  return runInSlices(new ZonePageQuery(store, options), slice);
}

/**
 * The page as a resumable query: each step lists up to `units` more items of the current depth
 * from the row where the last one stopped. Items always end where a one-go listing would end
 * one (a merged run is never cut), so steps and pages give the same items as one query.
 */
export class ZonePageQuery implements SlicedQuery<ZonePage> {
  private readonly threads: ThreadTimeline[];
  private readonly limit: number;
  private readonly from: ZoneCursor | null;
  private readonly out: ZonePage['threads'] = [];
  private items = 0;
  private cursor: ZoneCursor | null = null;
  /** the thread being listed: its index, its finished depths, the depth being listed and its parts */
  private threadAt = 0;
  private depthAt = -1;
  private depths: DepthZones[] = [];
  private parts: DepthZones[] = [];
  private rowFrom = -1;

  constructor(
    store: SessionStore,
    private readonly options: ZonePageOptions,
  ) {
    this.limit = Math.max(1, Math.min(MAX_ZONE_PAGE_ITEMS, Math.floor(options.limit ?? MAX_ZONE_PAGE_ITEMS)));
    this.from = options.cursor ?? null;
    const from = this.from;
    const only = options.threads;
    this.threads = store.threadList().filter((t) => (!only || only.includes(t.id)) && (!from || t.id >= from.thread));
  }

  step(units: number): boolean {
    let left = units;
    const { t0, t1, nsPerPx } = this.options;
    const from = this.from;
    while (this.threadAt < this.threads.length && this.cursor === null) {
      const t = this.threads[this.threadAt]!;
      const resumed = from !== null && t.id === from.thread;
      if (this.depthAt < 0) this.depthAt = 0;
      for (; this.depthAt < t.depths.length; this.depthAt++, this.rowFrom = -1) {
        const columns = t.depths[this.depthAt]!;
        if ((resumed && columns.depth < from.depth) || columns.count === columns.firstRow) continue;
        if (this.rowFrom < 0) this.rowFrom = resumed && columns.depth === from.depth ? from.row : 0;
        for (;;) {
          if (left <= 0) return false;
          const { zones, nextRow } = queryDepthPage(columns, t0, t1, nsPerPx, this.rowFrom, Math.min(left, this.limit - this.items));
          const n = zones.startNs.length;
          if (n > 0) this.parts.push(zones);
          this.items += n;
          left -= Math.max(1, n);
          if (nextRow < 0) break;
          this.rowFrom = nextRow;
          if (this.items >= this.limit) {
            this.cursor = { thread: t.id, depth: columns.depth, row: nextRow };
            break;
          }
        }
        this.flushDepth();
        if (this.cursor) break;
      }
      this.finishThread(t, resumed);
    }
    return true;
  }

  result(): ZonePage {
    return { threads: this.out, cursor: this.cursor ? formatZoneCursor(this.cursor) : null, items: this.items };
  }

  private flushDepth(): void {
    if (this.parts.length > 0) this.depths.push(joinParts(this.parts));
    this.parts = [];
  }

  private finishThread(t: ThreadTimeline, resumed: boolean): void {
    const open: ThreadZones['open'] = [];
    if (!resumed) {
      for (let d = 0; d < t.openCount; d++) {
        const s = t.openStart[d]!;
        if (s <= this.options.t1) open.push({ startNs: s, srcloc: t.openSrcloc[d]!, depth: d });
      }
    }
    this.out.push({ thread: t.id, depths: this.depths, open, evictedBeforeNs: t.evictedBeforeNs, name: t.name });
    this.depths = [];
    this.depthAt = -1;
    this.threadAt++;
  }
}

/** One depth's parts (listed in steps) as one DepthZones. */
function joinParts(parts: DepthZones[]): DepthZones {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const p of parts) n += p.startNs.length;
  const out: DepthZones = { depth: parts[0]!.depth, startNs: new Float64Array(n), endNs: new Float64Array(n), srcloc: new Int32Array(n), count: new Int32Array(n), row: new Int32Array(n) };
  let at = 0;
  for (const p of parts) {
    out.startNs.set(p.startNs, at);
    out.endNs.set(p.endNs, at);
    out.srcloc.set(p.srcloc, at);
    out.count.set(p.count, at);
    out.row.set(p.row, at);
    at += p.startNs.length;
  }
  return out;
}
