/**
 * Every real Tracy recording, played through each transport into a running server
 * (`--connect` dialing a fake Tracy client, TCP ingest, /ingest WebSocket), must come out of
 * the REST API exactly as the app's ground truth and Tracy's csvexport say.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../server/serve.js';
import { FIXTURES_PRESENT, fixture, parseCsvexportZones, readTruth } from './support/inspect-fixtures.js';
import { dialRecordedClient, listenRecordedClient, wsRecordedClient, type ReplayResult } from './support/tracy-replay.js';
import { getAllZones } from './support/zone-pages.js';

if (!FIXTURES_PRESENT) console.warn('server-fixtures: ../shared/fixtures/tracy is absent; the real-recording tests are skipped');


type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function api(server: ServerHandle, path: string): Promise<Json> {
  const res = await fetch(`http://127.0.0.1:${server.httpPort}${path}`);
  expect(res.status, path).toBe(200);
  return res.json();
}

async function waitEnded(server: ServerHandle, count: number, timeoutMs = 30_000): Promise<Json[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const list: Json[] = await api(server, '/api/sessions');
    if (list.length >= count && list.slice(0, count).every((s) => s.state === 'ended')) return list;
    if (Date.now() > until) throw new Error(`sessions not ended in time: ${JSON.stringify(list.map((s) => [s.id, s.state]))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Checks one session against the fixture's truth and (small fixtures) csvexport -u. */
async function checkSession(server: ServerHandle, id: string, name: string, replay: ReplayResult): Promise<void> {
  const truth = readTruth(name);
  const details = await api(server, `/api/sessions/${id}`);
  expect(details.state).toBe('ended');
  expect(details.endReason).toBe('terminated');
  expect(details.error).toBeNull();
  expect(details.zones).toBe(truth.zones_total);
  // The truth counts the app's messages; Tracy's own (small-default has 3) are stored too.
  const check = JSON.parse(readFileSync(fixture(`${name}.check.json`), 'utf8')) as { checks: { detail?: { tracy_internal_messages?: number } | null }[] };
  const tracyMessages = check.checks.reduce((n, c) => n + (c.detail?.tracy_internal_messages ?? 0), 0);
  expect(details.messages).toBe(truth.messages_total + tracyMessages);
  expect(replay.terminated).toBe(true);

  const stats: Json[] = await api(server, `/api/sessions/${id}/stats`);
  const byName: Record<string, number> = {};
  for (const s of stats) byName[s.name] = (byName[s.name] ?? 0) + s.count;
  expect(byName).toEqual(truth.zones_by_name);

  const threads: Json[] = await api(server, `/api/sessions/${id}/threads`);
  // threads with messages but no zones (small-default's "Tracy Symbol Worker") are listed too
  expect(Object.fromEntries(threads.filter((t) => t.zones > 0).map((t) => [t.name, t.zones]))).toEqual(Object.fromEntries(truth.threads.map((t) => [t.name, t.zones])));

  const frames = Object.fromEntries(details.frames.map((f: Json) => [f.name === '' ? '<default>' : f.name, f.count]));
  expect(frames).toEqual(truth.frames);
  const plots = Object.fromEntries(details.plots.map((p: Json) => [p.name, p.count]));
  expect(plots).toEqual(truth.plots);

  if (name !== 'stress') {
    // Every zone, to the nanosecond, against csvexport -u (which omits zero-total locations).
    const zones = await getAllZones(server, id);
    const srclocs: Json[] = await api(server, `/api/sessions/${id}/srclocs`);
    const ours: string[] = [];
    let texts = 0;
    for (const t of zones.threads) {
      for (const d of t.depths) {
        for (let i = 0; i < d.startNs.length; i++) {
          const s = srclocs[d.srcloc[i]];
          ours.push(`${s.name},${s.file},${s.line},${d.startNs[i]},${d.endNs[i] - d.startNs[i]}`);
        }
      }
    }
    const csv = parseCsvexportZones(readFileSync(fixture(`${name}.zones-unwrapped.csv`), 'utf8'));
    const expected = csv.map((z) => `${z.name},${z.file},${z.line},${z.startNs},${z.durationNs}`);
    const zeroTotal = new Set(stats.filter((s) => s.totalNs === 0).map((s) => `${s.name},${s.file},${s.line},`));
    const comparable = ours.filter((row) => ![...zeroTotal].some((prefix) => row.startsWith(prefix)));
    expect(comparable.sort()).toEqual(expected.sort());
    // zone text and value of one known zone
    const textZone = await findZone(server, id, zones, srclocs, 'TextZone');
    expect(textZone.text).toMatch(/^iter=\d+$/);
    expect(textZone.value).toBe(textZone.text.slice(5));
    texts = truth.zone_text_count;
    expect(texts).toBeGreaterThan(0);
  }
}

