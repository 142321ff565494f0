/**
 * The --data spool in process: a real recording streamed into `serve --data DIR` comes out of
 * DIR/<id>.zscap equal to the recording (inspect says the same of both, and the fixture's truth),
 * a restarted server lists it without loading it and loads it on first use, and a folder of
 * 100 captures costs the start-up neither time nor memory.
 */
import { linkSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, encode } from '@msgpack/msgpack';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { runInspect } from '../server/inspect/inspect-command.js';
import type { InspectReport } from '../server/inspect/inspect-report.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { CollectingStream, FIXTURES_PRESENT, fixture, readTruth } from './support/inspect-fixtures.js';
import { getJson, waitFor, waitSessionEnded, type Json } from './support/server-api.js';
import { dialRecordedClient } from './support/tracy-replay.js';

if (!FIXTURES_PRESENT) console.warn('captures-spool: ../shared/fixtures/tracy is absent; the real-recording tests are skipped');

export async function inspectJson(path: string): Promise<{ code: number; report: InspectReport; err: string }> {
  const out = new CollectingStream();
  const err = new CollectingStream();
  const code = await runInspect([path, '--json'], out, err);
  return { code, report: JSON.parse(out.text) as InspectReport, err: err.text };
}

function sumBy<T>(items: T[], key: (t: T) => string, value: (t: T) => number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + value(item);
  return out;
}

