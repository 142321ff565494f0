/**
 * The bound on zonescope_plot_value: sessions imported in process from Chrome JSON counters
 * (each numeric args key is a plot), /metrics rendered with a small limit.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseExposition, sampleOf } from '../../test/support/prometheus-text.js';
import { SessionRegistry } from '../session/session-registry.js';
import { createApp } from './app.js';
import { MAX_PLOT_SERIES, renderMetrics } from './metrics.js';

/** A Chrome trace of app `app` with counter event "c" whose args are `plots`, sampled at 1 µs and 2 µs (the last value is plots[k] * 2). */
function counters(app: string, plots: Record<string, number>): string {
  const events = [
    { ph: 'M', name: 'process_name', pid: 1, tid: 1, args: { name: app } },
    { ph: 'C', name: 'c', pid: 1, tid: 1, ts: 1, args: plots },
    { ph: 'C', name: 'c', pid: 1, tid: 1, ts: 2, args: Object.fromEntries(Object.entries(plots).map(([k, v]) => [k, v * 2])) },
  ];
  return JSON.stringify({ traceEvents: events });
}

describe('zonescope_plot_value series bound', () => {
  let registry: SessionRegistry;
  let app: ReturnType<typeof createApp>;
  beforeEach(() => {
    registry = new SessionRegistry();
    app = createApp({ registry });
  });
  afterEach(() => registry.stopAll());

  async function importTrace(name: string, json: string): Promise<string> {
    const res = await app.request(`/api/sessions/import?name=${name}`, { method: 'POST', body: json });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  }

  it('keeps the newest sessions\' plots up to the limit and counts the series left out', async () => {
    const oldest = await importTrace('a.json', counters('app-a', { a1: 1, a2: 2 }));
    const middle = await importTrace('b.json', counters('app-b', { b1: 3, b2: 4 }));
    const newest = await importTrace('c.json', counters('app-c', { c1: 5, c2: 6 }));
    expect(registry.list().map((s) => s.id)).toEqual([oldest, middle, newest]);

    const families = parseExposition(renderMetrics(registry, { maxPlotSeries: 3 }));
    const series = families.get('zonescope_plot_value')!.samples.map((x) => `${x.labels.session}/${x.labels.app}/${x.labels.plot}=${x.value}`);
    expect(series).toEqual([`${newest}/app-c/c1=10`, `${newest}/app-c/c2=12`, `${middle}/app-b/b1=6`]);
    expect(sampleOf(families, 'zonescope_plot_series').value).toBe(3);
    expect(sampleOf(families, 'zonescope_plot_series_dropped').value).toBe(3);
  });

  it('drops nothing under the limit, and the default limit is MAX_PLOT_SERIES', async () => {
    await importTrace('a.json', counters('app-a', { a1: 1, a2: 2 }));
    await importTrace('b.json', counters('app-b', { b1: 3 }));
    const families = parseExposition(renderMetrics(registry));
    expect(families.get('zonescope_plot_value')!.samples).toHaveLength(3);
    expect(sampleOf(families, 'zonescope_plot_series').value).toBe(3);
    expect(sampleOf(families, 'zonescope_plot_series_dropped').value).toBe(0);
    expect(families.get('zonescope_plot_value')!.help).toContain(String(MAX_PLOT_SERIES));
  });

  it('exports no series and drops all with a limit of 0', async () => {
    await importTrace('a.json', counters('app-a', { a1: 1, a2: 2 }));
    const families = parseExposition(renderMetrics(registry, { maxPlotSeries: 0 }));
    expect(families.get('zonescope_plot_value')!.samples).toHaveLength(0);
    expect(sampleOf(families, 'zonescope_plot_series_dropped').value).toBe(2);
  });
});

describe('fleet writer counters', () => {
  const counters = (n: number) => ({ queuedRows: 10 * n, writtenRows: 7 * n, retriedSends: n, failedRows: 1, droppedRows: 2, spilledRows: 3, bufferedBytes: 100, spooledBytes: 200, lastError: null });

  it('are rows by state, retried sends and buffered/spooled bytes per sink and table', () => {
    const fleet = {
      writers: [{ sink: 'clickhouse', table: 'zones', counters: counters(1) }, { sink: 'influx', table: 'zonescope_plot', counters: counters(2) }],
      feeds: [{ sink: 'influx', counters: { zones: 0, frames: 0, plotSamples: 20, messages: 0, evictedBeforeFed: 5, stalls: 0 } }],
    };
    const families = parseExposition(renderMetrics(new SessionRegistry(), { fleet }));
    const rows = families.get('zonescope_fleet_rows_total')!;
    expect(rows.type).toBe('counter');
    expect(rows.samples.filter((s) => s.labels.sink === 'influx').map((s) => [s.labels.table, s.labels.state, s.value])).toEqual([
      ['zonescope_plot', 'queued', 20], ['zonescope_plot', 'written', 14], ['zonescope_plot', 'failed', 1], ['zonescope_plot', 'dropped', 2], ['zonescope_plot', 'spilled', 3],
    ]);
    expect(sampleOf(families, 'zonescope_fleet_retried_sends_total', { sink: 'clickhouse', table: 'zones' }).value).toBe(1);
    expect(sampleOf(families, 'zonescope_fleet_buffered_bytes', { sink: 'influx' }).value).toBe(100);
    expect(sampleOf(families, 'zonescope_fleet_spooled_bytes', { sink: 'influx' }).value).toBe(200);
    expect(sampleOf(families, 'zonescope_fleet_evicted_unwritten_total', { sink: 'influx' }).value).toBe(5);
  });

  it('are left out when no fleet writer runs', () => {
    const families = parseExposition(renderMetrics(new SessionRegistry(), { fleet: { writers: [], feeds: [] } }));
    expect([...families.keys()].filter((k) => k.startsWith('zonescope_fleet_'))).toEqual([]);
  });
});
