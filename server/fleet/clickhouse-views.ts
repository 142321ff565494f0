import type { ClickHouseSettings } from '@clickhouse/client';
import type { ZoneDetails } from '../../protocol/view/types.js';
import type { StoredMessage } from '../store/message-log.js';
import { MAX_MESSAGES_TEXT, type MessagesAnswer } from '../query/message-query.js';
import type { DepthZones, ThreadZones } from '../query/zone-lod.js';
import { formatZoneCursor, MAX_ZONE_PAGE_ITEMS, type ZonePage, type ZonePageOptions } from '../query/zone-pages.js';
import { sqlInt, sqlString, type ClickHouseTarget } from './clickhouse-connection.js';
import { SqlSrclocs, SRCLOC_KEY_SQL } from './clickhouse-srclocs.js';

/**
 * The views of a session stored in ClickHouse, answered from SQL (issue 15 item 2): the
 * viewport at a level of detail, one zone's details and the messages here; statistics, flame
 * graph and search in clickhouse-aggregates.ts. Nothing of the session's zones or messages is
 * held in memory: each answer is one or a few statements over the `zones` table, whose order
 * (session, thread, depth, start_ns) is the viewer's.
 *
 * - **Level of detail in SQL.** A zone at least one pixel wide (duration >= nsPerPx) is an item
 *   of its own; narrower zones are grouped by (thread, depth, pixel) with
 *   floor((start - t0) / nsPerPx) as the pixel, each group one item with its count, as the
 *   ring store folds a run of sub-pixel zones (zone-lod.ts; the store folds runs from the
 *   first zone's start, SQL by a fixed pixel grid: the items can differ by where a run is cut,
 *   never in the zones covered). So an answer has about pixels x depths items, whatever the
 *   number of zones in the range.
 * - **Rows.** A zone's row is its index in its (thread, depth) track by start time, as in the
 *   store (nothing is evicted from ClickHouse). The rows of a page are counted, not stored:
 *   the zones of a track that end before t0 (zones of one depth never overlap), plus the items
 *   before it on the page. Details by row are `ORDER BY start_ns LIMIT row, 1` in the track.
 * - **Bounds.** Every statement runs under max_execution_time (SQL_VIEW_EXECUTION_S) and
 *   max_result_rows, a level of detail under MAX_SQL_LOD_GROUPS; a page has at most `limit` items (MAX_ZONE_PAGE_ITEMS), the thread list
 *   MAX_SQL_THREADS, messages their limit and MAX_MESSAGES_TEXT.
 */

/** Seconds a statement of these views may run (ClickHouse's max_execution_time). */
export const SQL_VIEW_EXECUTION_S = 30;
/**
 * Groups one level-of-detail statement may build in ClickHouse (its memory: ~100 bytes each).
 * A viewport far finer than its zones (nsPerPx of a few ns over seconds) has about one group a
 * zone; past this it is refused (ClickHouse's group_by_overflow_mode), not built: page it with
 * nsPerPx=0 instead, which ClickHouse answers with a bounded sort.
 */
export const MAX_SQL_LOD_GROUPS = 4_000_000;
/** Threads of a session listed at most. */
export const MAX_SQL_THREADS = 4096;
/** Time buckets of the row index (see RowIndex), and its entries at most (tracks x buckets). */
export const ROW_INDEX_BUCKETS = 4096;
export const ROW_INDEX_MAX_ENTRIES = 1_000_000;

/**
 * Where rows start in time, per (thread, depth) track: the zones of the track starting before
 * each bucket boundary (buckets of equal time over the session), read once when the session is
 * opened. The row of a track's first zone in a viewport is then the count at the bucket boundary
 * before t0 plus a count over one bucket, which the table's order (start_ns within the track)
 * bounds, instead of a count over everything before t0.
 */
class RowIndex {
  constructor(
    readonly bucketNs: number,
    /** "thread.depth" -> zones starting before bucket k's start, k = 0 .. buckets */
    private readonly before: Map<string, Float64Array>,
  ) {}

