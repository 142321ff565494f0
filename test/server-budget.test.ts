/**
 * The store within its budget with several big streams at once (issue 10 row 4): the budget's
 * peak never passes the limit, each session's account adds up, and an app whose tables alone
 * (here: live allocations) would not fit even with every segment evicted ends store-error
 * ZS_STORE_BUDGET instead of pushing the store past its limit, while the other app goes on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../server/serve.js';
import { getJson, waitFor, waitSessionEnded, type Json } from './support/server-api.js';
import { runSyntheticClient, SyntheticNames, syntheticWelcome } from './support/synthetic-client.js';
import { declarePatternNames, writeIterations, ZONES_PER_ITERATION } from './support/zone-pattern.js';

const MiB = 2 ** 20;

describe('the memory budget under parallel streams', () => {
  let server: ServerHandle | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  function zoneStream(srv: ServerHandle, app: string, zones: number) {
    const names = new SyntheticNames();
    declarePatternNames(names, [1, 2]);
    const iterations = zones / ZONES_PER_ITERATION / 2;
    const perBatch = 2000;
    return runSyntheticClient({
      port: srv.ingestPort!,
      welcome: syntheticWelcome(app),
      names,
      produce: (q, batch) => {
        const from = batch * perBatch;
        const to = Math.min(iterations, from + perBatch);
        for (const t of [1, 2]) writeIterations(q, t, from, to);
        return to < iterations;
      },
    });
  }

  async function sessionsByApp(srv: ServerHandle): Promise<Map<string, Json>> {
    const list: Json[] = await getJson(srv, '/api/sessions');
    const out = new Map<string, Json>();
    for (const s of list) out.set(s.app, await waitSessionEnded(srv, s.id));
    return out;
  }

  it('keeps two 2-million-zone streams sent at once within an 8 MiB budget at every step', async () => {
    const budgetBytes = 8 * MiB;
    const srv = (server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 }, memoryBytes: budgetBytes }));
    const results = await Promise.all([zoneStream(srv, 'first', 2_000_000), zoneStream(srv, 'second', 2_000_000)]);
    expect(results.every((r) => r.terminated)).toBe(true);
    await waitFor('both sessions listed', () => srv.registry.list().length === 2);
    const byApp = await sessionsByApp(srv);
    const budget = srv.registry.budget;
    expect(budget.peakUsed).toBeLessThanOrEqual(budgetBytes);
    expect(budget.peakUsed).toBeGreaterThan(budgetBytes * 0.9);
    expect(budget.used).toBe(byApp.get('first').storeBytes + byApp.get('second').storeBytes);
    for (const app of ['first', 'second']) {
      const d = byApp.get(app);
      expect(d.endReason).toBe('terminated');
      expect(d.zones).toBe(2_000_000);
      expect(d.evictedBytes).toBeGreaterThan(0);
    }
    for (const s of srv.registry.list()) expect(s.retainedBytes).toBe(0);
  });

  it('ends an app whose live allocations alone exceed the budget with ZS_STORE_BUDGET, and the other app goes on', async () => {
    const budgetBytes = 2 * MiB;
    const srv = (server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 }, memoryBytes: budgetBytes }));
    const names = new SyntheticNames();
    names.threads.set(7, 'allocator');
    // 48 bytes of table per live allocation: 100 000 of them need ~4.6 MiB
    const leaky = runSyntheticClient({
      port: srv.ingestPort!,
      welcome: syntheticWelcome('leaky'),
      names,
      produce: (q, batch) => {
        for (let i = 0; i < 1000; i++) {
          const n = batch * 1000 + i;
          q.memAlloc(7, n * 10, 0x10_0000 + n * 16, 16);
        }
        return batch < 99;
      },
    });
    const [, zones] = await Promise.all([leaky, zoneStream(srv, 'steady', 400_000)]);
    expect(zones.terminated).toBe(true);
    await waitFor('both sessions listed', () => srv.registry.list().length === 2);
    const byApp = await sessionsByApp(srv);
    const bad = byApp.get('leaky');
    expect(bad.endReason).toBe('store-error');
    expect(bad.error.code).toBe('ZS_STORE_BUDGET');
    expect(bad.error.message).toContain(`memory budget of ${budgetBytes} bytes`);
    expect(byApp.get('steady').endReason).toBe('terminated');
    expect(byApp.get('steady').zones).toBe(400_000);
    expect(bad.storeBytes).toBe(0); // its tables were given back when it failed
    expect(srv.registry.budget.peakUsed).toBeLessThanOrEqual(budgetBytes);
  });
});
