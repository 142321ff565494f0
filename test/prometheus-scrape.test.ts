/**
 * Issue 15, Prometheus: a real prometheus (Debian's 2.42, test/support/db-servers.ts) scrapes
 * Zonescope's /metrics every second, and its HTTP API returns each plot's latest value as
 * zonescope_plot_value{app,session,plot} with the label values Zonescope wrote (escapes
 * included), plus the series bound's gauges. Skipped only where prometheus is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../server/serve.js';
import { PROMETHEUS_MISSING, startPrometheus, type DbServer } from './support/db-servers.js';

if (PROMETHEUS_MISSING !== null) console.warn(`prometheus-scrape: ${PROMETHEUS_MISSING}`);

interface Vector { metric: Record<string, string>; value: [number, string] }

const APP = 'scrape "app"\\x';
const PLOTS = { rss_bytes: [1000, 2048], 'load "avg" 1m': [0.25, 0.75] } as const;

/** Chrome trace of APP with one counter event per sample time: args are the plots (the last sample is each plot's last value). */
function trace(): string {
  const at = (k: number) => Object.fromEntries(Object.entries(PLOTS).map(([name, v]) => [name, v[k]]));
  return JSON.stringify({
    traceEvents: [
      { ph: 'M', name: 'process_name', pid: 7, tid: 1, args: { name: APP } },
      { ph: 'C', name: 'mem', pid: 7, tid: 1, ts: 10, args: at(0) },
      { ph: 'C', name: 'mem', pid: 7, tid: 1, ts: 20, args: at(1) },
    ],
  });
}

/** Asks Prometheus for `query` until `done(result)` holds (it does once a scrape of the target has landed). */
async function queryUntil(prom: DbServer, query: string, done: (r: Vector[]) => boolean, timeoutMs = 30_000): Promise<Vector[]> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(query)}`);
    const body = await res.json() as { status: string; data?: { resultType: string; result: Vector[] } };
    last = body;
    if (body.status === 'success' && body.data!.resultType === 'vector' && done(body.data!.result)) return body.data!.result;
    if (Date.now() > deadline) {
      const targets = await (await fetch(`${prom.url}/api/v1/targets`)).text();
      throw new Error(`${query}: not answered as expected within ${timeoutMs} ms; last answer ${JSON.stringify(last)}; targets ${targets}; log:\n${prom.logTail()}`);
    }
    // Prometheus scrapes every second: ask again 100 ms later
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(PROMETHEUS_MISSING !== null)('a real Prometheus scraping /metrics', () => {
  let server: ServerHandle;
  let prom: DbServer;
  let session: string;

  beforeAll(async () => {
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null });
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/sessions/import?name=scrape.json`, { method: 'POST', body: trace() });
    expect(res.status).toBe(201);
    session = ((await res.json()) as { id: string }).id;
    prom = (await startPrometheus(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: zonescope
    static_configs:
      - targets: ['127.0.0.1:${server.httpPort}']
`))!;
  });
  afterAll(async () => {
    await prom?.stop();
    await server?.close();
  });

  it('returns every plot\'s last value as zonescope_plot_value with its app, session and plot labels', async () => {
    const result = await queryUntil(prom, `zonescope_plot_value{session="${session}"}`, (r) => r.length === Object.keys(PLOTS).length);
    const got = Object.fromEntries(result.map((r) => [r.metric.plot!, { app: r.metric.app, session: r.metric.session, job: r.metric.job, value: Number(r.value[1]) }]));
    const want = Object.fromEntries(Object.entries(PLOTS).map(([name, v]) => [name, { app: APP, session, job: 'zonescope', value: v[1] }]));
    expect(got).toEqual(want);
  });

  it('scrapes the series bound gauges: everything kept, nothing dropped', async () => {
    const [kept] = await queryUntil(prom, 'zonescope_plot_series', (r) => r.length === 1);
    expect(Number(kept!.value[1])).toBe(Object.keys(PLOTS).length);
    const [dropped] = await queryUntil(prom, 'zonescope_plot_series_dropped', (r) => r.length === 1);
    expect(Number(dropped!.value[1])).toBe(0);
    const [up] = await queryUntil(prom, 'up{job="zonescope"}', (r) => r.length === 1);
    expect(up!.value[1]).toBe('1');
  });
});