  /** Bucket of `t` (clamped) and the zones of each track starting before that bucket's start. */
  at(t: number): { bucket: number; startNs: number; counts: Map<string, number> } {
    const any = this.before.values().next().value as Float64Array | undefined;
    const last = any ? any.length - 1 : 0;
    const bucket = Math.max(0, Math.min(last, Math.floor(t / this.bucketNs)));
    const counts = new Map<string, number>();
    for (const [track, c] of this.before) counts.set(track, c[bucket]!);
    // bucket 0 also holds any zone starting before the session's time 0
    return { bucket, startNs: bucket === 0 ? -Infinity : bucket * this.bucketNs, counts };
  }

  /**
   * Where row `row` of a track is: the bucket holding it as a time range [startNs, endNs) (endNs
   * Infinity for the last) and the rows before that bucket; null when the index does not know the
   * track or the row (a session written to since it was opened: the caller counts from 0).
   */
  locate(track: string, row: number): { startNs: number; endNs: number; before: number } | null {
    const c = this.before.get(track);
    if (!c || row >= c[c.length - 1]!) return null;
    // the last k with c[k] <= row: zones before bucket k <= row < zones before bucket k + 1
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const m = (lo + hi + 1) >>> 1;
      if (c[m]! <= row) lo = m;
      else hi = m - 1;
    }
    return { startNs: lo === 0 ? -Infinity : lo * this.bucketNs, endNs: lo + 1 >= c.length - 1 ? Infinity : (lo + 1) * this.bucketNs, before: c[lo]! };
  }
}

export interface SqlThread {
  id: number;
  name: string | null;
  zones: number;
  /** depths with zones (max depth + 1) */
  depth: number;
  firstNs: number;
  lastNs: number;
}

/** Undoes TabSeparated escaping (\t, \n, \\ ...). */
export function unescapeTsv(s: string): string {
  return s.includes('\\') ? s.replace(/\\(.)/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : c === '0' ? '\0' : c === 'b' ? '\b' : c === 'f' ? '\f' : c)) : s;
}

export class ClickHouseViews {
  readonly srclocs: SqlSrclocs;
  threads: SqlThread[] = [];
  zones = 0;
  /** messages of the session (when opened) */
  messageCount = 0;
  lastNs = 0;
  private readonly db: string;
  private readonly where: string;
  private rowIndex: RowIndex | null = null;
  /** per depth, its longest zone: a viewport's zones at depth d start after t0 - longest[d] */
  private longest: number[] = [];

  constructor(
    readonly target: ClickHouseTarget,
    /** the session's key in ClickHouse */
    readonly key: string,
    private readonly maxLodGroups = MAX_SQL_LOD_GROUPS,
  ) {
    this.srclocs = new SqlSrclocs(target, key);
    this.db = target.database;
    this.where = `session = ${sqlString(key)}`;
  }

  /** Reads what the views need before their first answer: source locations, threads and counts. */
  async open(): Promise<void> {
    await this.srclocs.load();
    const [stats, names, messages] = await Promise.all([
      this.rows(
        `SELECT thread, count(), max(depth) + 1, min(start_ns), max(start_ns + duration_ns) FROM ${this.db}.zones
         WHERE ${this.where} GROUP BY thread ORDER BY thread LIMIT ${MAX_SQL_THREADS}`,
        MAX_SQL_THREADS,
      ),
      this.rows(`SELECT thread, any(name) FROM ${this.db}.threads WHERE ${this.where} GROUP BY thread LIMIT ${MAX_SQL_THREADS * 4}`, MAX_SQL_THREADS * 4),
      this.rows(`SELECT count() FROM ${this.db}.messages WHERE ${this.where}`, 1),
    ]);
    this.messageCount = Number(messages[0]?.[0] ?? 0);
    const nameOf = new Map(names.map((r) => [Number(r[0]), unescapeTsv(r[1]!)]));
    this.threads = stats.map((r) => ({ id: Number(r[0]), name: nameOf.get(Number(r[0])) ?? null, zones: Number(r[1]), depth: Number(r[2]), firstNs: Number(r[3]), lastNs: Number(r[4]) }));
    this.zones = this.threads.reduce((n, t) => n + t.zones, 0);
    this.lastNs = this.threads.length ? Math.max(...this.threads.map((t) => t.lastNs)) : 0;
    const tracks = this.threads.reduce((n, t) => n + t.depth, 0);
    const buckets = Math.max(1, Math.min(ROW_INDEX_BUCKETS, Math.floor(ROW_INDEX_MAX_ENTRIES / Math.max(1, tracks))));
    const bucketNs = Math.max(1, Math.ceil((this.lastNs + 1) / buckets));
    const [hist, longest] = await Promise.all([
      this.rows(
        `SELECT thread, depth, intDiv(start_ns, ${sqlInt(bucketNs)}) AS b, count() FROM ${this.db}.zones WHERE ${this.where} GROUP BY thread, depth, b`,
        ROW_INDEX_MAX_ENTRIES + MAX_SQL_THREADS,
      ),
      this.rows(`SELECT depth, max(duration_ns) FROM ${this.db}.zones WHERE ${this.where} GROUP BY depth`, 65_536),
    ]);
    const before = new Map<string, Float64Array>();
    for (const [thread, depth, b, n] of hist) {
      const key = `${thread}.${depth}`;
      let c = before.get(key);
      if (!c) before.set(key, (c = new Float64Array(buckets + 2)));
      const k = Math.max(0, Math.min(buckets, Number(b)));
      c[k + 1]! += Number(n);
    }
    for (const c of before.values()) for (let k = 1; k < c.length; k++) c[k]! += c[k - 1]!;
    this.rowIndex = new RowIndex(bucketNs, before);
    this.longest = [];
    for (const [depth, max] of longest) this.longest[Number(depth)] = Number(max);
  }

