import uPlot from 'uplot';
import type { FleetAppsResult, FleetZoneSeries, FleetZonesResult } from '../../protocol/view/fleet-types.js';
import { ApiError } from '../api.js';
import type { App } from '../app.js';
import { colorFromName, rgbCss } from '../colors.js';
import { formatCount, formatDuration } from '../format.js';
import { PanelLifecycle, PanelShell, errorText, h } from './panel-kit.js';
import type { Panel } from './panel.js';

/**
 * Fleet: one zone name across every app and host writing to the server's ClickHouse
 * (GET /api/fleet/zones, /api/fleet/apps): p50 / p90 / p99 per (app, host) over time in one
 * uPlot chart (solid p99, dashed p90, dotted p50), zone counts in a second, and the apps, hosts
 * and sessions of the window below. The window is the last 15 min / 1 h / 6 h / 24 h up to now
 * or a custom one. The zone name is suggested from the current session's zone names. Without
 * --clickhouse the server answers 409 ZS_FLEET_NO_CLICKHOUSE and the panel says so.
 */

/** Series drawn at most (the busiest; the API answers up to 100): more lines would not be readable. */
export const FLEET_MAX_DRAWN = 8;
const WINDOWS: [string, number][] = [
  ['last 15 min', 15 * 60_000],
  ['last 1 h', 3_600_000],
  ['last 6 h', 6 * 3_600_000],
  ['last 24 h', 24 * 3_600_000],
];
const CHART_HEIGHT = 220;
const COUNT_HEIGHT = 110;
const AXIS_STROKE = '#8a8f98';
const GRID_STROKE = 'rgba(255, 255, 255, 0.07)';

const STYLE = `
.fleet-controls { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.fleet-controls input[type=number] { width: 5em; }
.fleet-chart { margin-top: 8px; }
.fleet-chart .u-legend { font-size: 11px; text-align: left; }
.fleet-apps { margin-top: 10px; font-size: 12px; }
.fleet-apps td { padding: 1px 8px 1px 0; }
.fleet-section { margin-top: 10px; font-weight: 600; }
`;

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = (await res.json()) as T & { error?: string; code?: string };
  if (!res.ok) throw new ApiError(res.status, body.code ?? 'ZS_HTTP', body.error ?? `HTTP ${res.status}`);
  return body;
}

const seriesName = (s: FleetZoneSeries) => `${s.app}/${s.host}`;

/** x values of the buckets' starts, seconds since the epoch (uPlot's time scale). */
export function bucketTimes(r: FleetZonesResult): number[] {
  const from = Number(BigInt(r.from) / 1_000_000n) / 1000;
  const width = Number(BigInt(r.bucketNs)) / 1e9;
  return Array.from({ length: r.buckets }, (_, i) => from + i * width);
}

function axes(format: (v: number) => string): uPlot.Axis[] {
  return [
    { stroke: AXIS_STROKE, grid: { stroke: GRID_STROKE }, ticks: { stroke: GRID_STROKE } },
    { stroke: AXIS_STROKE, grid: { stroke: GRID_STROKE }, ticks: { stroke: GRID_STROKE }, size: 64, values: (_u, vals) => vals.map(format) },
  ];
}

