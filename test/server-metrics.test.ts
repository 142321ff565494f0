/**
 * /metrics is valid Prometheus text (checked with a strict parser of the exposition format)
 * and carries the per-session counters, the store gauges and the latest value of every plot.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlotKind, PlotFormat } from '../protocol/tracy/index.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { FIXTURES_PRESENT, fixture } from './support/inspect-fixtures.js';
import { ExpositionError, parseExposition, sampleOf, type Family } from './support/prometheus-text.js';
import { getJson, waitNewSession, waitSessionEnded } from './support/server-api.js';
import { runSyntheticClient, SyntheticNames, syntheticWelcome } from './support/synthetic-client.js';
import { dialRecordedClient } from './support/tracy-replay.js';

async function metrics(server: ServerHandle): Promise<{ text: string; contentType: string | null; families: Map<string, Family> }> {
  const res = await fetch(`http://127.0.0.1:${server.httpPort}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, contentType: res.headers.get('content-type'), families: parseExposition(text) };
}

/** The last value of each plot in csvexport's `-u -p` output (plot rows have no file/line). */
function lastPlotValues(csv: string, plots: string[]): Record<string, number> {
  const last: Record<string, { ns: number; value: number }> = {};
  for (const line of csv.split('\n')) {
    const cols = line.split(',');
    if (cols.length !== 7 || !plots.includes(cols[0]!) || cols[1] !== '' || cols[2] !== '') continue;
    const ns = Number(cols[3]);
    if (!(cols[0]! in last) || ns >= last[cols[0]!]!.ns) last[cols[0]!] = { ns, value: Number(cols[6]) };
  }
  return Object.fromEntries(Object.entries(last).map(([k, v]) => [k, v.value]));
}

describe('the Prometheus text parser used by these tests', () => {
  it('accepts escaped label values, HELP escapes, special floats and timestamps', () => {
    const f = parseExposition(
      '# HELP m_total Bytes\\\\seen\\nso far.\n# TYPE m_total counter\nm_total{a="x\\"y\\\\z\\n",b=""} 1.5e3 1700000000000\nm_total{a="2"} +Inf\n# TYPE g gauge\ng NaN\n',
    );
    expect(f.get('m_total')!.help).toBe('Bytes\\seen\nso far.');
    expect(f.get('m_total')!.samples[0]).toEqual({ name: 'm_total', labels: { a: 'x"y\\z\n', b: '' }, value: 1500, timestampMs: 1700000000000 });
    expect(f.get('m_total')!.samples[1]!.value).toBe(Infinity);
    expect(f.get('g')!.samples[0]!.value).toBeNaN();
  });

  it.each([
    ['a bad escape in a label value', 'm{a="\\t"} 1\n'],
    ['an unterminated label value', 'm{a="x} 1\n'],
    ['a raw newline in a label value', 'm{a="x\n"} 1\n'],
    ['a duplicate label', 'm{a="1",a="2"} 1\n'],
    ['a duplicate series', 'm{a="1"} 1\nm{a="1"} 2\n'],
    ['a value that is not a float', 'm 12abc\n'],
    ['a TYPE after samples', 'm 1\n# TYPE m gauge\n'],
    ['a family split into two runs', 'm 1\nn 1\nm{a="1"} 1\n'],
    ['a bad metric name', '1m 1\n'],
    ['an unknown type', '# TYPE m countr\n'],
    ['a missing final newline', 'm 1'],
  ])('rejects %s', (_what, text) => {
    expect(() => parseExposition(text)).toThrow(ExpositionError);
  });
});

