/**
 * GET /api/sessions/:id/export?format=chrome on a real Tracy recording and on an SDK session
 * with hostile names: the JSON parses, every event carries name/cat/ph/ts/pid/tid with tid >= 0,
 * zones come back as B/E pairs in nesting order that rebuild every stored zone to the
 * nanosecond under Tracy's import rule (truncate ts * 1000), and messages, frames and plot
 * samples are all there.
 */
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../client/node.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { FIXTURES_PRESENT, fixture, readTruth } from './support/inspect-fixtures.js';
import { getJson, waitFor, waitSessionEnded, type Json } from './support/server-api.js';
import { dialRecordedClient } from './support/tracy-replay.js';
import { getAllZones } from './support/zone-pages.js';

interface Zone {
  tid: number;
  depth: number;
  startNs: number;
  endNs: number;
  name: string;
}

/** Tracy's import-chrome: uint64(ts * 1000). */
const importNs = (ts: number) => Math.trunc(ts * 1000);

/** Checks the common fields and B/E nesting per tid; returns the zones (cat "zone") B/E describe. */
function zonesOf(events: Json[]): Zone[] {
  const open = new Map<number, { name: string; startNs: number }[]>();
  const zones: Zone[] = [];
  for (const e of events) {
    expect(typeof e.name, JSON.stringify(e)).toBe('string');
    expect(typeof e.cat).toBe('string');
    expect(typeof e.ph).toBe('string');
    expect(typeof e.ts).toBe('number');
    expect(Number.isInteger(e.pid) && e.pid >= 0).toBe(true);
    expect(Number.isInteger(e.tid) && e.tid >= 0).toBe(true);
    if (e.ph === 'B') {
      let stack = open.get(e.tid);
      if (!stack) open.set(e.tid, (stack = []));
      const startNs = importNs(e.ts);
      if (stack.length > 0) expect(startNs).toBeGreaterThanOrEqual(stack[stack.length - 1]!.startNs);
      stack.push({ name: e.name, startNs });
    } else if (e.ph === 'E') {
      const stack = open.get(e.tid)!;
      const b = stack.pop()!;
      expect(e.name).toBe(b.name);
      if (e.cat === 'zone') zones.push({ tid: e.tid, depth: stack.length, startNs: b.startNs, endNs: importNs(e.ts), name: b.name });
    }
  }
  for (const stack of open.values()) expect(stack).toEqual([]);
  return zones;
}