  /** SQL: the zones of a viewport [t0, t1] (end >= t0, start <= t1), each depth's starts bounded below by its longest zone. */
  private rangeSql(t0: number, t1: number): string {
    const lower = this.longest.map((max, depth) => `(depth = ${depth} AND start_ns >= ${sqlInt(t0 - (max ?? 0))})`).filter((_, d) => this.longest[d] !== undefined);
    return `start_ns <= ${sqlInt(t1)} AND start_ns + duration_ns >= ${sqlInt(t0)}${lower.length ? ` AND (${lower.join(' OR ')})` : ''}`;
  }

  threadName(id: number): string | null {
    return this.threads.find((t) => t.id === id)?.name ?? null;
  }

  /**
   * One page of the viewport's items, thread by thread (ascending id), depth by depth, by start
   * time, as GET /zones pages a live session (zone-pages.ts): the cursor is the next item's
   * "thread.depth.row".
   */
  async zonePage(o: ZonePageOptions): Promise<ZonePage> {
    const limit = Math.max(1, Math.min(o.limit ?? MAX_ZONE_PAGE_ITEMS, MAX_ZONE_PAGE_ITEMS));
    const t0 = Math.ceil(o.t0);
    const t1 = Math.floor(o.t1);
    const threadCond = o.threads ? (o.threads.length ? ` AND thread IN (${o.threads.map((t) => sqlInt(t)).join(',')})` : ' AND 0') : '';
    let cursorCond = '';
    const cursor = o.cursor ?? null;
    if (cursor) {
      const [at] = await this.rows(
        `SELECT start_ns FROM ${this.db}.zones WHERE ${this.where} AND thread = ${sqlInt(cursor.thread)} AND depth = ${sqlInt(cursor.depth)}
         ORDER BY start_ns, duration_ns LIMIT ${sqlInt(cursor.row)}, 1`,
        1,
      );
      const after = `thread > ${sqlInt(cursor.thread)} OR (thread = ${sqlInt(cursor.thread)} AND depth > ${sqlInt(cursor.depth)})`;
      cursorCond = at ? ` AND (${after} OR (thread = ${sqlInt(cursor.thread)} AND depth = ${sqlInt(cursor.depth)} AND start_ns >= ${sqlInt(at[0]!)}))` : ` AND (${after})`;
    }
    const range = `${this.where}${threadCond} AND ${this.rangeSql(t0, t1)}`;
    const p = o.nsPerPx;
    const items =
      p > 0
        ? `SELECT thread, depth, min(start_ns) AS s, max(start_ns + duration_ns), count(), any(${SRCLOC_KEY_SQL}),
             duration_ns >= ${p} AS wide, if(wide, toFloat64(start_ns), floor((start_ns - ${sqlInt(t0)}) / ${p})) AS px
           FROM ${this.db}.zones WHERE ${range}${cursorCond}
           GROUP BY thread, depth, wide, px ORDER BY thread, depth, s LIMIT ${limit + 1}`
        : `SELECT thread, depth, start_ns, start_ns + duration_ns, 1, ${SRCLOC_KEY_SQL}
           FROM ${this.db}.zones WHERE ${range}${cursorCond} ORDER BY thread, depth, start_ns, duration_ns LIMIT ${limit + 1}`;
    // rows: the zones of each track that start before t0 (the row index, and a count over the
    // rest of one bucket), less the one that starts before t0 and ends in the range (it is on
    // the page: zones of one depth do not overlap); for the cursor's track, the cursor's row
    const index = this.rowIndex!.at(t0);
    const [found, partial] = await Promise.all([
      this.rows(items, limit + 1, p > 0 ? { max_rows_to_group_by: String(this.maxLodGroups), group_by_overflow_mode: 'throw' } : {}),
      this.rows(
        `SELECT thread, depth, count() FROM ${this.db}.zones WHERE ${this.where}${threadCond}${Number.isFinite(index.startNs) ? ` AND start_ns >= ${sqlInt(index.startNs)}` : ''} AND start_ns < ${sqlInt(t0)}
         GROUP BY thread, depth`,
        MAX_SQL_THREADS * 1024,
      ),
    ]);
    const base = index.counts;
    for (const r of partial) base.set(`${r[0]}.${r[1]}`, (base.get(`${r[0]}.${r[1]}`) ?? 0) + Number(r[2]));
    for (let k = 0; k < found.length; k++) {
      const r = found[k]!;
      // a track's first item on the page: does it start before t0?
      if ((k === 0 || found[k - 1]![0] !== r[0] || found[k - 1]![1] !== r[1]) && Number(r[2]) < t0) base.set(`${r[0]}.${r[1]}`, base.get(`${r[0]}.${r[1]}`)! - 1);
    }
    if (cursor) base.set(`${cursor.thread}.${cursor.depth}`, cursor.row);
    if (!this.srclocs.knows(found.filter((r) => r[4] === '1').map((r) => r[5]!))) await this.srclocs.load();

    const threads: (ThreadZones & { name: string | null })[] = [];
    let next: string | null = null;
    let i = 0;
    while (i < found.length) {
      const thread = Number(found[i]![0]);
      const depths: DepthZones[] = [];
      while (i < found.length && Number(found[i]![0]) === thread) {
        const depth = Number(found[i]![1]);
        let j = i;
        while (j < found.length && found[j]![0] === found[i]![0] && Number(found[j]![1]) === depth) j++;
        const n = Math.min(j, limit) - i;
        let row = base.get(`${thread}.${depth}`) ?? 0;
        const d: DepthZones = { depth, startNs: new Float64Array(n), endNs: new Float64Array(n), srcloc: new Int32Array(n), count: new Int32Array(n), row: new Int32Array(n) };
        for (let k = 0; k < n; k++) {
          const r = found[i + k]!;
          const count = Number(r[4]);
          d.startNs[k] = Number(r[2]);
          d.endNs[k] = Number(r[3]);
          d.count[k] = count;
          d.srcloc[k] = count === 1 ? this.srclocs.indexOf(r[5]!) : -1;
          d.row[k] = count === 1 ? row : -1;
          row += count;
        }
        if (j > limit) next = formatZoneCursor({ thread, depth, row });
        if (n > 0) depths.push(d);
        i = j;
      }
      if (depths.length) threads.push({ thread, name: this.threadName(thread), depths, open: [], evictedBeforeNs: 0 });
    }
    return { threads, cursor: next, items: Math.min(found.length, limit) };
  }

