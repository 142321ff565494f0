/**
 * `npm run soak`: the load mixes of issue 10 point 3 against `zonescope serve --memory 64MiB` in
 * a child process (a fresh one per mix), on loopback ephemeral ports:
 *
 *   a  1,200 small sessions: small.client.bin replayed over TCP ingest, 8 at a time
 *   b  stress.client.bin + medium.client.bin x4, all five at once
 *   c  50 SDK apps (client/, 5 child processes of 10) + 20 viewers subscribed on /api/live,
 *      for --seconds (default 60)
 *
 * Select with arguments (`npm run soak -- a c`, default all) and `--seconds N` for mix c.
 * Throughout each mix it samples the server's RSS (/proc/PID/status VmRSS, every 100 ms) and
 * the latency of GET /api/sessions (one request in flight, every 100 ms), and at the end reads
 * /metrics (store peak, dropped and refused counts). Per mix it prints one line: RSS peak,
 * budget, store peak, /api/sessions p50/p99/max, dropped/refused counts, and PASS/FAIL against
 * RSS peak <= budget + 150 MiB. Exits 1 when a mix fails. Record the figures in
 * docs/RELIABILITY.md (## Soak).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { encode } from '@msgpack/msgpack';
import { WebSocket } from 'ws';
import { machineLine, repoRoot, tracyFixturesDir } from './bench-util.js';
import { fetchRetrying, startServerProcess, type ServerProcess, type SessionSummary } from './server-process.js';
import { dialIngest } from './tracy-peer.js';

const MiB = 2 ** 20;
const BUDGET = '64MiB';
const BUDGET_BYTES = 64 * MiB;
const OVERHEAD_BYTES = 150 * MiB;
const SAMPLE_MS = 100;

interface Samples {
  rssPeak: number;
  latenciesMs: number[];
}

/** Samples RSS and /api/sessions latency until stop() is called. */
function sampler(server: ServerProcess): { stop(): Promise<Samples> } {
  const s: Samples = { rssPeak: 0, latenciesMs: [] };
  let running = true;
  const rss = () => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'));
      if (m) s.rssPeak = Math.max(s.rssPeak, Number(m[1]) * 1024);
    } catch {
      // the process is gone
    }
  };
  const rssTimer = setInterval(rss, SAMPLE_MS);
  const api = (async () => {
    while (running) {
      const t0 = performance.now();
      const res = await fetchRetrying(`http://127.0.0.1:${server.httpPort}/api/sessions`);
      await res.arrayBuffer();
      s.latenciesMs.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, SAMPLE_MS));
    }
  })();
  return {
    stop: async () => {
      running = false;
      clearInterval(rssTimer);
      rss();
      await api;
      return s;
    },
  };
}

/** Prometheus text -> value of `name{labels}` (0 when absent). */
function metric(text: string, name: string, label = ''): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if ((label === '' && rest.startsWith(' ')) || (label !== '' && rest.startsWith(`{${label}}`))) return Number(rest.slice(rest.lastIndexOf(' ') + 1));
  }
  return 0;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** Runs `tasks` with at most `n` at once. */
async function pool<T>(count: number, n: number, task: (i: number) => Promise<T>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < count) await task(next++);
  }));
}

