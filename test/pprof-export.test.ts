/**
 * pprof out of real sessions, read back by Debian's `go tool pprof`: the callstacks recording
 * (real Tracy client) through GET /pprof and `zonescope export --format pprof`, and a Node app
 * profiled with `connect({ profile: { cpu: true, heap: true } })` running a known hot function
 * and a known leak. Go's -top must give the functions the values our flame graphs give.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connect } from '../client/node.js';
import { HEAP_POOL } from '../client/profile.js';
import type { StackFlameResult } from '../protocol/view/types.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { runExport } from '../server/export/export-command.js';
import { CollectingStream } from './support/inspect-fixtures.js';
import { tracyFixturePath } from './support/fixture-paths.js';
import { GO_PRESENT, goPprofDir, top } from './support/go-pprof.js';
import { listenRecordedClient } from './support/tracy-replay.js';
import { waitNewSession, waitSessionEnded } from './support/server-api.js';

if (!GO_PRESENT) console.warn('pprof-export: `go` is not installed (Debian: apt-get install golang-go); the go tool pprof checks are skipped');
const CALLSTACKS = existsSync(tracyFixturePath('callstacks.client.bin'));

/** The server the current describe reads from. */
let server: ServerHandle;
let files = 0;

/** `zonescope export ...` in process: its status and what it wrote on stderr. */
async function runCli(args: string[]): Promise<{ code: number; stderr: string }> {
  const out = new CollectingStream();
  const err = new CollectingStream();
  const code = await runExport(args.slice(1), out as unknown as NodeJS.WritableStream, err);
  return { code, stderr: err.text };
}

async function get(path: string): Promise<Response> {
  const res = await fetch(`http://127.0.0.1:${server.httpPort}${path}`);
  expect(res.status, path).toBe(200);
  return res;
}

/** GET a pprof answer into a file of the go tool's directory. */
async function pprofFile(path: string): Promise<string> {
  const res = await get(path);
  expect(res.headers.get('content-type')).toBe('application/octet-stream');
  expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename=".+\.pb\.gz"$/);
  const file = join(goPprofDir, `export-${files++}.pb.gz`);
  writeFileSync(file, new Uint8Array(await res.arrayBuffer()));
  return file;
}

/** The tip of the heaviest path from the root: follow the biggest child. */
function heaviestTip(flame: StackFlameResult): { name: string; path: string[]; self: number } {
  let node = flame.nodes[0]!;
  const path: string[] = [];
  while (node.children.length > 0) {
    node = flame.nodes[node.children[0]!]!;
    path.push(node.name);
  }
  return { name: node.name, path, self: node.self };
}

