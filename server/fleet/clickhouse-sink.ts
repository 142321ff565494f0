import { Readable } from 'node:stream';
import { log } from '../log.js';
import type { ZoneExtra } from '../store/zone-columns.js';
import { BatchWriter, RejectedBatch, type BatchTarget, type BatchWriterCounters, type BatchWriterOptions } from './batch-writer.js';
import { migrate, type ClickHouseTarget } from './clickhouse-connection.js';
import { FRAME_COLUMNS, MESSAGE_COLUMNS, PLOT_COLUMNS, SESSION_COLUMNS, THREAD_COLUMNS, ZONE_COLUMNS } from './clickhouse-schema.js';
import { encodeConstant, halves, RowBinaryBuffer } from './row-binary.js';
import type { FeedSession, FeedSink } from './store-feed.js';

/** RowBinary bytes of a zone row besides its session prefix and source location: thread, depth, 3 x Int64, 2 empty strings, has_value, value. */
const ZONE_FIXED_BYTES = 4 + 2 + 24 + 2 + 1 + 8;

/**
 * ClickHouse errors that say the batch itself is wrong (parse, type, syntax): retrying the same
 * bytes cannot help, so the batch is counted failed. Everything else (connection refused,
 * timeouts, too many parts, memory limit, the table not there yet) is retried.
 */
const PERMANENT_CODES = new Set(['6', '16', '26', '27', '32', '38', '41', '53', '62', '69', '70', '72', '117']);

/** One table's inserts (TabSeparated, the columns in the schema's order). */
class TableTarget implements BatchTarget {
  readonly name: string;
  constructor(
    private readonly ch: ClickHouseTarget,
    private readonly table: string,
    private readonly columns: readonly string[],
    private readonly ready: () => Promise<void>,
    private readonly format: 'TabSeparated' | 'RowBinary' = 'TabSeparated',
  ) {
    this.name = `clickhouse.${table}`;
  }

  async send(body: Buffer): Promise<void> {
    await this.ready();
    try {
      if (this.format === 'RowBinary') {
        // the client's insert() knows text formats only; exec() sends any body with its query
        const r = await this.ch.client.exec({
          query: `INSERT INTO ${this.ch.database}.${this.table} (${this.columns.join(', ')}) FORMAT RowBinary`,
          values: Readable.from([body], { objectMode: false }),
        });
        for await (const _ of r.stream) {
          // the answer is empty; read it so the connection is reused
        }
        return;
      }
      await this.ch.client.insert({
        table: `${this.ch.database}.${this.table}`,
        values: Readable.from([body], { objectMode: false }),
        format: 'TabSeparated',
        columns: this.columns as [string, ...string[]],
      });
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && PERMANENT_CODES.has(code)) throw new RejectedBatch(`ClickHouse error ${code}: ${(err as Error).message.slice(0, 300)}`);
      throw err;
    }
  }
}

