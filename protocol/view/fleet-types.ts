/**
 * What GET /api/fleet/zones and /api/fleet/apps answer (docs/server.md, "Fleet"), shared by the
 * server (server/fleet/fleet-queries.ts) and the viewer's Fleet panel. They are read from
 * ClickHouse (`serve --clickhouse URL`), over every server writing to the same database.
 *
 * Absolute times are nanoseconds since the Unix epoch as decimal strings: they exceed 2^53,
 * so a JSON number would round them (to ~256 ns). Durations are nanoseconds as numbers.
 */

/** The figures of one (app, host) pair, one entry per time bucket (`null`/0 where it has no zone). */
export interface FleetZoneSeries {
  app: string;
  host: string;
  /** zones of this pair in the whole window */
  total: number;
  count: number[];
  meanNs: (number | null)[];
  /** quantiles: approximate (t-digest, see FleetZonesResult.quantiles) */
  p50Ns: (number | null)[];
  p90Ns: (number | null)[];
  p99Ns: (number | null)[];
  maxNs: (number | null)[];
}

export interface FleetZonesResult {
  name: string;
  /** the app filter, null for every app */
  app: string | null;
  /**
   * the window computed, [from, to) in ns since the epoch (decimal strings): as asked, or
   * widened to whole periods when read from a rollup (`source`)
   */
  from: string;
  to: string;
  /** number of buckets: as asked, fewer when the window is shorter in ns, one more at most over a rollup */
  buckets: number;
  /** width of a bucket in ns (decimal string); bucket i starts at from + i x bucketNs */
  bucketNs: string;
  /** where the figures come from: zones_by_name (every zone) or a rollup (zones_by_name_1m, _5m, _1h) */
  source: string;
  /** the series, the most zones first (then app, host) */
  series: FleetZoneSeries[];
  /** the (app, host) pairs that had zones of this name in the window */
  seriesFound: number;
  /** true when seriesFound > the most answered (maxSeries): only the busiest are here */
  cut: boolean;
  maxSeries: number;
  /** how the quantiles are computed (ClickHouse function), for the panel's footnote */
  quantiles: string;
  /** how long ClickHouse took, ms (as measured by the server: round trip) */
  elapsedMs: number;
}

/** One session stored in ClickHouse (its latest row in `sessions`). */
export interface FleetSessionInfo {
  /** `<serverId>-<localId>`, globally unique */
  session: string;
  /** id of the server run that wrote it */
  server: string;
  pid: number;
  /** wall-clock start, ns since the epoch (decimal string) */
  startNs: string;
  /** its latest zone time, ns since the epoch (decimal string) */
  lastNs: string;
  zones: number;
  ended: boolean;
  endReason: string;
}

export interface FleetHostInfo {
  host: string;
  sessions: FleetSessionInfo[];
}

export interface FleetAppInfo {
  app: string;
  hosts: FleetHostInfo[];
}

export interface FleetAppsResult {
  from: string;
  to: string;
  /** apps by name, hosts by name, sessions by start */
  apps: FleetAppInfo[];
  /** sessions listed (<= maxSessions) */
  sessions: number;
  /** true when more sessions overlapped the window than maxSessions: the latest ones are listed */
  cut: boolean;
  maxSessions: number;
}