describe.skipIf(!CALLSTACKS)('pprof of the callstacks recording', () => {
  let id: string;
  let mine: ServerHandle;
  beforeAll(async () => {
    const client = await listenRecordedClient(readFileSync(tracyFixturePath('callstacks.client.bin')), { chunkSize: 64 * 1024 });
    mine = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, connect: [{ host: '127.0.0.1', port: client.port }] });
    server = mine;
    id = await waitNewSession(mine, 0);
    await client.done;
    await client.close();
    await waitSessionEnded(mine, id);
  }, 60_000);
  afterAll(async () => {
    await mine?.close();
  });
  beforeEach(() => {
    server = mine;
  });

  it.skipIf(!GO_PRESENT)('GET /pprof: go tool pprof names the leak with our bytes and count, and the allocations of each pool', async () => {
    const truth = JSON.parse(readFileSync(tracyFixturePath('callstacks.truth.json'), 'utf8'));
    const inuse = await pprofFile(`/api/sessions/${id}/pprof?kind=inuse&pool=default`);
    const space = await top(inuse, 'inuse_space', 'B');
    expect(space.rows.get('cs1_leak_here')).toEqual({ flat: truth.memory.leaks.bytes, cum: truth.memory.leaks.bytes });
    const objects = await top(inuse, 'inuse_objects', null);
    expect(objects.rows.get('cs1_leak_here')!.flat).toBe(truth.memory.leaks.count);

    const alloc = await top(await pprofFile(`/api/sessions/${id}/pprof?kind=alloc&pool=default`), 'alloc_space', 'B');
    const flame: StackFlameResult = await (await get(`/api/sessions/${id}/stack-flame?kind=alloc&pool=default&invert=1`)).json();
    for (const c of flame.nodes[0]!.children) {
      const n = flame.nodes[c]!;
      expect(alloc.rows.get(n.name)!.flat, n.name).toBe(n.value);
    }
    expect(alloc.rows.get('cs1_deep')!.cum).toBe(truth.memory.unnamed.bytes_allocated);
    const pool = await top(await pprofFile(`/api/sessions/${id}/pprof?kind=alloc&pool=cs-pool`), 'alloc_space', 'B');
    expect(pool.rows.get('cs1_alloc_pool_here')!.flat).toBe(truth.memory['cs-pool'].bytes_allocated);
  });

  it.skipIf(!GO_PRESENT)('zonescope export --format pprof writes the same profile from the recording', async () => {
    const out = join(goPprofDir, `cli-${files++}.pb.gz`);
    const r = await runCli(['export', tracyFixturePath('callstacks.client.bin'), '--format', 'pprof', '--kind', 'inuse', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('pprof inuse, 1 stacks, 80 allocations');
    const space = await top(out, 'inuse_space', 'B');
    expect(space.rows.get('cs1_leak_here')).toEqual({ flat: 26640, cum: 26640 });
    const bad = await runCli(['export', tracyFixturePath('callstacks.client.bin'), '--format', 'pprof', '--kind', 'inuse', '--pool', 'nope', '-o', out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('no memory pool "nope"');
  });
});

/** The leak: kept for the whole test file, so its heap samples stay live. */
const leaked: number[][] = [];

function leakingFunction(): void {
  for (let i = 0; i < 400; i++) leaked.push(new Array<number>(512).fill(i));
}

function hotFunction(ms: number): number {
  const until = performance.now() + ms;
  let x = 0;
  while (performance.now() < until) for (let i = 0; i < 100_000; i++) x = (x * 31 + i) % 1000003;
  return x;
}

describe('a Node app with profile: { cpu: true, heap: true }', () => {
  let id: string;

  let mine: ServerHandle;
  afterAll(async () => {
    await mine?.close();
  });
  beforeEach(() => {
    server = mine;
  });
  beforeAll(async () => {
    mine = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 } });
    server = mine;
    const before = 0;
    const tracy = await connect({
      appName: 'profiled-app',
      port: server.ingestPort!,
      exitHandlers: false,
      profile: { cpu: true, heap: true, cpuChunkMs: 50, heapPollMs: 50, heapIntervalBytes: 4096 },
    });

    for (let round = 0; round < 10; round++) {
      tracy.zone('round', () => hotFunction(40)); // a zone, so the thread is listed (its samples' thread)
      leakingFunction();
      await new Promise((r) => setTimeout(r, 10));
    }
    await tracy.close();
    id = await waitNewSession(server, before);
    await waitSessionEnded(server, id);
  }, 60_000);

  it('the CPU flame graph\'s hottest tip is the hot function; the heap\'s largest live stack has the leak', async () => {
    const cpu: StackFlameResult = await (await get(`/api/sessions/${id}/stack-flame?kind=cpu&invert=1`)).json();
    expect(cpu.total).toBeGreaterThan(50);
    const tips = cpu.nodes[0]!.children.map((c) => cpu.nodes[c]!);
    expect(tips[0]!.name).toBe('hotFunction');
    expect(tips[0]!.file).toMatch(/pprof-export\.test\.ts$/);

    const heap: StackFlameResult = await (await get(`/api/sessions/${id}/stack-flame?kind=inuse&pool=${encodeURIComponent(HEAP_POOL)}`)).json();
    expect(heap.total).toBeGreaterThan(0);
    expect(heaviestTip(heap).path).toContain('leakingFunction');
    // thread=: the samples of one thread; this app samples only its main thread
    const threads: { id: number; zones: number }[] = await (await get(`/api/sessions/${id}/threads`)).json();
    const main = threads.find((t) => t.zones > 0)!;
    const one: StackFlameResult = await (await get(`/api/sessions/${id}/stack-flame?kind=cpu&thread=${main.id}`)).json();
    expect(one.total).toBe(cpu.total);
    const none: StackFlameResult = await (await get(`/api/sessions/${id}/stack-flame?kind=cpu&thread=4294967`)).json();
    expect(none.total).toBe(0);
  });

  it.skipIf(!GO_PRESENT)('go tool pprof -top on our cpu and inuse profiles names them, with our values', async () => {
    const cpuFlame: StackFlameResult = await (await get(`/api/sessions/${id}/stack-flame?kind=cpu&invert=1`)).json();
    const hot = cpuFlame.nodes[cpuFlame.nodes[0]!.children[0]!]!;
    const cpu = await top(await pprofFile(`/api/sessions/${id}/pprof?kind=cpu`), 'samples', null);
    const first = [...cpu.rows].sort((a, b) => b[1].flat - a[1].flat)[0]!;
    expect(first[0]).toBe('hotFunction');
    expect(first[1].flat).toBe(hot.value);

    const inuse = await top(await pprofFile(`/api/sessions/${id}/pprof?kind=inuse&pool=${encodeURIComponent(HEAP_POOL)}`), 'inuse_space', 'B');
    const heapFlame: StackFlameResult = await (await get(`/api/sessions/${id}/stack-flame?kind=inuse&pool=${encodeURIComponent(HEAP_POOL)}&invert=1`)).json();
    const leak = inuse.rows.get('leakingFunction');
    expect(leak, [...inuse.rows.keys()].join(', ')).toBeDefined();
    // pprof's cum of the leaking function = everything allocated under it; ours: the sum of its nodes' values in the bottom-up graph is the same bytes counted once per path
    const topDown: StackFlameResult = await (await get(`/api/sessions/${id}/stack-flame?kind=inuse&pool=${encodeURIComponent(HEAP_POOL)}`)).json();
    const under = topDown.nodes.filter((n) => n.name === 'leakingFunction' && !hasAncestor(topDown, n.id, 'leakingFunction')).reduce((s, n) => s + n.value, 0);
    expect(leak!.cum).toBe(under);
    expect(heapFlame.total).toBe(topDown.total);
  });
});

function hasAncestor(flame: StackFlameResult, id: number, name: string): boolean {
  for (let p = flame.nodes[id]!.parent; p > 0; p = flame.nodes[p]!.parent) if (flame.nodes[p]!.name === name) return true;
  return false;
}