async function exportText(server: ServerHandle, id: string, query = ''): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/sessions/${id}/export?format=chrome${query}`);
  expect(res.status).toBe(200);
  return res.text();
}

describe.skipIf(!FIXTURES_PRESENT)('Chrome Trace Event export of a recorded Tracy session', () => {
  let server: ServerHandle;
  let id: string;
  let text: string;
  let doc: Json;
  let zones: Zone[];

  beforeAll(async () => {
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 } });
    await dialRecordedClient(server.ingestPort!, readFileSync(fixture('medium.client.bin')));
    id = server.registry.list()[0]!.id;
    await waitSessionEnded(server, id);
    text = await exportText(server, id);
    doc = JSON.parse(text);
    zones = zonesOf(doc.traceEvents);
  });
  afterAll(() => server.close());

  it('writes every zone as a B/E pair that Tracy reads back to the nanosecond, nested as stored', async () => {
    const truth = readTruth('medium');
    expect(zones.length).toBe(truth.zones_total);
    const stored = await getAllZones(server, id);
    const key = (tid: number, depth: number, s: number, e: number) => `${tid}/${depth}/${s}/${e}`;
    const want = new Set<string>();
    for (const t of stored.threads) for (const d of t.depths) for (let i = 0; i < d.startNs.length; i++) want.add(key(t.thread, d.depth, d.startNs[i], d.endNs[i]));
    const got = new Set(zones.map((z) => key(z.tid, z.depth, z.startNs, z.endNs)));
    expect(got.size).toBe(want.size);
    for (const k of want) expect(got.has(k), k).toBe(true);
  });

  it('names zones as the statistics do, and names the threads and the process', async () => {
    const stats: Json[] = await getJson(server, `/api/sessions/${id}/stats`);
    const byName = new Map<string, number>();
    for (const z of zones) byName.set(z.name, (byName.get(z.name) ?? 0) + 1);
    const statsByName = new Map<string, number>();
    for (const s of stats) statsByName.set(s.name, (statsByName.get(s.name) ?? 0) + s.count);
    // ZoneName overrides give some zones another name than their source location's
    let overridden = 0;
    for (const [name, count] of byName) if (statsByName.get(name) !== count) overridden += Math.abs(count - (statsByName.get(name) ?? 0));
    expect(overridden).toBeLessThanOrEqual(2 * readTruth('medium').zone_name_overrides.count * 2);
    const threads: Json[] = await getJson(server, `/api/sessions/${id}/threads`);
    const meta = doc.traceEvents.filter((e: Json) => e.ph === 'M');
    for (const t of threads) expect(meta).toContainEqual(expect.objectContaining({ name: 'thread_name', tid: t.id, args: { name: t.name } }));
    expect(meta).toContainEqual(expect.objectContaining({ name: 'process_name', args: { name: 'fixture_app' } }));
  });

  it('writes every message, frame mark and plot sample', async () => {
    const truth = readTruth('medium');
    const messages = doc.traceEvents.filter((e: Json) => e.ph === 'i' && e.cat === 'message');
    expect(messages.length).toBe(truth.messages_total);
    for (const m of messages) expect(m.name.toLowerCase()).not.toContain('frame');
    const details = await getJson(server, `/api/sessions/${id}`);
    const frames = doc.traceEvents.filter((e: Json) => e.cat === 'frame' && (e.ph === 'i' || e.ph === 'B'));
    expect(frames.length).toBe(details.frames.reduce((n: number, f: Json) => n + f.count, 0));
    for (const f of frames.filter((e: Json) => e.ph === 'i')) expect(f.name.toLowerCase()).toContain('frame');
    const counters = doc.traceEvents.filter((e: Json) => e.ph === 'C');
    const samples = details.plots.reduce((n: number, p: Json) => n + p.count, 0);
    expect(counters.filter((c: Json) => details.plots.some((p: Json) => p.name === c.name)).length).toBe(samples);
  });

  it('exports a range: the zones that intersect it, and gzip on request', async () => {
    const lastNs = doc.otherData ? (await getJson(server, `/api/sessions/${id}`)).lastNs : 0;
    const t0 = Math.round(lastNs * 0.3);
    const t1 = Math.round(lastNs * 0.35);
    const part = zonesOf(JSON.parse(await exportText(server, id, `&t0=${t0}&t1=${t1}`)).traceEvents);
    const expected = zones.filter((z) => z.endNs >= t0 && z.startNs <= t1);
    expect(part.length).toBe(expected.length);
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/sessions/${id}/export?format=chrome&gzip=1`);
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="fixture_app-.*\.json\.gz"/);
    expect(gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8')).toBe(text);
  });
});

describe('Chrome export of names that JSON must escape', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 } });
  });
  afterAll(() => server.close());

  it('stays valid JSON with quotes, backslashes, control characters and unicode, and keeps "frame" out of message names', async () => {
    const tracy = await connect({ port: server.ingestPort!, appName: 'esc"ape\\app' });
    const nasty = ['say "hi"', 'back\\slash', 'tab\tnew\nline\u0001bell\u0007', 'ünïcødé ✓ 😀 日本', '</script>'];
    tracy.setThreadName('thread "one"\n');
    for (const n of nasty) tracy.zoneEnd(tracy.zoneBegin(n));
    tracy.message('Frame 12 took too long "really"');
    tracy.frameMark();
    tracy.frameMark();
    await tracy.close();
    const id = await waitFor('the session', () => server.registry.list()[0]?.id);
    await waitSessionEnded(server, id);
    const doc = JSON.parse(await exportText(server, id));
    const names = zonesOf(doc.traceEvents).map((z) => z.name);
    expect(names.sort()).toEqual([...nasty].sort());
    expect(doc.traceEvents).toContainEqual(expect.objectContaining({ ph: 'M', name: 'thread_name', args: { name: 'thread "one"\n' } }));
    const msg = doc.traceEvents.find((e: Json) => e.cat === 'message');
    expect(msg.args.text).toBe('Frame 12 took too long "really"');
    expect(msg.name).not.toMatch(/frame/i);
    expect(doc.traceEvents.filter((e: Json) => e.cat === 'frame' && e.name === 'Frame')).toHaveLength(2);
  });
});