const started: ServerHandle[] = [];
const dirs: string[] = [];
async function serve(dataDir: string): Promise<ServerHandle> {
  const server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 }, dataDir });
  started.push(server);
  return server;
}
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'zonescope-spool-'));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  for (const s of started) await s.close().catch(() => {});
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!FIXTURES_PRESENT)('serve --data: the spool', () => {
  const medium = FIXTURES_PRESENT ? readFileSync(fixture('medium.client.bin')) : Buffer.alloc(0);
  let dir = '';
  let id = '';

  it('writes a session to DIR/<id>.zscap that inspects exactly like the recording and its truth', async () => {
    dir = tempDir();
    const server = await serve(dir);
    const replay = await dialRecordedClient(server.ingestPort!, medium, { chunkSize: 64 * 1024 });
    expect(replay.terminated).toBe(true);
    id = server.registry.list()[0]!.id;
    const details = await waitSessionEnded(server, id);
    expect(details.endReason).toBe('terminated');
    // listed once while it is in memory, not twice (live + file)
    expect((await getJson(server, '/api/sessions')).map((s: Json) => s.id)).toEqual([id]);
    await server.close();

    const file = join(dir, `${id}.zscap`);
    const fromCapture = await inspectJson(file);
    const fromRecording = await inspectJson(fixture('medium.client.bin'));
    expect(fromCapture.err).toBe('');
    expect(fromCapture.code).toBe(0);
    const { capture, ...rest } = fromCapture.report;
    expect(rest).toEqual(fromRecording.report);
    expect(capture).toMatchObject({ formatVersion: 1, source: 'tcp', sessionId: id, cutBytes: 0 });
    expect(capture!.frames).toBeGreaterThan(10);

    const truth = readTruth('medium');
    const r = fromCapture.report;
    expect(r.errors).toEqual([]);
    expect(sumBy(r.zones, (z) => z.name, (z) => z.count)).toEqual(truth.zones_by_name);
    expect(r.zones.reduce((s, z) => s + z.count, 0)).toBe(truth.zones_total);
    expect(Object.fromEntries(r.frames.map((f) => [f.name === '' ? '<default>' : f.name, f.count]))).toEqual(truth.frames);
    expect(Object.fromEntries(r.plots.map((p) => [p.name, p.count]))).toEqual(truth.plots);
    expect(r.messages).toBe(truth.messages_total);
  });

  it('after a restart lists the capture without loading it, loads it on first use, and never reuses its id', async () => {
    expect(id).not.toBe('');
    const server = await serve(dir);
    expect(server.registry.list()).toEqual([]); // nothing in memory
    const list: Json[] = await getJson(server, '/api/sessions');
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id, app: expect.any(String), state: 'ended', endReason: 'stored', stored: true, source: 'capture', bytes: statSync(join(dir, `${id}.zscap`)).size });

    const truth = readTruth('medium');
    const details = await getJson(server, `/api/sessions/${id}`);
    expect(details).toMatchObject({ id, state: 'ended', endReason: 'terminated', error: null, zones: truth.zones_total, source: 'capture' });
    expect(details.startedAt).toBe(list[0].startedAt);
    const stats: Json[] = await getJson(server, `/api/sessions/${id}/stats`);
    expect(sumBy(stats, (s) => s.name, (s) => s.count)).toEqual(truth.zones_by_name);
    const after: Json[] = await getJson(server, '/api/sessions');
    expect(after.map((s) => [s.id, s.endReason])).toEqual([[id, 'terminated']]);

    // a new session gets a new id and its own file; the stored one is still listed once
    await dialRecordedClient(server.ingestPort!, readFileSync(fixture('small.client.bin')));
    const next = await waitFor('a second session', () => server.registry.list().find((s) => s.id !== id)?.id);
    expect(next).not.toBe(id);
    await waitSessionEnded(server, next);
    const both: Json[] = await getJson(server, '/api/sessions');
    expect(both.map((s) => s.id).sort()).toEqual([id, next].sort());
    expect(statSync(join(dir, `${next}.zscap`)).size).toBeGreaterThan(1000);

    // DELETE forgets it for this run; the file stays
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/sessions/${id}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect((await getJson(server, '/api/sessions')).map((s: Json) => s.id)).toEqual([next]);
    expect(statSync(join(dir, `${id}.zscap`)).size).toBeGreaterThan(0);
    await getJson(server, `/api/sessions/${id}`, 404);
    await server.close();
  });

  it('deletes a stored capture from the list without loading it', async () => {
    const server = await serve(dir);
    const list: Json[] = await getJson(server, '/api/sessions');
    expect(list.every((s) => s.endReason === 'stored')).toBe(true);
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/sessions/${list[0].id}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(server.registry.list()).toEqual([]);
    expect((await getJson(server, '/api/sessions')).length).toBe(list.length - 1);
    await server.close();
  });

  it('starts fast on a folder of 100 captures, in memory that does not grow by their size, and opens any one', async () => {
    expect(id).not.toBe('');
    const big = tempDir();
    const source = join(dir, `${id}.zscap`);
    const size = statSync(source).size;
    // hard links: 100 captures of ~3 MB each on disk for the price of one
    for (let i = 0; i < 100; i++) linkSync(source, join(big, `run-${i}.zscap`));
    (globalThis as { gc?: () => void }).gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const server = await serve(big);
    const startMs = performance.now() - t0;
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    expect(startMs).toBeLessThan(2000);
    // 100 x 3 MB of captures, whose stores would take far more; reading heads only costs ~2 MiB
    expect(heapGrowth).toBeLessThan(Math.min(40 * 2 ** 20, (100 * size) / 4));
    expect(server.registry.list()).toHaveLength(0);
    const list: Json[] = await getJson(server, '/api/sessions');
    expect(list).toHaveLength(100);
    expect(list.every((s) => s.stored === true && s.bytes === size)).toBe(true);

    const threads: Json[] = await getJson(server, '/api/sessions/run-42/threads');
    expect(threads.reduce((n, t) => n + t.zones, 0)).toBe(readTruth('medium').zones_total);
    expect(server.registry.list().map((s) => s.id)).toEqual(['run-42']);
    const after: Json[] = await getJson(server, '/api/sessions');
    expect(after).toHaveLength(100);
    expect(after.filter((s) => s.stored === true)).toHaveLength(99);

    // a viewer's subscribe loads one too, and its updates follow the load
    const ws = new WebSocket(`ws://127.0.0.1:${server.httpPort}/api/live`);
    const messages: Json[] = [];
    ws.on('message', (data: Buffer) => messages.push(decode(data)));
    await new Promise((r) => ws.once('open', r));
    ws.send(encode({ type: 'subscribe', session: 'run-7', px: 800, follow: true }));
    const update = await waitFor('an update of the stored session run-7', () =>
      messages.find((m) => m.type === 'update' && m.session === 'run-7' && m.summary.state === 'ended'),
    );
    expect(update.summary.zones).toBe(readTruth('medium').zones_total);
    expect(messages.some((m) => m.type === 'error')).toBe(false);
    ws.close();
    expect(server.registry.list().map((s) => s.id)).toEqual(['run-42', 'run-7']);
    await server.close();
  });
});
