import type { SessionRegistry } from '../session/session-registry.js';
import { plotsByName } from '../query/series-query.js';
import type { FleetCounters } from '../fleet/fleet.js';
import type { LiveHubCounters } from './live-hub.js';
import { REFUSAL_REASONS, type RefusalCounters } from '../security/refusals.js';

/**
 * Most `zonescope_plot_value` series in one /metrics answer. Each (session, plot) pair is a
 * series Prometheus keeps in its head block for hours, so an unbounded number (many sessions of
 * an app with many plots) would grow Prometheus's memory and each scrape without limit. The
 * newest sessions' plots are kept first (in each session, in the order its plots were first
 * seen); the series left out are counted in `zonescope_plot_series_dropped`.
 */
export const MAX_PLOT_SERIES = 10_000;

/** What /metrics shows beside the sessions: the viewer hub's and the guard's counters (absent: no lines). */
export interface MetricSources {
  live?: LiveHubCounters;
  refusals?: RefusalCounters;
  /** default MAX_PLOT_SERIES (tests pass a small one) */
  maxPlotSeries?: number;
  /** the fleet sinks' counters (--clickhouse, --influx) */
  fleet?: FleetCounters;
}

/** Prometheus text exposition (format 0.0.4) of every session's counters and plot values. */
export function renderMetrics(registry: SessionRegistry, sources: MetricSources = {}): string {
  const { live, refusals, fleet } = sources;
  const sessions = registry.list();
  const lines: string[] = [];
  const family = (name: string, type: string, help: string, rows: [Record<string, string>, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of rows) lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
  };
  const per = (fn: (s: (typeof sessions)[number]) => number): [Record<string, string>, number][] =>
    sessions.map((s) => [{ session: s.id, app: s.welcome?.programName ?? '' }, fn(s)]);

  family('zonescope_session_bytes_total', 'counter', 'Bytes received from the app, handshake reply included.', per((s) => s.bytesReceived));
  family('zonescope_session_queue_items_total', 'counter', 'Tracy queue items decoded.', per((s) => s.reader.decoder.items));
  family('zonescope_session_zones_total', 'counter', 'Completed zones.', per((s) => s.store.zonesEnded));
  family('zonescope_session_protocol_errors_total', 'counter', 'Protocol errors that ended the session (0 or 1).', per((s) => (s.endReason === 'protocol-error' ? 1 : 0)));
  family('zonescope_session_evicted_bytes_total', 'counter', 'Store bytes evicted to stay within the memory budget.', per((s) => s.store.budget.evictedBytes));
  family('zonescope_store_bytes', 'gauge', 'Bytes held by all session stores.', [[{}, registry.budget.used]]);
  family('zonescope_sessions', 'gauge', 'Sessions listed (live and ended).', [[{}, sessions.length]]);
  family('zonescope_store_limit_bytes', 'gauge', 'The memory budget of all session stores (--memory).', [[{}, registry.budget.limit]]);
  family('zonescope_store_peak_bytes', 'gauge', 'Highest zonescope_store_bytes since the server started.', [[{}, registry.budget.peakUsed]]);
  family('zonescope_process_resident_bytes', 'gauge', 'Resident set size of the server process.', [[{}, process.memoryUsage.rss()]]);
  family('zonescope_ingest_connections', 'gauge', 'Ingest connections (TCP + /ingest WebSocket) open now.', [[{}, registry.gate.openConnections]]);
  family('zonescope_sessions_pending', 'gauge', 'Connections in their handshake (not listed yet).', [[{}, registry.pendingCount]]);
  const rejectReasons = ['handshake-timeout', 'handshake-closed', 'max-connections', 'max-connections-per-address'] as const;
  family('zonescope_connections_rejected_total', 'counter', 'Connections closed before they became a listed session, by reason.', rejectReasons.map((r) => [{ reason: r }, registry.gate.rejectedByReason.get(r) ?? 0]));
  family('zonescope_sessions_ended_total', 'counter', 'Listed sessions that ended, by end reason.', [...registry.endedByReason].map(([r, n]) => [{ reason: r }, n]));
  const dropReasons = ['empty', 'evicted', 'fully-evicted'] as const;
  family('zonescope_sessions_dropped_total', 'counter', 'Ended sessions dropped from the list without a DELETE, by reason.', dropReasons.map((r) => [{ reason: r }, registry.dropped.get(r) ?? 0]));
  const maxPlotSeries = sources.maxPlotSeries ?? MAX_PLOT_SERIES;
  const plots: [Record<string, string>, number][] = [];
  let plotsDropped = 0;
  // newest session first: list() is oldest first
  for (let i = sessions.length - 1; i >= 0; i--) {
    const s = sessions[i]!;
    for (const p of plotsByName(s.store)) {
      if (p.count === 0) continue;
      if (plots.length >= maxPlotSeries) plotsDropped++;
      else plots.push([{ session: s.id, app: s.welcome?.programName ?? '', plot: p.name }, p.last]);
    }
  }
  family('zonescope_plot_value', 'gauge', `Latest value of each plot, newest sessions first, at most ${maxPlotSeries} series.`, plots);
  family('zonescope_plot_series', 'gauge', 'Series in zonescope_plot_value now.', [[{}, plots.length]]);
  family('zonescope_plot_series_dropped', 'gauge', `Plots with samples left out of zonescope_plot_value now, past its limit of ${maxPlotSeries} series (oldest sessions' first).`, [[{}, plotsDropped]]);
  if (live) {
    family('zonescope_live_viewers', 'gauge', 'Viewers connected to /api/live.', [[{}, live.viewers]]);
    family('zonescope_live_viewers_max', 'gauge', 'Viewers allowed at once (--max-viewers).', [[{}, live.maxViewers]]);
    family('zonescope_live_viewers_refused_total', 'counter', 'Viewer connections closed with 1013 because --max-viewers were connected.', [[{}, live.refused]]);
    family('zonescope_live_updates_total', 'counter', 'Live updates sent to viewers.', [[{}, live.updates]]);
    family('zonescope_live_updates_coalesced_total', 'counter', 'Subscribe/viewport requests folded into a later update (one in flight or sent this tick).', [[{}, live.coalesced]]);
    family('zonescope_live_updates_skipped_total', 'counter', 'Sends skipped because a viewer had not taken its previous update or had too much unsent.', [[{}, live.skipped]]);
    family('zonescope_live_updates_reduced_total', 'counter', 'Updates made coarser or cut to fit the update byte cap.', [[{}, live.reduced]]);
    family('zonescope_live_updates_shared_total', 'counter', 'Updates sent from a build made for another viewer with the same viewport of the same session version.', [[{}, live.shared]]);
  }
  if (fleet && fleet.writers.length > 0) {
    const rows = (fn: (c: FleetCounters['writers'][number]['counters']) => number) => fleet.writers.map((w): [Record<string, string>, number] => [{ sink: w.sink, table: w.table }, fn(w.counters)]);
    const states = ['queued', 'written', 'failed', 'dropped', 'spilled'] as const;
    const field = { queued: 'queuedRows', written: 'writtenRows', failed: 'failedRows', dropped: 'droppedRows', spilled: 'spilledRows' } as const;
    family('zonescope_fleet_rows_total', 'counter', 'Rows handed to a fleet sink (--clickhouse, --influx), by what became of them: queued, written, failed (refused by the database), dropped (memory and spool full), spilled (to the --data spool).', fleet.writers.flatMap((w) => states.map((st): [Record<string, string>, number] => [{ sink: w.sink, table: w.table, state: st }, w.counters[field[st]]])));
    family('zonescope_fleet_retried_sends_total', 'counter', 'Batch sends that failed (database down or slow) and were retried with backoff.', rows((c) => c.retriedSends));
    family('zonescope_fleet_buffered_bytes', 'gauge', 'Batch bytes waiting in memory.', rows((c) => c.bufferedBytes));
    family('zonescope_fleet_spooled_bytes', 'gauge', 'Batch bytes waiting in the --data spool.', rows((c) => c.spooledBytes));
    family('zonescope_fleet_evicted_unwritten_total', 'counter', 'Rows evicted from the memory budget before the sink took them (lost for the sink).', fleet.feeds.map((f): [Record<string, string>, number] => [{ sink: f.sink }, f.counters.evictedBeforeFed]));
  }
  if (refusals) family('zonescope_refused_total', 'counter', 'Requests, WebSocket handshakes and TCP ingest connections refused, by reason (docs/security.md).', REFUSAL_REASONS.map((r) => [{ reason: r }, refusals.count(r)]));
  return lines.join('\n') + '\n';
}

function formatLabels(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
