/**
 * `queries`: does a heavy or hostile query stall the server? `zonescope serve` runs in a child
 * process with the stress recording (6.01 M zones) imported. For each request of issue 10's
 * table (search limit=1e9, zones nsPerPx=0 and px=-1, flame and stats over the whole session)
 * and the largest allowed forms of them (search limit=10000, a zones page, messages), a second
 * child process sends that request back to back for WINDOW_MS (reading every body to the end),
 * while this process asks GET /api/sessions every PROBE_MS on keep-alive connections, whether
 * or not the previous ones were answered (an open loop: a request's latency counts from when it
 * was due, so a server that stalls for 20 s shows 2,000 slow answers, not one).
 * Printed: the hostile request's status, bytes and time; the list's p50 / p99 / max latency over
 * the window (and how many failed: a reset keep-alive connection); the server's peak RSS
 * (VmHWM covers the process's whole life, so VmRSS is sampled every 20 ms).
 * Target: p99 <= 100 ms while any one of them runs.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { resolve } from 'node:path';
import { checkTarget } from './bench-util.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

const WINDOW_MS = Number(process.env.ZONESCOPE_BENCH_QUERY_WINDOW_MS ?? 6000);
const PROBE_MS = 10;

const HOSTILE: { what: string; path: string }[] = [
  { what: 'none (idle server)', path: '' },
  { what: 'search q=S limit=1e9', path: 'search?q=S&limit=1e9' },
  { what: 'search q=S limit=10000 (max)', path: 'search?q=S&limit=10000' },
  { what: 'zones nsPerPx=0', path: 'zones?nsPerPx=0' },
  { what: 'zones px=-1', path: 'zones?px=-1' },
  { what: 'flame, whole session', path: 'flame' },
  { what: 'stats, whole session', path: 'stats' },
  { what: 'messages q=x limit=10000', path: 'messages?q=x&limit=10000' },
];

/** The script the load child runs: the request back to back until `ms` passed, then a JSON summary. */
const LOAD_SCRIPT = `
const [url, ms] = [process.argv[1], Number(process.argv[2])];
const until = Date.now() + ms;
const runs = [];
(async () => {
  do {
    const t = performance.now();
    const res = await fetch(url);
    const bytes = (await res.arrayBuffer()).byteLength;
    runs.push({ status: res.status, bytes, ms: performance.now() - t });
  } while (Date.now() < until);
  console.log(JSON.stringify(runs));
})().catch((e) => { console.log(JSON.stringify([{ status: -1, bytes: 0, ms: 0, error: String(e) }])); });
`;

interface LoadRun {
  status: number;
  bytes: number;
  ms: number;
  error?: string;
}

function runLoad(url: string, ms: number): Promise<LoadRun[]> {
  const child = spawn(process.execPath, ['-e', LOAD_SCRIPT, url, String(ms)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((done) => child.once('exit', () => done(JSON.parse(out.trim() || '[]') as LoadRun[])));
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * GET path on a keep-alive agent; resolves with the latency in ms once the body is read, or
 * with NaN when the connection failed (a server whose loop was blocked past its keep-alive
 * timeout resets the idle connection: ECONNRESET).
 */
function timedGet(agent: Agent, port: number, path: string, dueAt: number): Promise<number> {
  const t = dueAt;
  return new Promise((done) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.once('end', () => done(performance.now() - t));
      res.once('error', () => done(NaN));
    });
    req.once('error', () => done(NaN));
    req.end();
  });
}

function quantile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

async function importStress(server: ServerProcess, path: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/sessions/import?name=stress.client.bin`, { method: 'POST', body: readFileSync(path) });
  const body = (await res.json()) as { id?: string; error?: string };
  if (res.status !== 201 || !body.id) throw new Error(`import of stress failed: ${res.status} ${JSON.stringify(body)}`);
  return body.id;
}

export async function runQueryBench(fixtures: string | null): Promise<void> {
  if (!fixtures) {
    console.log('queries: ../shared/fixtures/tracy is absent, skipped');
    return;
  }
  const server = await startServerProcess([], '1GiB');
  const pid = server.child.pid!;
  try {
    const id = await importStress(server, resolve(fixtures, 'stress.client.bin'));
    const s = await server.get<{ zones: number; storeBytes: number }>(`/api/sessions/${id}`);
    console.log(`queries: stress imported (${(s.zones / 1e6).toFixed(2)} M zones, store ${(s.storeBytes / 2 ** 20).toFixed(0)} MiB, RSS ${rssMiB(pid).toFixed(0)} MiB); each row: ${WINDOW_MS} ms of that request back to back (another process) while GET /api/sessions is asked every ${PROBE_MS} ms (open loop: latency from when it was due)`);
    console.log(`  ${'hostile request'.padEnd(30)} ${'status'.padEnd(7)} ${'body'.padStart(10)} ${'each'.padStart(9)}  | /api/sessions: ${'n'.padStart(5)} ${'p50'.padStart(7)} ${'p99'.padStart(7)} ${'max'.padStart(7)} | peak RSS`);
    for (const h of HOSTILE) {
      const agent = new Agent({ keepAlive: true, maxSockets: 8 });
      let peak = rssMiB(pid);
      const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 20);
      const load = h.path ? runLoad(`http://127.0.0.1:${server.httpPort}/api/sessions/${id}/${h.path}`, WINDOW_MS) : new Promise<LoadRun[]>((r) => setTimeout(() => r([]), WINDOW_MS));
      let loadDone = false;
      void load.then(() => (loadDone = true));
      const latencies: number[] = [];
      let failed = 0;
      // give the load child time to start and send its first request
      await new Promise((r) => setTimeout(r, 300));
      const probes: Promise<void>[] = [];
      const start = performance.now();
      for (let k = 0; !loadDone; k++) {
        const due = start + k * PROBE_MS;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        probes.push(
          timedGet(agent, server.httpPort, '/api/sessions', due).then((ms) => {
            if (Number.isNaN(ms)) failed++;
            else latencies.push(ms);
          }),
        );
      }
      await Promise.all(probes);
      clearInterval(sampler);
      agent.destroy();
      const runs = await load;
      latencies.sort((a, b) => a - b);
      const p99 = quantile(latencies, 0.99);
      const first = runs[0];
      const each = runs.length ? runs.reduce((a, r) => a + r.ms, 0) / runs.length : 0;
      const status = first ? (first.error ? 'error' : String(first.status)) : '-';
      const body = first ? `${(first.bytes / 2 ** 20).toFixed(2)} MiB` : '-';
      console.log(
        `  ${h.what.padEnd(30)} ${status.padEnd(7)} ${body.padStart(10)} ${(runs.length ? `${each.toFixed(0)} ms` : '-').padStart(9)}  | ${''.padEnd(14)} ${String(latencies.length).padStart(5)} ` +
          `${quantile(latencies, 0.5).toFixed(1).padStart(7)} ${p99.toFixed(1).padStart(7)} ${latencies[latencies.length - 1]!.toFixed(1).padStart(7)} | ${peak.toFixed(0)} MiB` +
          (failed ? ` (${failed} list requests failed: connection reset)` : '') +
          (first?.error ? ` (${first.error})` : ''),
      );
      if (h.path) checkTarget('queries', `GET /api/sessions p99 while "${h.what}" runs`, `${p99.toFixed(1)} ms`, '<= 100 ms', p99 <= 100);
    }
  } finally {
    await server.stop();
  }
}