describe.skipIf(!FIXTURES_PRESENT)('/metrics', () => {
  let server: ServerHandle;
  let smallId: string;
  let oddId: string;
  let badId: string;
  const small = FIXTURES_PRESENT ? readFileSync(fixture('small.client.bin')) : Buffer.alloc(0);
  const oddApp = 'odd "app"\\name\nline2';
  const oddPlot = 'load "avg" \\ cpu\n1m';

  beforeAll(async () => {
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 } });
    // 1: the small recording, complete.
    await dialRecordedClient(server.ingestPort!, small, { chunkSize: 8192 });
    smallId = await waitNewSession(server, 0);
    await waitSessionEnded(server, smallId);
    // 2: an app and a plot whose names need escaping in label values.
    const names = new SyntheticNames();
    names.plots.set(0x5000, oddPlot);
    await runSyntheticClient({
      port: server.ingestPort!,
      welcome: syntheticWelcome(oddApp),
      names,
      produce: (q) => {
        q.plotConfig(0x5000, PlotFormat.Percentage, false, true, 0);
        for (let i = 0; i < 10; i++) q.plot(1, 0x5000, 1000 * (i + 1), i * 0.25, PlotKind.Double);
        return false;
      },
    });
    oddId = await waitNewSession(server, 1);
    await waitSessionEnded(server, oddId);
    // 3: a protocol error (frame size 0).
    await dialRecordedClient(server.ingestPort!, Buffer.concat([small.subarray(0, 1171), Buffer.of(0, 0, 0, 0)]));
    badId = await waitNewSession(server, 2);
    await waitSessionEnded(server, badId);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('is Prometheus text format 0.0.4, with HELP and TYPE for every family', async () => {
    const { contentType, families } = await metrics(server);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    for (const f of families.values()) {
      expect(f.help, f.name).not.toBeNull();
      expect(['counter', 'gauge'], f.name).toContain(f.type);
      if (f.type === 'counter') expect(f.name).toMatch(/_total$/);
    }
    expect([...families.keys()]).toEqual([
      'zonescope_session_bytes_total',
      'zonescope_session_queue_items_total',
      'zonescope_session_zones_total',
      'zonescope_session_protocol_errors_total',
      'zonescope_session_evicted_bytes_total',
      'zonescope_store_bytes',
      'zonescope_sessions',
      'zonescope_store_limit_bytes',
      'zonescope_store_peak_bytes',
      'zonescope_process_resident_bytes',
      'zonescope_ingest_connections',
      'zonescope_sessions_pending',
      'zonescope_connections_rejected_total',
      'zonescope_sessions_ended_total',
      'zonescope_sessions_dropped_total',
      'zonescope_plot_value',
      'zonescope_plot_series',
      'zonescope_plot_series_dropped',
      'zonescope_live_viewers',
      'zonescope_live_viewers_max',
      'zonescope_live_viewers_refused_total',
      'zonescope_live_updates_total',
      'zonescope_live_updates_coalesced_total',
      'zonescope_live_updates_skipped_total',
      'zonescope_live_updates_reduced_total',
      'zonescope_live_updates_shared_total',
      'zonescope_refused_total',
    ]);
  });

  it("counts each session's bytes, queue items, zones, protocol errors and evicted bytes", async () => {
    const { families } = await metrics(server);
    const s = (name: string, id: string) => sampleOf(families, name, { session: id }).value;
    const decoded = JSON.parse(readFileSync(fixture('small.decoded.json'), 'utf8')) as { client: { bytes: number; items: number } };
    const truth = JSON.parse(readFileSync(fixture('small.truth.json'), 'utf8')) as { zones_total: number };
    expect(sampleOf(families, 'zonescope_session_bytes_total', { session: smallId }).labels).toEqual({ session: smallId, app: 'fixture_app' });
    expect(s('zonescope_session_bytes_total', smallId)).toBe(decoded.client.bytes);
    expect(s('zonescope_session_queue_items_total', smallId)).toBe(decoded.client.items);
    expect(s('zonescope_session_zones_total', smallId)).toBe(truth.zones_total);
    expect(s('zonescope_session_protocol_errors_total', smallId)).toBe(0);
    expect(s('zonescope_session_evicted_bytes_total', smallId)).toBe(0);
    expect(s('zonescope_session_protocol_errors_total', badId)).toBe(1);
    expect(s('zonescope_session_bytes_total', badId)).toBe(1175);
    expect(s('zonescope_session_zones_total', badId)).toBe(0);
    expect(sampleOf(families, 'zonescope_sessions').value).toBe(3);
    const list = await getJson(server, '/api/sessions');
    expect(sampleOf(families, 'zonescope_store_bytes').value).toBe(server.registry.budget.used);
    expect(sampleOf(families, 'zonescope_store_bytes').value).toBe(list.reduce((n: number, x: { storeBytes: number }) => n + x.storeBytes, 0));
  });

  it('exposes the latest value of every plot of the small recording', async () => {
    const { families } = await metrics(server);
    const truth = JSON.parse(readFileSync(fixture('small.truth.json'), 'utf8')) as { plots: Record<string, number> };
    const expected = lastPlotValues(readFileSync(fixture('small.zones-unwrapped-plots.csv'), 'utf8'), Object.keys(truth.plots));
    expect(Object.keys(expected).sort()).toEqual(['plot_double', 'plot_float', 'plot_int', 'plot_mem', 'plot_step']);
    expect(expected.plot_int).toBe(497);
    const ours = families.get('zonescope_plot_value')!.samples.filter((x) => x.labels.session === smallId);
    expect(ours.map((x) => x.labels.plot).sort()).toEqual(Object.keys(expected).sort());
    for (const x of ours) {
      expect(x.labels.app).toBe('fixture_app');
      // csvexport prints 6 decimals
      expect(x.value, x.labels.plot).toBeCloseTo(expected[x.labels.plot!]!, 5);
    }
    expect(sampleOf(families, 'zonescope_plot_value', { session: smallId, plot: 'plot_int' }).value).toBe(497);
    expect(sampleOf(families, 'zonescope_plot_value', { session: smallId, plot: 'plot_float' }).value).toBe(99.5);
  });

  it('escapes quotes, backslashes and newlines in label values', async () => {
    const { text, families } = await metrics(server);
    const plot = sampleOf(families, 'zonescope_plot_value', { session: oddId });
    expect(plot.labels).toEqual({ session: oddId, app: oddApp, plot: oddPlot });
    expect(plot.value).toBe(2.25);
    expect(text).toContain('app="odd \\"app\\"\\\\name\\nline2"');
  });
});
