/**
 * The ClickHouse tables Zonescope writes (`serve --clickhouse URL`) and reads (sessions stored
 * there, /api/fleet), and their migrations. docs/fleet.md explains the choices.
 *
 * Written for ClickHouse 18.16 (Debian 12's package) and later: plain String columns (no
 * LowCardinality), MergeTree with an explicit ORDER BY and PARTITION BY, Int64 nanoseconds.
 *
 * - `zones` is ordered for the viewer (one session, one thread, a time range);
 *   `zones_by_name`, a materialized view filled by every insert into `zones`, is ordered for
 *   fleet questions (one zone name, every app and host, a time range).
 * - `name` is the source location's name (what Tracy's statistics group by); `zone_name` is a
 *   name the zone set for itself (ZoneName, e.g. "dyn-3"), '' when none.
 * - Session-relative times (`start_ns`, `time_ns`) are what the viewer asks for; absolute times
 *   (`abs_*_ns` = the session's wall-clock start in ns since the Unix epoch + the relative
 *   time) are what the fleet asks for.
 * - `sessions` is a ReplacingMergeTree keyed by session: the writer inserts a new row (higher
 *   `version`) whenever the session's counters change; readers take argMax(..., version).
 * - Every table is partitioned by month of the absolute time, so retention is `ALTER TABLE ...
 *   DROP PARTITION` or a TTL (docs/fleet.md).
 */

/** Schema version this build writes; `zs_schema` records what a database has. */
export const SCHEMA_VERSION = 2;

/** One step of the schema: applied once, in order, recorded in zs_schema. */
export interface Migration {
  version: number;
  /** what it changes, for the log and zs_schema */
  what: string;
  /** statements run in order; `{db}` is replaced by the database name */
  statements: string[];
}

const MONTH_OF = (absNsColumn: string) => `toYYYYMM(toDateTime(intDiv(${absNsColumn}, 1000000000)))`;

/**
 * Rollups of zones by name for fleet questions over long windows (server/fleet/fleet-queries.ts
 * picks one by bucket width): per zone name, app, host and period (`period` = abs_start_ns /
 * period length) the count, sum and max of durations and a t-digest of them, as aggregate
 * states (AggregatingMergeTree merges them). A day of one name over 20 (app, host) pairs is
 * 28,800 rows at 1 min, 5,760 at 5 min, 480 at 1 h, whatever the number of zones.
 */
export const ZONE_ROLLUPS = [
  { table: 'zones_by_name_1h', periodS: 3600 },
  { table: 'zones_by_name_5m', periodS: 300 },
  { table: 'zones_by_name_1m', periodS: 60 },
] as const;

const rollupSelect = (periodS: number) =>
  `SELECT name, app, host, intDiv(abs_start_ns, ${periodS * 1_000_000_000}) AS period,
    countState() AS zones, sumState(duration_ns) AS total_ns, maxState(duration_ns) AS max_ns,
    quantilesTDigestState(0.5, 0.9, 0.99)(duration_ns) AS q
   FROM {db}.zones GROUP BY name, app, host, period`;

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    what: 'sessions, threads, srclocs, zones (+ zones_by_name), frames, plots, messages',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db}.sessions (
        session String, server String, app String, host String, pid UInt64,
        start_abs_ns Int64, first_ns Int64, last_ns Int64,
        zones UInt64, ended UInt8, end_reason String, version UInt64
      ) ENGINE = ReplacingMergeTree(version) PARTITION BY ${MONTH_OF('start_abs_ns')} ORDER BY session`,
      `CREATE TABLE IF NOT EXISTS {db}.threads (
        session String, thread UInt32, name String, start_abs_ns Int64
      ) ENGINE = ReplacingMergeTree PARTITION BY ${MONTH_OF('start_abs_ns')} ORDER BY (session, thread)`,
      `CREATE TABLE IF NOT EXISTS {db}.zones (
        session String, app String, host String, pid UInt64, thread UInt32, depth UInt16,
        name String, function String, file String, line UInt32, color UInt32,
        start_ns Int64, abs_start_ns Int64, duration_ns Int64,
        zone_name String, text String, has_value UInt8, value UInt64
      ) ENGINE = MergeTree PARTITION BY ${MONTH_OF('abs_start_ns')} ORDER BY (session, thread, depth, start_ns)`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.zones_by_name
        ENGINE = MergeTree PARTITION BY ${MONTH_OF('abs_start_ns')} ORDER BY (name, abs_start_ns)
        AS SELECT name, app, host, session, abs_start_ns, duration_ns FROM {db}.zones`,
      `CREATE TABLE IF NOT EXISTS {db}.frames (
        session String, name String, frame UInt64, start_ns Int64, abs_start_ns Int64, duration_ns Int64
      ) ENGINE = MergeTree PARTITION BY ${MONTH_OF('abs_start_ns')} ORDER BY (session, name, start_ns)`,
      `CREATE TABLE IF NOT EXISTS {db}.plots (
        session String, app String, host String, plot String, time_ns Int64, abs_time_ns Int64, value Float64
      ) ENGINE = MergeTree PARTITION BY ${MONTH_OF('abs_time_ns')} ORDER BY (session, plot, time_ns)`,
      `CREATE TABLE IF NOT EXISTS {db}.messages (
        session String, thread UInt32, time_ns Int64, abs_time_ns Int64, text String, color UInt32
      ) ENGINE = MergeTree PARTITION BY ${MONTH_OF('abs_time_ns')} ORDER BY (session, time_ns)`,
    ],
  },
  {
    version: 2,
    what: 'zones_by_name_1m, _5m, _1h: rollups for fleet queries over long windows (backfilled from zones)',
    // each view, then the zones already there (a server writing while another migrates may have
    // a batch counted twice in a rollup: migrate before writing)
    statements: ZONE_ROLLUPS.flatMap((r) => [
      `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.${r.table}
        ENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(toDateTime(period * ${r.periodS})) ORDER BY (name, period, app, host)
        AS ${rollupSelect(r.periodS)}`,
      `INSERT INTO {db}.${r.table} ${rollupSelect(r.periodS)}`,
    ]),
  },
];

/** The statement that records the applied versions (created before any migration runs). */
export const SCHEMA_TABLE = `CREATE TABLE IF NOT EXISTS {db}.zs_schema (version UInt32, what String, applied DateTime) ENGINE = TinyLog`;

/** Column order of the TabSeparated inserts (the writer's rows follow it). */
export const ZONE_COLUMNS = ['session', 'app', 'host', 'pid', 'thread', 'depth', 'name', 'function', 'file', 'line', 'color', 'start_ns', 'abs_start_ns', 'duration_ns', 'zone_name', 'text', 'has_value', 'value'] as const;
export const FRAME_COLUMNS = ['session', 'name', 'frame', 'start_ns', 'abs_start_ns', 'duration_ns'] as const;
export const PLOT_COLUMNS = ['session', 'app', 'host', 'plot', 'time_ns', 'abs_time_ns', 'value'] as const;
export const MESSAGE_COLUMNS = ['session', 'thread', 'time_ns', 'abs_time_ns', 'text', 'color'] as const;
export const SESSION_COLUMNS = ['session', 'server', 'app', 'host', 'pid', 'start_abs_ns', 'first_ns', 'last_ns', 'zones', 'ended', 'end_reason', 'version'] as const;
export const THREAD_COLUMNS = ['session', 'thread', 'name', 'start_abs_ns'] as const;

/** `statement` for database `db` (a validated identifier: see databaseFromUrl). */
export function forDatabase(statement: string, db: string): string {
  return statement.replaceAll('{db}', db);
}
