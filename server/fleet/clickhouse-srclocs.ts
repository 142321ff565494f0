import { sqlString, type ClickHouseTarget } from './clickhouse-connection.js';

/**
 * The source locations of a session stored in ClickHouse, numbered for the API. Zones carry
 * their source location as five columns (name, function, file, line, color); SQL answers name
 * one by `SRCLOC_KEY_SQL`, a 64-bit hash of the five, and this table turns the hash into the
 * index the API's results carry (`srcloc` in /zones items, statistics, flame nodes, matches),
 * as a live session's store numbers its own. Indices are stable for the life of the table:
 * a location first seen later (a session still being written by another server) is appended.
 */

/** SQL of a zone's source-location key (a UInt64, read as a decimal string). */
export const SRCLOC_KEY_SQL = 'cityHash64(name, function, file, line, color)';

/** Distinct source locations one table may hold; past it, locations read as -1 (unknown). */
export const MAX_SQL_SRCLOCS = 65_536;
/**
 * ms after a read before an unknown key reads the table again: a key that stays unknown (past
 * MAX_SQL_SRCLOCS) costs one GROUP BY over the session every few seconds, not one per answer.
 */
export const SQL_SRCLOCS_REREAD_MS = 5000;

export interface SqlSrcloc {
  name: string;
  function: string;
  file: string;
  line: number;
  color: number;
}

interface Row {
  key: string;
  name: string;
  function: string;
  file: string;
  line: number | string;
  color: number | string;
}

export class SqlSrclocs {
  readonly list: SqlSrcloc[] = [];
  private readonly byKey = new Map<string, number>();
  private refreshing: Promise<void> | null = null;
  /** performance.now() of the last read that ended, -Infinity before the first */
  private readAt = -Infinity;

  constructor(
    private readonly target: ClickHouseTarget,
    /** the session's key in ClickHouse */
    private readonly session: string,
    private readonly rereadMs = SQL_SRCLOCS_REREAD_MS,
  ) {}

  /** The index of the location with SQL key `key` (decimal UInt64), -1 when not (yet) known. */
  indexOf(key: string): number {
    return this.byKey.get(key) ?? -1;
  }

  /** Whether every key of `keys` is known (when not, `load()` before answering). */
  knows(keys: Iterable<string>): boolean {
    for (const k of keys) if (!this.byKey.has(k)) return false;
    return true;
  }

  /** The location's display name: its name, or its function when it has none (as live sessions show it). */
  displayName(index: number): string {
    const s = this.list[index];
    return s ? s.name || s.function : '';
  }

  /**
   * Reads the session's locations; those already known keep their index, new ones are appended.
   * Within `rereadMs` (SQL_SRCLOCS_REREAD_MS) of the last read, does nothing (the keys still unknown read -1).
   */
  load(): Promise<void> {
    if (this.refreshing === null && performance.now() - this.readAt < this.rereadMs) return Promise.resolve();
    this.refreshing ??= this.read().finally(() => {
      this.refreshing = null;
      this.readAt = performance.now();
    });
    return this.refreshing;
  }

  private async read(): Promise<void> {
    const { client, database } = this.target;
    const rs = await client.query({
      query: `SELECT toString(${SRCLOC_KEY_SQL}) AS key, name, function, file, line, color
              FROM ${database}.zones WHERE session = ${sqlString(this.session)}
              GROUP BY name, function, file, line, color ORDER BY name, function, file, line, color
              LIMIT ${MAX_SQL_SRCLOCS}`,
      format: 'JSONEachRow',
    });
    for (const r of (await rs.json()) as Row[]) {
      if (this.byKey.has(r.key) || this.list.length >= MAX_SQL_SRCLOCS) continue;
      this.byKey.set(r.key, this.list.length);
      this.list.push({ name: r.name, function: r.function, file: r.file, line: Number(r.line), color: Number(r.color) });
    }
  }
}
