import type { SessionStore } from '../store/session-store.js';
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

/** One page of a viewport's zones (see above); bounded by `limit` items, whatever the range. */
export function queryZonePage(store: SessionStore, options: ZonePageOptions): ZonePage {
  const { t0, t1, nsPerPx, threads: only } = options;
  const limit = Math.max(1, Math.min(MAX_ZONE_PAGE_ITEMS, Math.floor(options.limit ?? MAX_ZONE_PAGE_ITEMS)));
  const from = options.cursor ?? null;
  const out: ZonePage['threads'] = [];
  let items = 0;
  let cursor: ZoneCursor | null = null;
  for (const t of store.threadList()) {
    if (only && !only.includes(t.id)) continue;
    if (from && t.id < from.thread) continue;
    const resumed = from !== null && t.id === from.thread;
    const depths: DepthZones[] = [];
    for (const columns of t.depths) {
      if (resumed && columns.depth < from.depth) continue;
      if (columns.count === columns.firstRow) continue;
      const fromRow = resumed && columns.depth === from.depth ? from.row : 0;
      const { zones, nextRow } = queryDepthPage(columns, t0, t1, nsPerPx, fromRow, limit - items);
      if (zones.startNs.length > 0) depths.push(zones);
      items += zones.startNs.length;
      if (nextRow >= 0) {
        cursor = { thread: t.id, depth: columns.depth, row: nextRow };
        break;
      }
    }
    const open: ThreadZones['open'] = [];
    if (!resumed) {
      for (let d = 0; d < t.openCount; d++) {
        const s = t.openStart[d]!;
        if (s <= t1) open.push({ startNs: s, srcloc: t.openSrcloc[d]!, depth: d });
      }
    }
    out.push({ thread: t.id, depths, open, evictedBeforeNs: t.evictedBeforeNs, name: t.name });
    if (cursor) break;
  }
  return { threads: out, cursor: cursor ? formatZoneCursor(cursor) : null, items };
}