async function findZone(server: ServerHandle, id: string, zones: Json, srclocs: Json[], name: string): Promise<Json> {
  for (const t of zones.threads) {
    for (const d of t.depths) {
      for (let i = 0; i < d.srcloc.length; i++) {
        if (srclocs[d.srcloc[i]]?.name === name) return api(server, `/api/sessions/${id}/zone?thread=${t.thread}&depth=${d.depth}&row=${d.row[i]}`);
      }
    }
  }
  throw new Error(`no zone ${name}`);
}

const NAMES = ['small', 'small-default', 'small-ondemand', 'medium'] as const;

// both pipelines, whatever the machine's default (defaultIngestWorkers): decoding on the main
// thread, and LZ4 on an ingest worker
describe.skipIf(!FIXTURES_PRESENT).each([0, 1])('real Tracy recordings through every transport (%i ingest workers)', (ingestWorkers) => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 }, ingestWorkers });
  });
  afterAll(async () => {
    await server?.close();
  });

  for (const name of NAMES) {
    it(`stores ${name} exactly when the app dials the TCP ingest port`, async () => {
      const before = server.registry.list().length;
      const replay = await dialRecordedClient(server.ingestPort!, readFileSync(fixture(`${name}.client.bin`)), { chunkSize: 1500 });
      const list = await waitEnded(server, before + 1);
      await checkSession(server, list[before].id, name, replay);
    });

    it(`stores ${name} exactly through the /ingest WebSocket`, async () => {
      const before = server.registry.list().length;
      const replay = await wsRecordedClient(`ws://127.0.0.1:${server.httpPort}/ingest`, readFileSync(fixture(`${name}.client.bin`)), { chunkSize: 32 * 1024 });
      const list = await waitEnded(server, before + 1);
      await checkSession(server, list[before].id, name, replay);
    });
  }

  it('sends the same query packets as Tracy\'s capture tool did for the same recording', async () => {
    for (const name of ['small', 'medium', 'small-ondemand']) {
      const replay = await dialRecordedClient(server.ingestPort!, readFileSync(fixture(`${name}.client.bin`)));
      expect(Buffer.compare(replay.received, readFileSync(fixture(`${name}.server.bin`))), name).toBe(0);
    }
  });
});

describe.skipIf(!FIXTURES_PRESENT).each([0, 1])('real Tracy recordings through --connect (%i ingest workers)', (ingestWorkers) => {
  for (const name of [...NAMES, 'stress'] as const) {
    it(`stores ${name} exactly when the server dials a Tracy client`, async () => {
      const client = await listenRecordedClient(readFileSync(fixture(`${name}.client.bin`)), { chunkSize: 64 * 1024 });
      const server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, connect: [{ host: '127.0.0.1', port: client.port }], ingestWorkers });
      try {
        const replay = await client.done;
        const list = await waitEnded(server, 1, 120_000);
        await checkSession(server, list[0].id, name, replay);
        if (name !== 'small-default') expect(Buffer.compare(replay.received, readFileSync(fixture(`${name}.server.bin`)))).toBe(0);
      } finally {
        await server.close();
        await client.close();
      }
    }, 180_000);
  }
});
