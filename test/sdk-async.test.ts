/**
 * Many interleaved async zones, through TCP to a real server: no protocol error, every track
 * well nested on the server, zones begun after `await` under their async zone, durations right.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../client/node.js';
import { mulberry32 } from './support/tracy-streams.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { getJson, waitNewSession, waitSessionEnded, type Json } from './support/server-api.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const CHAINS = 100;

let server: ServerHandle;
beforeAll(async () => {
  server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 } });
});
afterAll(async () => {
  await server.close();
});

describe('async zones through a server', () => {
  it('keeps 100 interleaved request chains well nested, each on an async track, with the right durations', async () => {
    const rand = mulberry32(7);
    const tracy = await connect({ appName: 'async-app', port: server.ingestPort!, exitHandlers: false });
    const plan = Array.from({ length: CHAINS }, () => ({ waitMs: 1 + Math.floor(rand() * 20), dbMs: 1 + Math.floor(rand() * 5) }));
    await Promise.all(
      plan.map(({ waitMs, dbMs }) =>
        tracy.zone('request', async (z) => {
          tracy.zoneValue(z, waitMs);
          await sleep(waitMs);
          tracy.zone('parse', () => {});
          const manual = tracy.zoneBegin('manual wait');
          await sleep(1);
          tracy.zoneEnd(manual);
          await tracy.zone('db', async () => {
            await sleep(dbMs);
            for (let r = 0; r < 3; r++) tracy.zone('row', () => {});
          });
          // two concurrent children: they cannot share one track
          await Promise.all([0, 1].map(() => tracy.zone('fetch', async () => sleep(1))));
        }),
      ),
    );
    // the main track meanwhile
    for (let i = 0; i < 10; i++) tracy.zone('tick', () => {});
    await tracy.close();
    expect(tracy.stats).toMatchObject({ dropped: 0, zonesEndedEarly: 0, unknownZoneIds: 0, zonesEndedAtClose: 0 });

    const id = await waitNewSession(server, 0);
    const d = await waitSessionEnded(server, id);
    expect(d).toMatchObject({ endReason: 'terminated', error: null });
    const stats: Json[] = await getJson(server, `/api/sessions/${id}/stats`);
    expect(Object.fromEntries(stats.map((s) => [s.name, s.count]))).toEqual({
      request: CHAINS,
      parse: CHAINS,
      'manual wait': CHAINS,
      db: CHAINS,
      row: 3 * CHAINS,
      fetch: 2 * CHAINS,
      tick: 10,
    });

    const threads: Json[] = await getJson(server, `/api/sessions/${id}/threads`);
    expect(threads.filter((t) => t.open !== 0 || t.unmatchedEnds !== 0)).toEqual([]);
    const lanes = threads.filter((t) => t.id > 65536);
    expect(lanes.every((t) => /^main async \d+$/.test(t.name))).toBe(true);
    // tracks are reused: fewer than one per async zone
    expect(lanes.length).toBeLessThan(CHAINS + 2 * CHAINS);
    expect(threads.find((t) => t.id === 1)).toMatchObject({ name: 'main', zones: 10 });

    const srclocs: Json[] = await getJson(server, `/api/sessions/${id}/srclocs`);
    const nameOf = (srcloc: number) => srclocs[srcloc]!.name as string;
    const zones: Json = await getJson(server, `/api/sessions/${id}/zones?nsPerPx=0`);
    const requests: { thread: number; row: number; startNs: number; endNs: number }[] = [];
    for (const t of zones.threads as Json[]) {
      const depths = new Map<number, Json>(t.depths.map((x: Json) => [x.depth, x]));
      for (const [depth, col] of depths) {
        for (let k = 0; k < col.startNs.length; k++) {
          const [s, e, name] = [col.startNs[k], col.endNs[k], nameOf(col.srcloc[k])];
          if (depth === 0) {
            if (t.thread > 65536) expect(['request', 'fetch']).toContain(name);
            if (name === 'request') requests.push({ thread: t.thread, row: col.row[k], startNs: s, endNs: e });
            continue;
          }
          // every nested zone lies inside a zone one level up on the same track
          const up = depths.get(depth - 1)!;
          let inside = false;
          for (let j = 0; j < up.startNs.length && !inside; j++) inside = up.startNs[j] <= s && e <= up.endNs[j];
          expect(inside, `${name} at depth ${depth} on thread ${t.thread}`).toBe(true);
          if (name === 'row') expect(depth).toBe(2);
          if (name === 'db' || name === 'parse' || name === 'manual wait') expect(depth).toBe(1);
        }
      }
    }
    expect(requests).toHaveLength(CHAINS);
    const details: Json[] = await Promise.all(requests.map((r) => getJson(server, `/api/sessions/${id}/zone?thread=${r.thread}&depth=0&row=${r.row}`)));
    for (const z of details) {
      const waitMs = Number(z.value);
      expect(z.name).toBe('request');
      // sleep(waitMs) + sleep(1) + db (>= 1 ms) + fetch (1 ms); libuv counts timers from the loop's
      // cached time, so together they may end up to ~2 ms early in real time
      expect(z.durNs).toBeGreaterThanOrEqual((waitMs + 3 - 2) * 1e6);
      expect(z.durNs).toBeLessThan((waitMs + 5 + 2000) * 1e6);
      // parse, manual wait, db, and the first fetch (inline); the second fetch overlaps it: another track
      expect(z.children).toBe(4);
    }
  });
});
