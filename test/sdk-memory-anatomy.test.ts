/**
 * Node's memory anatomy (client/memory-anatomy.ts) from a real app: a child `node --expose-gc`
 * process uses the built SDK (`connect({ runtimeMetrics })`) against a real server on ephemeral
 * ports, forces full collections with gc() and retains 32 MiB of Buffers (external memory).
 * Checked through the REST API: every memory plot is there, in bytes (PlotConfig format
 * Memory), all sampled at the same times, and consistent at each sample: used <= size per heap
 * space, rss >= heapTotal, the derived plot = rss - heapTotal - external; the retained Buffers
 * show in external and arrayBuffers; the GC thread keeps each pause's kind.
 * It builds into its own folder (test-artifacts/sdk-memory/dist) so it never races another
 * test that builds dist/.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_LOOP_DELAY_PLOT, HEAP_AVAILABLE_PLOT, heapSpacePlots, MALLOCED_PLOT, MEMORY_PLOTS, UNEXPLAINED_RSS_PLOT } from '../client/runtime-metrics.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { getJson, waitNewSession, waitSessionEnded, type Json } from './support/server-api.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'test-artifacts', 'sdk-memory', 'dist');
const CLIENT = join(OUT, 'client', 'node.js');
const RETAINED_MIB = 32;

/**
 * The app: samples every 20 ms while it makes garbage, forces 4 full collections, then retains
 * RETAINED_MIB of Buffers and samples on. Prints the heap space names it saw.
 */
const APP = `
import { getHeapSpaceStatistics } from 'node:v8';
const { connect } = await import(process.env.ZS_CLIENT);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
if (typeof gc !== 'function') throw new Error('run me with --expose-gc');
const tracy = await connect({ appName: 'memory-anatomy', port: Number(process.env.ZS_PORT), exitHandlers: false, runtimeMetrics: { intervalMs: 20 } });
let garbage = [];
for (let round = 0; round < 4; round++) {
  for (let i = 0; i < 2000; i++) garbage.push(new Array(100).fill(round));
  garbage = garbage.slice(-50);
  gc();
  await sleep(40);
}
const retained = [];
for (let i = 0; i < ${RETAINED_MIB}; i++) retained.push(Buffer.alloc(1 << 20, i));
await sleep(120);
await tracy.close();
console.log(JSON.stringify({ spaces: getHeapSpaceStatistics().map((s) => s.space_name), stats: tracy.stats, retained: retained.length }));
`;

let server: ServerHandle;

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  // Type errors elsewhere (work in progress) do not stop tsc from emitting: check the output.
  await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', OUT], { cwd: ROOT }).catch(() => {});
  expect(existsSync(CLIENT)).toBe(true);
  server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 } });
}, 180_000);

afterAll(async () => {
  await server?.close();
});

/** Runs APP in `node --expose-gc`; resolves with its exit code and output. */
function runApp(timeoutMs = 30_000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done, fail) => {
    const env = { ...process.env, NODE_OPTIONS: '', ZS_CLIENT: pathToFileURL(CLIENT).href, ZS_PORT: String(server.ingestPort) };
    const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', APP], { cwd: ROOT, env });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`the app did not exit within ${timeoutMs} ms:\n${out}${err}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, out, err });
    });
  });
}

describe('memory anatomy plots', () => {
  it('sends every memory plot in bytes, sampled together and consistent at each sample, and GC pauses by kind', async () => {
    const before = server.registry.list().length;
    const run = await runApp();
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    const app = JSON.parse(run.out);
    expect(app.stats).toMatchObject({ dropped: 0, droppedNonFinite: 0 });
    expect(app.retained).toBe(RETAINED_MIB);
    const spaces: string[] = app.spaces;
    expect(spaces).toEqual(expect.arrayContaining(['new_space', 'old_space', 'code_space', 'large_object_space']));

    const id = await waitNewSession(server, before);
    const d = await waitSessionEnded(server, id);
    expect(d).toMatchObject({ app: 'memory-anatomy', endReason: 'terminated', error: null });
    const memoryNames = [...MEMORY_PLOTS, UNEXPLAINED_RSS_PLOT, HEAP_AVAILABLE_PLOT, MALLOCED_PLOT, ...spaces.flatMap((s) => heapSpacePlots(s))];
    // every plot, and no other (the event-loop delay plot aside)
    expect(d.plots.map((p: Json) => p.name).sort()).toEqual([...memoryNames, EVENT_LOOP_DELAY_PLOT].sort());

    // every sample of the session (a few hundred: below the REST API's decimation)
    const plots: Json[] = await getJson(server, `/api/sessions/${id}/plots?nsPerPx=0`);
    const byName = new Map<string, Json>(plots.map((p) => [p.name, p]));
    const rss = byName.get('rss');
    expect(rss.decimated).toBe(false);
    expect(rss.timeNs.length).toBeGreaterThanOrEqual(10);
    for (const name of memoryNames) {
      const p = byName.get(name);
      expect(p, name).toMatchObject({ format: 1, decimated: false }); // PlotFormat.Memory
      // one timestamp per sample for every plot
      expect(p.timeNs, name).toEqual(rss.timeNs);
    }
    const at = (name: string, i: number): number => byName.get(name).value[i];
    for (let i = 0; i < rss.timeNs.length; i++) {
      for (const s of spaces) {
        const [size, used] = heapSpacePlots(s);
        expect(at(used, i), `${used} at sample ${i}`).toBeLessThanOrEqual(at(size, i));
        expect(at(used, i)).toBeGreaterThanOrEqual(0);
      }
      expect(at('rss', i)).toBeGreaterThanOrEqual(at('heapTotal', i));
      expect(at('heapUsed', i)).toBeLessThanOrEqual(at('heapTotal', i));
      expect(at('arrayBuffers', i)).toBeLessThanOrEqual(at('external', i));
      expect(at(UNEXPLAINED_RSS_PLOT, i)).toBe(at('rss', i) - at('heapTotal', i) - at('external', i));
      expect(at(HEAP_AVAILABLE_PLOT, i)).toBeGreaterThan(0);
      expect(at(MALLOCED_PLOT, i)).toBeGreaterThan(0);
    }
    // the retained Buffers: in external and arrayBuffers at the end, a climb from the first
    // sample (which holds the SDK's own buffers, ~10 MiB, some of them freed since)
    const last = rss.timeNs.length - 1;
    for (const name of ['external', 'arrayBuffers']) {
      expect(at(name, last), name).toBeGreaterThanOrEqual(RETAINED_MIB * 2 ** 20);
      expect(at(name, last) - at(name, 0), name).toBeGreaterThan((RETAINED_MIB / 2) * 2 ** 20);
    }
    expect(at(heapSpacePlots('old_space')[1], last)).toBeGreaterThan(2 ** 20);

    // GC pauses keep their kind; the forced collections are major and say so
    const threads: Json[] = await getJson(server, `/api/sessions/${id}/threads`);
    const gcThread = threads.find((t) => t.name === 'GC');
    expect(gcThread).toMatchObject({ open: 0, unmatchedEnds: 0 });
    const stats: Json[] = await getJson(server, `/api/sessions/${id}/stats?threads=${gcThread.id}`);
    const counts = Object.fromEntries(stats.map((s) => [s.name, s.count]));
    expect(counts['GC major']).toBeGreaterThanOrEqual(4);
    expect(Object.keys(counts).every((n) => /^GC (minor|major|incremental|weakcb)$/.test(n))).toBe(true);
  });
});
