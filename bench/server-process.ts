/**
 * `zonescope serve` in a child process (dist/server/cli.js), so the benchmark's client work
 * does not share the server's event loop or heap. Ports are asked as 0 and read back from the
 * lines serve prints. Extra node flags for the child (e.g. `--cpu-prof`) come from
 * ZONESCOPE_BENCH_SERVER_NODE_ARGS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { repoRoot } from './bench-util.js';

/** The fields of GET /api/sessions the benchmark reads (server/http/session-view.ts). */
export interface SessionSummary {
  id: string;
  source: string;
  state: string;
  endReason: string | null;
  error: { code: string; message: string } | null;
  startedAt: number;
  endedAt: number | null;
  bytes: number;
  decompressedBytes: number;
  queueItems: number;
  zones: number;
  storeBytes: number;
  evictedBytes: number;
}

export interface ServerProcess {
  child: ChildProcess;
  httpPort: number;
  ingestPort: number | null;
  /** GET a JSON API path, e.g. /api/sessions. */
  get<T>(path: string): Promise<T>;
  del(path: string): Promise<void>;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 15_000;

/**
 * fetch, tried up to three times on a network error: a pooled keep-alive connection that the
 * server closed after its idle timeout fails with "other side closed" when reused at that moment.
 */
export async function fetchRetrying(url: string, init?: RequestInit): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, init);
    } catch (err) {
      if (attempt >= 3 || !(err instanceof TypeError)) throw err;
    }
  }
}

/** Starts `serve --http 127.0.0.1:0 --ingest 127.0.0.1:0 --quiet` plus `args`; resolves once it listens. */
export function startServerProcess(args: string[], memory = '4GiB'): Promise<ServerProcess> {
  const cli = resolve(repoRoot(), 'dist/server/cli.js');
  const nodeArgs = (process.env.ZONESCOPE_BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  // e.g. ZONESCOPE_BENCH_SERVE_ARGS='--ingest-workers 0' to compare the main-thread-only pipeline
  const serveArgs = (process.env.ZONESCOPE_BENCH_SERVE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(
    process.execPath,
    [...nodeArgs, cli, 'serve', '--http', '127.0.0.1:0', '--ingest', '127.0.0.1:0', '--memory', memory, '--quiet', ...serveArgs, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`zonescope serve did not start within ${START_TIMEOUT_MS} ms:\n${out}${err}`));
    }, START_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`zonescope serve exited with ${code} before listening:\n${out}${err}`));
    });
    let started = false;
    child.stdout!.on('data', (d: Buffer) => {
      if (started) return; // later lines ("shutting down") are not needed
      out += d.toString();
      // the budget line is the last one serve prints at startup
      if (!/memory budget/.test(out)) return;
      started = true;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      const http = /viewer and API on http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      const ingest = /TCP ingest for SDK apps on 127\.0\.0\.1:(\d+)/.exec(out);
      if (!http) {
        child.kill('SIGKILL');
        fail(new Error(`cannot read the HTTP port from serve's output:\n${out}`));
        return;
      }
      const base = `http://127.0.0.1:${http[1]}`;
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      done({
        child,
        httpPort: Number(http[1]),
        ingestPort: ingest ? Number(ingest[1]) : null,
        get: async <T>(path: string) => {
          const res = await fetchRetrying(base + path);
          if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
          return (await res.json()) as T;
        },
        del: async (path: string) => {
          const res = await fetchRetrying(base + path, { method: 'DELETE' });
          if (!res.ok) throw new Error(`DELETE ${path}: ${res.status} ${await res.text()}`);
          await res.arrayBuffer();
        },
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          const code = await exited;
          if (code !== 0 || err.trim()) console.log(`(zonescope serve exited with ${code}${err.trim() ? `; stderr: ${err.trim()}` : ''})`);
        },
      });
    });
  });
}

const POLL_MS = 50;

/**
 * Polls GET /api/sessions until the session after the `seen` ones has ended. The figures use
 * its endedAt (the server's clock), so the poll interval does not add to them.
 * @throws Error after `timeoutMs`
 */
export async function waitForEndedSession(server: ServerProcess, seen: ReadonlySet<string>, timeoutMs: number): Promise<SessionSummary> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await server.get<SessionSummary[]>('/api/sessions');
    const s = list.find((x) => !seen.has(x.id));
    if (s && s.state === 'ended') return s;
    if (Date.now() > deadline) throw new Error(`no session ended within ${timeoutMs} ms (${s ? `session ${s.id} is ${s.state}` : 'no new session'})`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
