import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { log } from '../log.js';
import type { SessionRegistry } from '../session/session-registry.js';
import type { BatchWriterCounters, BatchWriterOptions } from './batch-writer.js';
import { connectClickHouse, migrate, type ClickHouseTarget } from './clickhouse-connection.js';
import { ClickHouseSink } from './clickhouse-sink.js';
import { ClickHouseCatalog } from './clickhouse-sessions.js';
import { InfluxSink, parseInfluxUrl } from './influx-sink.js';
import { StoreFeed, type StoreFeedCounters } from './store-feed.js';

/** What /metrics shows of the fleet sinks. */
export interface FleetCounters {
  writers: { sink: string; table: string; counters: BatchWriterCounters }[];
  feeds: { sink: string; counters: StoreFeedCounters }[];
}

export interface FleetOptions {
  /** --clickhouse URL: sessions written to (and listed from) this ClickHouse database */
  clickhouse?: string;
  /** --influx URL: every plot sample written to this InfluxDB 1.x database (measurement zonescope_plot) */
  influx?: string;
  /** --data DIR: batches that do not fit in memory spill to DIR/fleet-spool */
  dataDir?: string;
  /** this server's id in session keys; default 8 random hex characters */
  serverId?: string;
  /** feed pass interval (ms; default 250) */
  feedIntervalMs?: number;
  /** BatchWriter limits (tests) */
  writer?: BatchWriterOptions;
}

/** The fleet sinks a server runs (docs/fleet.md). */
export interface FleetHandle {
  serverId: string;
  clickhouse: { target: ClickHouseTarget; sink: ClickHouseSink; feed: StoreFeed; catalog: ClickHouseCatalog } | null;
  influx: { sink: InfluxSink; feed: StoreFeed } | null;
  /** Every sink table's writer counters and its feed's, for /metrics. */
  counters(): FleetCounters;
  /** Runs a feed pass and waits until everything queued is written (false: not within timeoutMs). */
  flush(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Starts the sinks the options ask for. The ClickHouse schema is migrated now when the server
 * answers; when it does not, the server starts anyway and the writer migrates before its
 * first insert, retrying with backoff (nothing is lost meanwhile: rows queue, then spool).
 */
export async function startFleet(registry: SessionRegistry, options: FleetOptions): Promise<FleetHandle> {
  const serverId = options.serverId ?? randomBytes(4).toString('hex');
  const spoolDir = options.dataDir !== undefined ? join(options.dataDir, 'fleet-spool') : null;
  // ingest is busy while a live session received bytes in the last 250 ms (checked at most every 50 ms)
  let checkedAt = 0;
  let busy = false;
  const lastBytes = new Map<string, number>();
  let lastChange = 0;
  const ingestBusy = (): boolean => {
    const now = performance.now();
    if (now - checkedAt < 50) return busy;
    checkedAt = now;
    for (const s of registry.list()) {
      if (s.ended) continue;
      if (lastBytes.get(s.id) !== s.bytesReceived) {
        lastBytes.set(s.id, s.bytesReceived);
        lastChange = now;
      }
    }
    if (lastBytes.size > 1024) lastBytes.clear();
    busy = now - lastChange < 250;
    return busy;
  };
  let clickhouse: FleetHandle['clickhouse'] = null;
  if (options.clickhouse !== undefined) {
    const target = connectClickHouse(options.clickhouse);
    try {
      await migrate(target);
    } catch (err) {
      log('clickhouse %s: not reachable at start (%s); writes will retry', target.display, (err as Error).message);
    }
    const sink = new ClickHouseSink(target, { serverId, spoolDir, ...(options.writer && { writer: options.writer }) });
    const feed = new StoreFeed(sink, { serverId, ingestBusy, kinds: { zones: true, frames: true, plots: true, messages: true }, ...(options.feedIntervalMs !== undefined && { intervalMs: options.feedIntervalMs }) });
    feed.attach(registry);
    const catalog = new ClickHouseCatalog(target, serverId);
    await catalog.attach(registry);
    clickhouse = { target, sink, feed, catalog };
    log('clickhouse %s: writing sessions as server %s', target.display, serverId);
  }
  let influx: FleetHandle['influx'] = null;
  if (options.influx !== undefined) {
    const sink = new InfluxSink(parseInfluxUrl(options.influx), { spoolDir, ...(options.writer && { writer: options.writer }) });
    try {
      await sink.target.ensureDatabase();
    } catch (err) {
      log('influx %s: not reachable at start (%s); writes will retry', sink.influx.display, (err as Error).message);
    }
    const feed = new StoreFeed(sink, { serverId, kinds: { plots: true }, ...(options.feedIntervalMs !== undefined && { intervalMs: options.feedIntervalMs }) });
    feed.attach(registry);
    influx = { sink, feed };
    log('influx %s: writing plot samples as server %s', sink.influx.display, serverId);
  }
  const feeds = [clickhouse?.feed, influx?.feed].filter((f): f is StoreFeed => f != null);
  return {
    serverId,
    clickhouse,
    counters: () => ({
      writers: [...(clickhouse?.sink.counters().map((c) => ({ sink: 'clickhouse', ...c })) ?? []), ...(influx ? [{ sink: 'influx', table: 'zonescope_plot', counters: influx.sink.counters }] : [])],
      feeds: [...(clickhouse ? [{ sink: 'clickhouse', counters: clickhouse.feed.counters }] : []), ...(influx ? [{ sink: 'influx', counters: influx.feed.counters }] : [])],
    }),
    influx,
    flush: async (timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const complete = await Promise.all(feeds.map((f) => f.pass()));
        const left = Math.max(1, deadline - Date.now());
        const results = await Promise.all([clickhouse?.sink.flush(left) ?? true, influx?.sink.flush(left) ?? true]);
        if (!results.every(Boolean)) return false;
        // a pass that stopped for room left rows in the store: take them now there is room
        if (complete.every(Boolean)) return true;
        if (Date.now() > deadline) return false;
      }
    },
    close: async () => {
      // a last pass: what ended just now still goes out (or to the spool)
      await Promise.all(feeds.map((f) => f.pass()));
      for (const f of feeds) f.stop();
      clickhouse?.catalog.close();
      await Promise.all([clickhouse?.sink.close(), influx?.sink.close()]);
    },
  };
}