/** TabSeparated escaping of a String field. */
export function tsv(text: string): string {
  if (!/[\\\t\n\r\0]/.test(text)) return text;
  return text.replace(/[\\\t\n\r\0]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\0'));
}

/**
 * Absolute nanoseconds since the Unix epoch as an exact decimal: `startSec` (whole seconds) +
 * `relNs` (rounded). Both parts stay far below 2^53, the sum does not: it is written as text.
 */
export function absNs(startSec: number, relNs: number): string {
  const rel = Math.round(relNs);
  let sec = startSec + Math.floor(rel / 1e9);
  let frac = rel - Math.floor(rel / 1e9) * 1e9;
  if (frac >= 1e9) {
    sec++;
    frac -= 1e9;
  }
  if (sec <= 0) return String(BigInt(startSec) * 1_000_000_000n + BigInt(rel));
  return `${sec}${String(frac).padStart(9, '0')}`;
}

interface SessionCache {
  /** "session\tapp\thost\t" (plots, TabSeparated) */
  plotPrefix: string;
  /** per srcloc: "name\tfunction\tfile\tline\tcolor\t", and the same without the name for named zones */
  /** RowBinary: session, app, host, pid */
  zonePrefix: Buffer;
  /** RowBinary per srcloc: name, function, file, line, color */
  zoneLoc: Buffer[];
  /** the session's wall-clock start in ns, as u32 halves */
  baseLo: number;
  baseHi: number;
}

export interface ClickHouseSinkOptions {
  /** this server's id (sessions.server) */
  serverId: string;
  /** spool folder for batches that do not fit in memory (--data DIR/fleet-spool), or null */
  spoolDir: string | null;
  /** BatchWriter limits (tests make them small) */
  writer?: BatchWriterOptions;
}

/**
 * Writes sessions into the ClickHouse tables of clickhouse-schema.ts: a FeedSink turning rows
 * into TabSeparated lines, one BatchWriter per table (batching, retry with backoff, spool,
 * counters). The schema is migrated before the first insert, and again after a failure (the
 * server may have been down at start, or its database dropped).
 */
export class ClickHouseSink implements FeedSink {
  readonly name = 'clickhouse';
  readonly writers: Record<'zones' | 'frames' | 'plots' | 'messages' | 'sessions' | 'threads', BatchWriter>;
  private readonly sessions = new Map<string, SessionCache>();
  private readonly zoneRows = new RowBinaryBuffer();
  private migrated: Promise<void> | null = null;
  private versionSeq = 0;

  constructor(
    readonly target: ClickHouseTarget,
    private readonly options: ClickHouseSinkOptions,
  ) {
    const ready = () => this.ensureSchema();
    // zones: two inserts in flight, as ClickHouse takes each insert (and its views) on one core
    const w = (table: string, columns: readonly string[], format?: 'RowBinary') =>
      new BatchWriter(new TableTarget(target, table, columns, ready, format), { spoolDir: options.spoolDir, ...(format === 'RowBinary' && { concurrency: 2 }), ...options.writer });
    this.writers = {
      zones: w('zones', ZONE_COLUMNS, 'RowBinary'),
      frames: w('frames', FRAME_COLUMNS),
      plots: w('plots', PLOT_COLUMNS),
      messages: w('messages', MESSAGE_COLUMNS),
      sessions: w('sessions', SESSION_COLUMNS),
      threads: w('threads', THREAD_COLUMNS),
    };
  }

  /** Counters of every table's writer, for /metrics. */
  counters(): { table: string; counters: BatchWriterCounters }[] {
    return Object.entries(this.writers).map(([table, w]) => ({ table, counters: w.counters }));
  }

  hasRoom(): boolean {
    for (const w of Object.values(this.writers)) if (!w.hasRoom()) return false;
    return true;
  }

  /** Resolves when everything queued so far is in ClickHouse (false: not within timeoutMs). */
  async flush(timeoutMs = 30_000): Promise<boolean> {
    const done = await Promise.all(Object.values(this.writers).map((w) => w.flush(timeoutMs)));
    return done.every(Boolean);
  }

  async close(graceMs = 5000): Promise<void> {
    await Promise.all(Object.values(this.writers).map((w) => w.close(graceMs)));
    const z = this.writers.zones.counters;
    log('clickhouse %s: %d zones queued, %d written, %d failed, %d dropped, %d retried sends', this.target.display, z.queuedRows, z.writtenRows, z.failedRows, z.droppedRows, z.retriedSends);
    await this.target.client.close();
  }

  private ensureSchema(): Promise<void> {
    if (!this.migrated) {
      this.migrated = migrate(this.target).then(
        () => undefined,
        (err: unknown) => {
          this.migrated = null;
          throw err;
        },
      );
    }
    return this.migrated;
  }

  private cache(s: FeedSession): SessionCache {
    let c = this.sessions.get(s.key);
    if (!c) {
      const plotPrefix = `${tsv(s.key)}\t${tsv(s.app)}\t${tsv(s.host)}\t`;
      const base = halves(BigInt(s.startSec) * 1_000_000_000n);
      const zonePrefix = encodeConstant((w) => {
        w.string(s.key);
        w.string(s.app);
        w.string(s.host);
        w.i64(s.pid);
      });
      c = { plotPrefix, zonePrefix, zoneLoc: [], baseLo: base.lo, baseHi: base.hi };
      this.sessions.set(s.key, c);
    }
    return c;
  }

  session(s: FeedSession, ended: boolean): void {
    const store = s.session.store;
    const version = Date.now() * 1000 + (this.versionSeq++ % 1000);
    const reason = s.session.endReason ?? '';
    // the earliest zone still stored (its store may have evicted older ones; 0 when none)
    let first = Infinity;
    for (const t of store.threads.values()) first = Math.min(first, t.firstNs);
    first = Number.isFinite(first) ? Math.round(first) : 0;
    const last = Math.round(Math.max(store.lastNs, 0));
    this.writers.sessions.add(`${tsv(s.key)}\t${tsv(this.options.serverId)}\t${tsv(s.app)}\t${tsv(s.host)}\t${s.pid}\t${absNs(s.startSec, 0)}\t${first}\t${last}\t${store.zonesEnded}\t${ended ? 1 : 0}\t${tsv(reason)}\t${version}\n`, 1);
  }

  thread(s: FeedSession, thread: number, name: string): void {
    this.writers.threads.add(`${tsv(s.key)}\t${thread}\t${tsv(name)}\t${absNs(s.startSec, 0)}\n`, 1);
  }

  zone(s: FeedSession, thread: number, depth: number, srcloc: number, startNs: number, durationNs: number, extra: ZoneExtra | null): void {
    const c = this.cache(s);
    const loc = c.zoneLoc[srcloc] ?? this.srclocBytes(s, c, srcloc);
    const w = this.zoneRows;
    if (!w.room(c.zonePrefix.length + loc.length + ZONE_FIXED_BYTES)) this.pushZones();
    w.reserve(c.zonePrefix.length + loc.length + ZONE_FIXED_BYTES);
    w.bytes(c.zonePrefix);
    w.u32(thread);
    w.u16(depth);
    if (extra !== null && extra.color >= 0) {
      w.bytes(loc.subarray(0, loc.length - 4));
      w.u32(extra.color);
    } else w.bytes(loc);
    const start = Math.round(startNs);
    w.i64(start);
    w.i64Sum(c.baseLo, c.baseHi, start);
    w.i64(Math.round(durationNs));
    if (extra === null) {
      w.u8(0); // zone_name
      w.u8(0); // text
      w.u8(0); // has_value
      w.i64(0);
    } else {
      w.string(extra.name ?? '');
      w.string(extra.text ?? '');
      if (extra.valueHi >= 0) {
        w.u8(1);
        w.u32(extra.valueLo);
        w.u32(extra.valueHi);
      } else {
        w.u8(0);
        w.i64(0);
      }
    }
    w.rows++;
  }

  /** Hands the zone rows encoded so far to the zones writer (end of a feed pass, full buffer). */
  flushPending(): void {
    this.pushZones();
  }

  private pushZones(): void {
    if (this.zoneRows.rows === 0) return;
    const { bytes, rows } = this.zoneRows.take();
    this.writers.zones.add(bytes, rows);
  }

  private srclocBytes(s: FeedSession, c: SessionCache, srcloc: number): Buffer {
    const store = s.session.store;
    const strings = store.names.strings;
    const sl = store.srclocs;
    const bytes = encodeConstant((w) => {
      w.string(sl.displayName(srcloc, strings));
      w.string(sl.functionName(srcloc, strings));
      w.string(sl.fileName(srcloc, strings));
      w.u32(sl.line[srcloc] ?? 0);
      w.u32(sl.color[srcloc] ?? 0);
    });
    c.zoneLoc[srcloc] = bytes;
    return bytes;
  }

  frame(s: FeedSession, name: string, frame: number, startNs: number, durationNs: number): void {
    const start = Math.round(startNs);
    this.writers.frames.add(`${tsv(s.key)}\t${tsv(name)}\t${frame}\t${start}\t${absNs(s.startSec, start)}\t${Math.round(durationNs)}\n`, 1);
  }

  plotSample(s: FeedSession, plot: string, timeNs: number, value: number): void {
    const t = Math.round(timeNs);
    this.writers.plots.add(`${this.cache(s).plotPrefix}${tsv(plot)}\t${t}\t${absNs(s.startSec, t)}\t${floatText(value)}\n`, 1);
  }

  message(s: FeedSession, thread: number, timeNs: number, text: string, color: number): void {
    const t = Math.round(timeNs);
    this.writers.messages.add(`${tsv(s.key)}\t${thread}\t${t}\t${absNs(s.startSec, t)}\t${tsv(text)}\t${color >= 0 ? color : 0}\n`, 1);
  }

  sessionDone(s: FeedSession): void {
    this.pushZones();
    this.sessions.delete(s.key);
  }
}

/** A Float64 as ClickHouse reads it (nan, inf, -inf). */
function floatText(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return String(v);
}
