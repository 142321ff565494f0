/**
 * examples/grafana/nodejs-runtime.json, the Grafana dashboard over `serve --influx`: every plot
 * name its InfluxQL queries use is one the SDK's runtime metrics send, and every query (panels
 * and template variables), with Grafana's macros and variables filled in as Grafana would, runs
 * on a real influxd holding what a real SDK client streamed through `serve --influx`, and
 * returns points. Skipped (that part) only where influxd is not installed.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../client/node.js';
import { EVENT_LOOP_DELAY_PLOT, HEAP_AVAILABLE_PLOT, heapSpacePlots, MALLOCED_PLOT, MEMORY_PLOTS, UNEXPLAINED_RSS_PLOT } from '../client/runtime-metrics.js';
import { plotsByName } from '../server/query/series-query.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { INFLUX_MISSING, startInflux, type DbServer } from './support/db-servers.js';
import { waitFor, waitNewSession, waitSessionEnded } from './support/server-api.js';

if (INFLUX_MISSING !== null) console.warn(`grafana-dashboard: ${INFLUX_MISSING}; the queries are not run`);

interface Target { refId: string; query: string; rawQuery: boolean }
interface Dashboard {
  __inputs: { name: string; pluginId: string }[];
  panels: { title: string; datasource: { type: string; uid: string }; targets: Target[] }[];
  templating: { list: { name: string; query: string }[] };
}

const dashboard = JSON.parse(readFileSync(new URL('../examples/grafana/nodejs-runtime.json', import.meta.url), 'utf8')) as Dashboard;
const queries = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, query: t.query })));

/** Node 20's V8 heap spaces: the plots a client sends for them. */
const SDK_PLOTS = [...MEMORY_PLOTS, EVENT_LOOP_DELAY_PLOT, HEAP_AVAILABLE_PLOT, MALLOCED_PLOT, UNEXPLAINED_RSS_PLOT, ...['old_space', 'new_space', 'code_space'].flatMap(heapSpacePlots)];

/** The plot names a query selects: `"plot" = 'x'` literals and `"plot" =~ /re/` regexes. */
function plotFilters(query: string): { literals: string[]; regexes: RegExp[] } {
  const literals = [...query.matchAll(/"plot" = '((?:[^'\\]|\\.)*)'/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1'));
  const regexes = [...query.matchAll(/"plot" =~ \/((?:[^/\\]|\\.)*)\//g)].map((m) => new RegExp(m[1]!));
  return { literals, regexes };
}

describe('examples/grafana/nodejs-runtime.json', () => {
  it('is an importable dashboard: one InfluxDB input, raw InfluxQL targets over zonescope_plot on every panel', () => {
    expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: 'DS_INFLUXDB', pluginId: 'influxdb' })]);
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(5);
    for (const p of dashboard.panels) {
      expect(p.datasource, p.title).toEqual({ type: 'influxdb', uid: '${DS_INFLUXDB}' });
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets) {
        expect(t.rawQuery, p.title).toBe(true);
        expect(t.query, p.title).toContain('FROM "zonescope_plot"');
        expect(t.query, p.title).toContain('$timeFilter');
      }
    }
  });

  it.each(queries)('panel "$panel" selects only plot names the SDK sends, each matching one', ({ query }) => {
    const { literals, regexes } = plotFilters(query);
    expect(literals.length + regexes.length).toBeGreaterThan(0);
    for (const name of literals) expect(SDK_PLOTS).toContain(name);
    for (const re of regexes) expect(SDK_PLOTS.some((n) => re.test(n)), String(re)).toBe(true);
  });

  it('names all five process.memoryUsage() plots, the event-loop delay and the derived native memory plot', () => {
    const all = queries.map((q) => plotFilters(q.query));
    const selected = (name: string) => all.some((f) => f.literals.includes(name) || f.regexes.some((re) => re.test(name)));
    for (const name of [...MEMORY_PLOTS, EVENT_LOOP_DELAY_PLOT, UNEXPLAINED_RSS_PLOT, MALLOCED_PLOT, HEAP_AVAILABLE_PLOT]) expect(selected(name), name).toBe(true);
  });
});

describe.skipIf(INFLUX_MISSING !== null)('the dashboard\'s queries on a real influxd fed by the SDK through serve --influx', () => {
  const APP = 'grafana-check';
  let influx: DbServer;
  let server: ServerHandle;
  let sessionKey: string;

  beforeAll(async () => {
    influx = (await startInflux())!;
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 }, influx: `${influx.url}/?db=grafana`, fleet: { serverId: 'dashb0a1', feedIntervalMs: 50 } });
    // plotPrefix '': the main thread's names, though vitest may run this file in a worker
    const tracy = await connect({ appName: APP, port: server.ingestPort!, exitHandlers: false, runtimeMetrics: { intervalMs: 20, plotPrefix: '' } });
    const id = await waitNewSession(server, 0);
    const session = server.registry.get(id)!;
    // until the app has sent 10 event-loop delay samples (one per 20 ms interval)
    await waitFor('10 event-loop delay samples', () => (plotsByName(session.store).find((p) => p.name === EVENT_LOOP_DELAY_PLOT)?.count ?? 0) >= 10, 30_000);
    await tracy.close();
    await waitSessionEnded(server, id);
    expect(await server.fleet.flush(30_000)).toBe(true);
    sessionKey = `dashb0a1-${id}`;
  });
  afterAll(async () => {
    await server?.close();
    await influx?.stop();
  });

  /** A query with Grafana's macros and this test's variable values, as Grafana sends it. */
  function fill(query: string): string {
    return query
      .replaceAll('$timeFilter', 'time > now() - 1h')
      .replaceAll('$__interval', '100ms')
      .replaceAll('$app', APP)
      .replaceAll('$host', '.*')
      .replaceAll('$session', sessionKey);
  }

  async function run(query: string): Promise<{ name: string; tags?: Record<string, string>; values: unknown[][] }[]> {
    const res = await fetch(`${influx.url}/query?${new URLSearchParams({ db: 'grafana', q: fill(query) })}`);
    const body = await res.json() as { results: { series?: { name: string; tags?: Record<string, string>; values: unknown[][] }[]; error?: string }[]; error?: string };
    expect(body.error ?? body.results[0]!.error, query).toBeUndefined();
    return body.results[0]!.series ?? [];
  }

  it.each(queries)('panel "$panel" returns points', async ({ query }) => {
    const series = await run(query);
    expect(series.length, fill(query)).toBeGreaterThan(0);
    for (const s of series) expect(s.values.length).toBeGreaterThan(0);
  });

  it('the memory panel returns one series per memoryUsage() plot', async () => {
    const series = await run(queries.find((q) => q.panel.startsWith('Memory'))!.query);
    expect(series.map((s) => s.tags!.plot).sort()).toEqual([...MEMORY_PLOTS].sort());
  });

  it('the template variables list the app and its session', async () => {
    const values = async (name: string) => (await run(dashboard.templating.list.find((v) => v.name === name)!.query))[0]?.values.map((v) => v[1]);
    expect(await values('app')).toContain(APP);
    expect(await values('session')).toEqual([sessionKey]);
    expect((await values('host'))?.length).toBe(1);
  });
});
