/**
 * The demo (examples/demo.ts) as a newcomer runs it: built, started as `node examples/demo.js
 * --port N --seconds 2` against a real server on ephemeral ports, then checked through the REST
 * API: zones, plots, messages, frames and several named threads (main loop, async tracks,
 * worker threads, GC) arrived, and the session ended cleanly. It builds into its own folder
 * (test-artifacts/sdk-demo/dist) so it never races another test that builds dist/.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEAK_BODY_BYTES } from '../examples/demo.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { getJson, waitNewSession, waitSessionEnded, type Json } from './support/server-api.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'test-artifacts', 'sdk-demo', 'dist');
const DEMO = join(OUT, 'examples', 'demo.js');

let server: ServerHandle;

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  // Type errors elsewhere (work in progress) do not stop tsc from emitting: check the output.
  await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', OUT], { cwd: ROOT }).catch(() => {});
  expect(existsSync(DEMO)).toBe(true);
  server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 } });
}, 180_000);

afterAll(async () => {
  await server?.close();
});

/**
 * Runs `node demo.js <args>`; resolves with its exit code and output. `sigintAfterMs`: sends
 * SIGINT (Ctrl-C) that long after the demo printed its first line.
 */
function runDemo(args: string[], sigintAfterMs?: number, timeoutMs = 30_000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [DEMO, ...args], { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => {
      if (out === '' && sigintAfterMs !== undefined) setTimeout(() => child.kill('SIGINT'), sigintAfterMs);
      out += b;
    });
    child.stderr.on('data', (b) => (err += b));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`the demo did not exit within ${timeoutMs} ms:\n${out}${err}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, out, err });
    });
  });
}

describe('the demo', () => {
  it('streams zones, plots, messages, frames and named threads for --seconds 2, then ends the session', async () => {
    const before = server.registry.list().length;
    const started = Date.now();
    const run = await runDemo(['--port', String(server.ingestPort), '--seconds', '2', '--workers', '2']);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(run.out).toContain(`streaming to 127.0.0.1:${server.ingestPort} as "zonescope-demo" with 2 worker thread(s), for 2 s`);
    expect(run.out).toMatch(/done: \d+ frames, \d+ KiB sent, 0 events dropped/);

    const id = await waitNewSession(server, before);
    const d = await waitSessionEnded(server, id);
    expect(d).toMatchObject({ app: 'zonescope-demo', endReason: 'terminated', error: null, truncation: null });
    expect(d.appInfo[0]).toMatch(/^Zonescope demo/);
    expect(d.zones).toBeGreaterThan(200);
    expect(d.messages).toBeGreaterThan(3);

    const frames = new Map<string, Json>(d.frames.map((f: Json) => [f.name, f]));
    expect(frames.get('')).toMatchObject({ continuous: true }); // the default "Frame" set
    expect(frames.get('')!.count).toBeGreaterThan(20);
    expect(frames.get('sin(x)')).toMatchObject({ continuous: false });
    expect(frames.get('sin(x)')!.count).toBeGreaterThan(20);
    expect(frames.get('sensor 1')!.count).toBeGreaterThan(5);
    expect(frames.get('sensor 2')!.count).toBeGreaterThan(5);

    const plots = new Map<string, Json>(d.plots.map((p: Json) => [p.name, p]));
    for (const name of ['sin(x)', 'cache size', 'sensor 1', 'sensor 2', 'rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers', 'event loop delay (ms)']) {
      expect(plots.get(name)?.count, name).toBeGreaterThan(5);
    }
    expect(plots.get('sin(x)')).toMatchObject({ format: 0 });
    expect(plots.get('sin(x)').min).toBeGreaterThanOrEqual(-1);
    expect(plots.get('sin(x)').max).toBeLessThanOrEqual(1);
    expect(plots.get('cache size')).toMatchObject({ format: 1 });

    const threads: Json[] = await getJson(server, `/api/sessions/${id}/threads`);
    expect(threads.filter((t) => t.open !== 0 || t.unmatchedEnds !== 0)).toEqual([]);
    const byName = new Map<string, Json>(threads.map((t) => [t.name, t]));
    expect(byName.get('main loop')).toMatchObject({ id: 1, depth: 3 });
    expect(byName.get('sensor 1')?.zones).toBeGreaterThan(10);
    expect(byName.get('sensor 2')?.zones).toBeGreaterThan(10);
    expect(byName.get('main loop async 1')?.zones).toBeGreaterThan(0);
    expect(byName.get('GC')?.zones).toBeGreaterThan(0);

    const stats: Json[] = await getJson(server, `/api/sessions/${id}/stats`);
    const counts: Record<string, number> = {};
    for (const s of stats) counts[s.name] = (counts[s.name] ?? 0) + s.count;
    for (const name of ['Main Zone', 'Sub main zone', 'Calculating Sin', 'Update cache', 'handle request', 'db query', 'Read sensor', 'Filter']) {
      expect(counts[name], name).toBeGreaterThan(0);
    }
    expect(counts['Calculating Sin']).toBe(3 * counts['Main Zone']!);

    // zone text and value on the zone they were set for
    const zones: Json = await getJson(server, `/api/sessions/${id}/zones?nsPerPx=0&threads=1`);
    const depth1 = zones.threads[0].depths.find((x: Json) => x.depth === 1);
    const sub: Json = await getJson(server, `/api/sessions/${id}/zone?thread=1&depth=1&row=${depth1.row[0]}`);
    expect(sub).toMatchObject({ name: 'Sub main zone', text: 'This is important message...', value: '100', children: 3 });
  });

  it('--profile streams CPU samples: the CPU profile has the demo\'s busy function, every frame answered', async () => {
    const before = server.registry.list().length;
    const run = await runDemo(['--port', String(server.ingestPort), '--seconds', '3', '--workers', '0', '--profile']);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    const id = await waitNewSession(server, before);
    const d = await waitSessionEnded(server, id);
    expect(d.callstacks.cpuSamples).toBeGreaterThan(100);
    expect(d.callstacks.unresolved).toBe(0);
    expect(d.callstacks.dropped).toBe(0);
    const cpu: Json = await getJson(server, `/api/sessions/${id}/stack-flame?kind=cpu&invert=1`);
    expect(cpu.total).toBe(d.callstacks.cpuSamples);
    expect(cpu.nodes.map((n: Json) => n.name)).toContain('work');
    // heap samples are V8's live sampled objects: the demo's short-lived garbage may leave none
    // in 3 s at one sample per 512 KiB (test/pprof-export.test.ts checks the heap with a leak)
  });

  it('runs until Ctrl-C without --seconds, then closes the session cleanly', async () => {
    const before = server.registry.list().length;
    const run = await runDemo(['--port', String(server.ingestPort), '--workers', '1'], 1000);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toContain('until Ctrl-C');
    expect(run.out).toContain('stopping');
    const id = await waitNewSession(server, before);
    const d = await waitSessionEnded(server, id);
    expect(d).toMatchObject({ endReason: 'terminated', error: null });
    expect(d.zones).toBeGreaterThan(50);
    const threads: Json[] = await getJson(server, `/api/sessions/${id}/threads`);
    expect(threads.filter((t) => t.open !== 0 || t.unmatchedEnds !== 0)).toEqual([]);
    expect(threads.map((t) => t.name)).toEqual(expect.arrayContaining(['main loop', 'sensor 1']));
  });

  it('with --leak keeps every response body outside the JS heap: external and arrayBuffers hold what the leak plot says', async () => {
    const before = server.registry.list().length;
    const run = await runDemo(['--port', String(server.ingestPort), '--seconds', '2', '--workers', '0', '--leak']);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toContain('leaking external memory');
    const id = await waitNewSession(server, before);
    const d = await waitSessionEnded(server, id);
    expect(d).toMatchObject({ endReason: 'terminated', error: null });
    expect(d.appInfo[0]).toMatch(/leaking external memory \(--leak\)$/);

    const plots: Json[] = await getJson(server, `/api/sessions/${id}/plots?nsPerPx=0`);
    const byName = new Map<string, Json>(plots.map((p) => [p.name, p]));
    const leak = byName.get('leaked response bodies');
    expect(leak).toMatchObject({ format: 1, decimated: false });
    // one body per point, never freed: the k-th point is k bodies
    expect(leak.value).toEqual(leak.value.map((_: number, k: number) => (k + 1) * LEAK_BODY_BYTES));
    expect(leak.count).toBeGreaterThanOrEqual(16);
    // at the last memory sample the bodies leaked by then are all in arrayBuffers (and external)
    const ab = byName.get('arrayBuffers');
    const ext = byName.get('external');
    const t = ab.timeNs[ab.timeNs.length - 1];
    let k = -1;
    while (k + 1 < leak.timeNs.length && leak.timeNs[k + 1] <= t) k++;
    expect(k).toBeGreaterThanOrEqual(0);
    expect(ab.value[ab.value.length - 1]).toBeGreaterThanOrEqual(leak.value[k]);
    expect(ext.value[ext.value.length - 1]).toBeGreaterThanOrEqual(ab.value[ab.value.length - 1]);
    const messages: Json = await getJson(server, `/api/sessions/${id}/messages?q=${encodeURIComponent('--leak')}`);
    expect(messages.messages.map((m: Json) => m.text)).toEqual(['--leak: every request keeps its 64 KiB response body, up to 512 MiB']);
  });

  it('says how to start Zonescope when nothing listens, and rejects unknown flags', async () => {
    const refused = await runDemo(['--port', '1', '--seconds', '1', '--workers', '0']);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('is Zonescope running?');
    const bad = await runDemo(['--frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('unknown option --frobnicate');
  });
});