  /** One zone's details by (thread, depth, row); null when there is no such zone. */
  async zone(thread: number, depth: number, row: number): Promise<ZoneDetails | null> {
    if (!(Number.isSafeInteger(thread) && thread >= 0 && Number.isSafeInteger(depth) && depth >= 0 && Number.isSafeInteger(row) && row >= 0)) return null;
    const track = `${this.where} AND thread = ${sqlInt(thread)}`;
    // the row index narrows the sort to the row's bucket (a few thousand zones, not the track)
    const at = this.rowIndex?.locate(`${thread}.${depth}`, row) ?? null;
    const within = at ? `${Number.isFinite(at.startNs) ? ` AND start_ns >= ${sqlInt(at.startNs)}` : ''}${Number.isFinite(at.endNs) ? ` AND start_ns < ${sqlInt(at.endNs)}` : ''}` : '';
    const [z] = await this.rows(
      `SELECT start_ns, duration_ns, ${SRCLOC_KEY_SQL}, zone_name, text, has_value, value, color FROM ${this.db}.zones
       WHERE ${track} AND depth = ${sqlInt(depth)}${within} ORDER BY start_ns, duration_ns LIMIT ${sqlInt(at ? row - at.before : row)}, 1`,
      1,
    );
    if (!z) return null;
    const startNs = Number(z[0]);
    const durNs = Number(z[1]);
    const [kids] = await this.rows(
      `SELECT count(), sum(duration_ns) FROM ${this.db}.zones WHERE ${track} AND depth = ${sqlInt(depth + 1)}
       AND start_ns >= ${sqlInt(z[0]!)} AND start_ns < ${sqlInt(z[0]!)} + ${sqlInt(z[1]!)}`,
      1,
    );
    if (!this.srclocs.knows([z[2]!])) await this.srclocs.load();
    const srcloc = this.srclocs.indexOf(z[2]!);
    const loc = this.srclocs.list[srcloc];
    const zoneName = unescapeTsv(z[3]!);
    const text = unescapeTsv(z[4]!);
    const srclocName = this.srclocs.displayName(srcloc);
    return {
      thread,
      threadName: this.threadName(thread),
      depth,
      row,
      srcloc,
      name: zoneName || srclocName,
      srclocName,
      function: loc?.function ?? '',
      file: loc?.file ?? '',
      line: loc?.line ?? 0,
      startNs,
      durNs,
      selfNs: durNs - Number(kids?.[1] ?? 0),
      children: Number(kids?.[0] ?? 0),
      text: text === '' ? null : text,
      value: z[5] === '1' ? z[6]! : null,
      color: Number(z[7]),
      callstack: 0,
    };
  }