export function createFleetPanel(app: App): Panel {
  const style = document.createElement('style');
  style.textContent = STYLE;
  document.head.append(style);

  const shell = new PanelShell(false);
  const names = h('datalist', { id: 'fleet-names' });
  const name = h('input', { id: 'fleet-name', attrs: { type: 'search', placeholder: 'zone name', 'aria-label': 'Zone name', list: 'fleet-names' } });
  const appSelect = h('select', { id: 'fleet-app', attrs: { 'aria-label': 'App' } }, h('option', { text: 'all apps', attrs: { value: '' } }));
  const windowSelect = h('select', { id: 'fleet-window', attrs: { 'aria-label': 'Window' } });
  for (const [label, ms] of WINDOWS) windowSelect.append(h('option', { text: label, attrs: { value: String(ms) } }));
  windowSelect.append(h('option', { text: 'custom', attrs: { value: 'custom' } }));
  windowSelect.value = String(3_600_000);
  const fromInput = h('input', { id: 'fleet-from', attrs: { type: 'datetime-local', step: '1', 'aria-label': 'From', hidden: '' } });
  const toInput = h('input', { id: 'fleet-to', attrs: { type: 'datetime-local', step: '1', 'aria-label': 'To', hidden: '' } });
  const buckets = h('input', { id: 'fleet-buckets', attrs: { type: 'number', min: '1', max: '1000', value: '60', 'aria-label': 'Buckets', title: 'time buckets (1-1000)' } });
  const go = h('button', { id: 'fleet-go', text: 'Query' });
  const summary = h('div', { class: 'muted fleet-summary', id: 'fleet-summary' });
  shell.head.append(h('div', { class: 'fleet-controls' }, name, names, appSelect, windowSelect, fromInput, toInput, h('span', { class: 'muted', text: 'buckets' }), buckets, go), summary);
  const chartEl = h('div', { class: 'fleet-chart', id: 'fleet-chart', attrs: { role: 'img', 'aria-label': 'p50, p90 and p99 per app and host over time' } });
  const countEl = h('div', { class: 'fleet-chart', id: 'fleet-count', attrs: { role: 'img', 'aria-label': 'zones per bucket per app and host' } });
  const appsEl = h('div', { class: 'fleet-apps', id: 'fleet-apps' });
  shell.body.append(chartEl, h('div', { class: 'fleet-section', text: 'Zones per bucket' }), countEl, h('div', { class: 'fleet-section', text: 'Apps, hosts and sessions in the window' }), appsEl);

  let charts: uPlot[] = [];
  let lastApps: FleetAppsResult | null = null;
  /** the latest answer, for tests (window.__zs.fleet) */
  let lastZones: FleetZonesResult | null = null;

  const windowParams = (): { from: string; to: string } => {
    if (windowSelect.value === 'custom') {
      const from = new Date(fromInput.value);
      const to = new Date(toInput.value);
      if (!Number.isFinite(from.getTime()) || !Number.isFinite(to.getTime())) throw new Error('custom window: set both From and To');
      return { from: from.toISOString(), to: to.toISOString() };
    }
    const now = Date.now();
    return { from: new Date(now - Number(windowSelect.value)).toISOString(), to: new Date(now).toISOString() };
  };

  const suggestNames = () => {
    const seen = new Set<string>();
    names.replaceChildren();
    for (const s of app.srclocs) {
      if (seen.has(s.name) || seen.size >= 500) continue;
      seen.add(s.name);
      names.append(h('option', { attrs: { value: s.name } }));
    }
  };

  const drawApps = (r: FleetAppsResult) => {
    const keep = appSelect.value;
    appSelect.replaceChildren(h('option', { text: 'all apps', attrs: { value: '' } }), ...r.apps.map((a) => h('option', { text: a.app, attrs: { value: a.app } })));
    if (keep !== '' && !r.apps.some((a) => a.app === keep)) appSelect.append(h('option', { text: keep, attrs: { value: keep } }));
    appSelect.value = keep;
    const rows = r.apps.flatMap((a) =>
      a.hosts.map((hh) => {
        const zones = hh.sessions.reduce((n, s) => n + s.zones, 0);
        const live = hh.sessions.filter((s) => !s.ended).length;
        return h('tr', { data: { app: a.app, host: hh.host } }, h('td', { text: a.app }), h('td', { text: hh.host }), h('td', { text: `${hh.sessions.length} session${hh.sessions.length === 1 ? '' : 's'}${live ? ` (${live} live)` : ''}` }), h('td', { class: 'muted', text: `${formatCount(zones)} zones` }));
      }),
    );
    appsEl.replaceChildren(rows.length ? h('table', {}, h('tbody', {}, ...rows)) : h('div', { class: 'muted', text: 'No sessions stored in this window.' }));
    if (r.cut) appsEl.append(h('div', { class: 'muted', text: `Only the latest ${r.maxSessions} sessions are listed.` }));
  };

  const destroyCharts = () => {
    for (const c of charts) c.destroy();
    charts = [];
  };

  const drawZones = (r: FleetZonesResult) => {
    destroyCharts();
    const drawn = r.series.slice(0, FLEET_MAX_DRAWN);
    const more = r.seriesFound - drawn.length;
    summary.textContent = `${r.name}${r.app ? ` in ${r.app}` : ''}: ${formatCount(r.series.reduce((n, s) => n + s.total, 0))} zones, ${r.seriesFound} app/host series${more > 0 ? ` (the ${drawn.length} busiest drawn)` : ''}, ${r.buckets} buckets of ${formatDuration(Number(r.bucketNs))}; ${r.elapsedMs} ms. From ${r.source}; quantiles: ${r.quantiles}.`;
    chartEl.dataset.series = String(drawn.length);
    if (drawn.length === 0) return;
    const width = Math.max(240, shell.body.clientWidth - 8);
    const xs = bucketTimes(r);
    const nullable = (v: (number | null)[]) => v.map((x) => (x === null ? null : x)) as (number | null)[];
    const latency: uPlot.Series[] = [{}];
    const latencyData: uPlot.AlignedData = [xs] as unknown as uPlot.AlignedData;
    const countSeries: uPlot.Series[] = [{}];
    const countData: (number | null)[][] = [xs];
    for (const s of drawn) {
      const stroke = rgbCss(colorFromName(seriesName(s)));
      for (const [q, values, dash] of [
        ['p99', s.p99Ns, undefined],
        ['p90', s.p90Ns, [6, 4]],
        ['p50', s.p50Ns, [2, 3]],
      ] as const) {
        latency.push({ label: `${seriesName(s)} ${q}`, stroke, width: q === 'p99' ? 1.75 : 1.25, ...(dash && { dash: [...dash] }), spanGaps: false, value: (_u, v) => (v === null ? '-' : formatDuration(v)) });
        (latencyData as unknown as (number | null)[][]).push(nullable(values));
      }
      countSeries.push({ label: seriesName(s), stroke, width: 1.25, value: (_u, v) => (v === null ? '-' : formatCount(v)) });
      countData.push(s.count);
    }
    const common = (height: number): Omit<uPlot.Options, 'series'> => ({
      width,
      height,
      scales: { x: { time: true }, y: { auto: true, range: (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1] } },
      cursor: { sync: { key: 'zonescope-fleet' }, drag: { x: false, y: false } },
    });
    charts.push(new uPlot({ ...common(CHART_HEIGHT), series: latency, axes: axes((v) => formatDuration(v)) }, latencyData, chartEl));
    charts.push(new uPlot({ ...common(COUNT_HEIGHT), series: countSeries, axes: axes((v) => formatCount(v)) }, countData as unknown as uPlot.AlignedData, countEl));
  };

  const noClickHouse = (e: unknown) => e instanceof ApiError && e.code === 'ZS_FLEET_NO_CLICKHOUSE';

  const lifecycle = new PanelLifecycle(app, {
    reloadOn: [],
    liveRefreshMs: 0,
    load: async (_reason, isCurrent) => {
      suggestNames();
      if (name.value === '' && app.srclocs.length > 0 && app.srclocs[0]) name.placeholder = `zone name, e.g. ${app.srclocs[0].name}`;
      let win: { from: string; to: string };
      try {
        win = windowParams();
      } catch (e) {
        shell.setState('error', errorText(e));
        return;
      }
      shell.setState('loading', 'Loading…');
      try {
        const apps = await getJson<FleetAppsResult>(`/api/fleet/apps?from=${encodeURIComponent(win.from)}&to=${encodeURIComponent(win.to)}`);
        if (!isCurrent()) return;
        lastApps = apps;
        drawApps(apps);
        if (name.value === '') {
          destroyCharts();
          summary.textContent = '';
          shell.setState('empty', 'Enter a zone name to see its p50, p90 and p99 per app and host.');
          return;
        }
        const n = Math.trunc(Number(buckets.value)) || 60;
        const q = new URLSearchParams({ name: name.value, from: win.from, to: win.to, buckets: String(n) });
        if (appSelect.value !== '') q.set('app', appSelect.value);
        const zones = await getJson<FleetZonesResult>(`/api/fleet/zones?${q}`);
        if (!isCurrent()) return;
        lastZones = zones;
        drawZones(zones);
        if (zones.series.length === 0) shell.setState('empty', `No zone "${zones.name}" in this window.`);
        else shell.setState('ready', '');
      } catch (e) {
        if (!isCurrent()) return;
        destroyCharts();
        if (noClickHouse(e)) {
          shell.element.dataset.code = 'ZS_FLEET_NO_CLICKHOUSE';
          appsEl.replaceChildren();
          shell.setState('empty', 'This server keeps no fleet data: start it with --clickhouse URL to see zones across apps and hosts.');
        } else {
          shell.setState('error', errorText(e));
        }
      }
    },
  });

  const reload = () => lifecycle.visible && lifecycle.reload('event');
  go.addEventListener('click', reload);
  name.addEventListener('keydown', (ev) => ev.key === 'Enter' && reload());
  for (const el of [appSelect, buckets, fromInput, toInput]) el.addEventListener('change', reload);
  windowSelect.addEventListener('change', () => {
    const custom = windowSelect.value === 'custom';
    fromInput.hidden = !custom;
    toInput.hidden = !custom;
    if (custom && fromInput.value === '') {
      // start from the last hour, in local time as datetime-local shows it
      const local = (ms: number) => new Date(ms - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
      fromInput.value = local(Date.now() - 3_600_000);
      toInput.value = local(Date.now());
    }
    reload();
  });
  app.on('srclocs', () => lifecycle.visible && suggestNames());

  return {
    id: 'fleet',
    title: 'Fleet',
    element: Object.assign(shell.element, { fleetState: () => ({ zones: lastZones, apps: lastApps, charts: charts.map((c) => c.series.map((s) => s.label ?? '')) }) }),
    activate: () => lifecycle.activate(),
    deactivate: () => lifecycle.deactivate(),
  };
}