async function waitAllEnded(server: ServerProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const list = await server.get<SessionSummary[]>('/api/sessions');
    if (list.every((s) => s.state === 'ended')) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function runMix(name: string, what: string, load: (server: ServerProcess) => Promise<string>): Promise<boolean> {
  const server = await startServerProcess([], BUDGET);
  const samples = sampler(server);
  const t0 = performance.now();
  let note: string;
  try {
    note = await load(server);
    await waitAllEnded(server, 120_000);
  } finally {
    // a few more samples once the load is over: what stays
    await new Promise((r) => setTimeout(r, 1000));
  }
  const s = await samples.stop();
  const text = await (await fetchRetrying(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
  const listed = (await server.get<SessionSummary[]>('/api/sessions')).length;
  await server.stop();
  const storePeak = metric(text, 'zonescope_store_peak_bytes');
  const dropped = ['empty', 'evicted', 'fully-evicted'].map((r) => [r, metric(text, 'zonescope_sessions_dropped_total', `reason="${r}"`)] as const);
  const refused = ['handshake-timeout', 'handshake-closed', 'max-connections', 'max-connections-per-address'].map(
    (r) => [r, metric(text, 'zonescope_connections_rejected_total', `reason="${r}"`)] as const,
  );
  const sum = (xs: readonly (readonly [string, number])[]) => xs.reduce((n, [, v]) => n + v, 0);
  const detail = (xs: readonly (readonly [string, number])[]) => xs.filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  const pass = s.rssPeak <= BUDGET_BYTES + OVERHEAD_BYTES && storePeak <= BUDGET_BYTES;
  const ms = (v: number) => v.toFixed(1);
  console.log(
    `soak ${name} (${what}; ${((performance.now() - t0) / 1000).toFixed(0)} s; ${note}): ` +
      `RSS peak ${(s.rssPeak / MiB).toFixed(1)} MiB (budget ${BUDGET_BYTES / MiB} MiB + ${((s.rssPeak - BUDGET_BYTES) / MiB).toFixed(1)}), ` +
      `store peak ${(storePeak / MiB).toFixed(2)} MiB, ` +
      `GET /api/sessions p50 ${ms(percentile(s.latenciesMs, 50))} ms p99 ${ms(percentile(s.latenciesMs, 99))} ms max ${ms(Math.max(...s.latenciesMs))} ms (n=${s.latenciesMs.length}), ` +
      `listed ${listed}, dropped ${sum(dropped)} (${detail(dropped)}), refused ${sum(refused)} (${detail(refused)}): ` +
      `${pass ? 'PASS' : 'FAIL'} (RSS <= budget + ${OVERHEAD_BYTES / MiB} MiB)`,
  );
  return pass;
}

async function mixA(server: ServerProcess, fixtures: string): Promise<string> {
  const small = readFileSync(resolve(fixtures, 'small.client.bin'));
  let terminated = 0;
  await pool(1200, 8, async () => {
    const r = await dialIngest(server.ingestPort!, small);
    if (!Number.isNaN(r.terminateAt)) terminated++;
  });
  return `1200 sessions, ${terminated} terminated`;
}

async function mixB(server: ServerProcess, fixtures: string): Promise<string> {
  const streams = ['stress', 'medium', 'medium', 'medium', 'medium'].map((n) => readFileSync(resolve(fixtures, `${n}.client.bin`)));
  const results = await Promise.all(streams.map((s) => dialIngest(server.ingestPort!, s)));
  const mb = streams.reduce((n, s) => n + s.length, 0) / MiB;
  return `${mb.toFixed(0)} MiB of streams, ${results.filter((r) => !Number.isNaN(r.terminateAt)).length} of 5 terminated`;
}

async function mixC(server: ServerProcess, seconds: number): Promise<string> {
  const app = resolve(repoRoot(), 'dist/bench/soak-app.js');
  const children = Array.from({ length: 5 }, (_, k) =>
    spawn(process.execPath, [app, String(server.ingestPort), '10', String(seconds), `app${k}`], { stdio: ['ignore', 'pipe', 'inherit'] }),
  );
  const done = children.map((c) => new Promise<string>((r) => {
    let out = '';
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    c.once('exit', (code) => r(code === 0 ? out.trim() : `exited ${code}`));
  }));
  // 20 viewers, each following one of the apps' sessions once they are listed
  const until = Date.now() + 20_000;
  let list: SessionSummary[] = [];
  while (Date.now() < until && list.filter((s) => s.state === 'live').length < 50) {
    await new Promise((r) => setTimeout(r, 200));
    list = await server.get<SessionSummary[]>('/api/sessions');
  }
  const live = list.filter((s) => s.state === 'live');
  let updates = 0;
  let bytes = 0;
  const viewers = Array.from({ length: 20 }, (_, i) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.httpPort}/api/live`);
    ws.binaryType = 'nodebuffer';
    ws.on('open', () => ws.send(encode({ type: 'subscribe', session: live[i % Math.max(1, live.length)]?.id ?? '1', px: 1500, follow: true, span: 2e9 })));
    ws.on('message', (d: Buffer) => {
      updates++;
      bytes += d.length;
    });
    ws.on('error', () => {});
    return ws;
  });
  const outs = await Promise.all(done);
  for (const ws of viewers) ws.close();
  const zones = outs.reduce((n, o) => n + Number(/(\d+) zones/.exec(o)?.[1] ?? 0), 0);
  return `${live.length} apps live, ${(zones / 1e6).toFixed(1)} M zones sent, 20 viewers got ${updates} messages (${(bytes / MiB).toFixed(0)} MiB)`;
}

const args = process.argv.slice(2);
let seconds = 60;
const mixes = new Set<string>();
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--seconds') seconds = Number(args[++i]);
  else if (['a', 'b', 'c'].includes(args[i]!)) mixes.add(args[i]!);
  else {
    console.error(`unknown argument '${args[i]}': mixes a, b, c and --seconds N`);
    process.exit(2);
  }
}
if (mixes.size === 0) for (const m of ['a', 'b', 'c']) mixes.add(m);
if (!(seconds > 0)) throw new TypeError('--seconds needs a positive number');

const fixtures = tracyFixturesDir();
console.log(`machine: ${machineLine()}`);
console.log(`command: npm run soak${args.length ? ' -- ' + args.join(' ') : ''}`);
let ok = true;
if ((mixes.has('a') || mixes.has('b')) && fixtures === null) {
  console.log('soak a, b: skipped, the Tracy recordings are not there (ZONESCOPE_FIXTURES)');
}
if (mixes.has('a') && fixtures) ok = (await runMix('a', '1200 small sessions', (s) => mixA(s, fixtures))) && ok;
if (mixes.has('b') && fixtures) ok = (await runMix('b', 'stress + medium x4 at once', (s) => mixB(s, fixtures))) && ok;
if (mixes.has('c')) ok = (await runMix('c', `50 SDK apps + 20 viewers for ${seconds} s`, (s) => mixC(s, seconds))) && ok;
process.exit(ok ? 0 : 1);