  /**
   * The first `limit` messages of [t0, t1] by time whose text contains `q` (case-insensitive),
   * and the session's message count, as GET /messages answers for a live session.
   */
  async messages(o: { t0: number; t1: number; q: string; limit: number }): Promise<MessagesAnswer & { total: number }> {
    const match = o.q === '' ? '' : ` AND positionCaseInsensitiveUTF8(text, ${sqlString(o.q)}) > 0`;
    const [found, total] = await Promise.all([
      this.rows(
        `SELECT time_ns, thread, color, text FROM ${this.db}.messages WHERE ${this.where} AND time_ns >= ${sqlInt(Math.ceil(o.t0))} AND time_ns <= ${sqlInt(Math.floor(o.t1))}${match}
         ORDER BY time_ns LIMIT ${sqlInt(o.limit + 1)}`,
        o.limit + 1,
      ),
      this.rows(`SELECT count() FROM ${this.db}.messages WHERE ${this.where}`, 1),
    ]);
    const messages: StoredMessage[] = [];
    let text = 0;
    let truncated = found.length > o.limit;
    for (const r of found.slice(0, o.limit)) {
      const t = unescapeTsv(r[3]!);
      text += t.length + 64;
      if (text > MAX_MESSAGES_TEXT) {
        truncated = true;
        break;
      }
      messages.push({ timeNs: Number(r[0]), thread: Number(r[1]), color: Number(r[2]), metadata: 0, text: t, callstack: 0 });
    }
    return { messages, truncated, total: Number(total?.[0] ?? 0) };
  }

  /** The thread list as GET /threads gives a live session's (threadSummaries). */
  threadSummaries() {
    return this.threads.map((t) => ({
      id: t.id,
      name: t.name,
      zones: t.zones,
      zonesBegun: t.zones,
      open: 0,
      depth: t.depth,
      storedZones: t.zones,
      firstNs: t.firstNs,
      lastNs: t.lastNs,
      evictedBeforeNs: 0,
      unmatchedEnds: 0,
    }));
  }

  /** A statement's rows (TabSeparated fields, still escaped), at most `maxRows` (ClickHouse refuses more). */
  private async rows(query: string, maxRows: number, settings: ClickHouseSettings = {}): Promise<string[][]> {
    const rs = await this.target.client.query({
      query,
      format: 'TabSeparated',
      clickhouse_settings: { max_execution_time: SQL_VIEW_EXECUTION_S, max_result_rows: String(maxRows), result_overflow_mode: 'throw', ...settings },
    });
    const text = await rs.text();
    if (text === '') return [];
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.map((l) => l.split('\t'));
  }
}
