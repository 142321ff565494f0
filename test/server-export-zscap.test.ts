/**
 * GET /api/sessions/:id/export?format=zscap[&t0&t1]: a session (or a range of it) re-encoded
 * from the store as a .zscap, streamed; opened again, it decodes to what the store holds.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureReader, type CaptureHeader } from '../protocol/capture/zscap.js';
import { concatChunks } from '../protocol/tracy/index.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { BudgetAccount, MemoryBudget } from '../server/store/memory-budget.js';
import { readerForStore, SessionStore } from '../server/store/session-store.js';
import { FIXTURES_PRESENT, fixture } from './support/inspect-fixtures.js';
import { waitNewSession, waitSessionEnded } from './support/server-api.js';
import { expectSameSnapshot, storeSnapshot } from './support/store-snapshot.js';
import { dialRecordedClient } from './support/tracy-replay.js';

/** Opens a .zscap and decodes its stream into a new store. */
function openCapture(bytes: Uint8Array): { header: CaptureHeader; store: SessionStore; terminated: boolean } {
  const stream: Uint8Array[] = [];
  const reader = new CaptureReader((b) => stream.push(b.slice()));
  reader.push(bytes);
  expect(reader.end().cutBytes).toBe(0);
  const store = new SessionStore(new BudgetAccount(new MemoryBudget(2 ** 40)));
  const tracy = readerForStore(store);
  tracy.push(concatChunks(stream));
  expect(tracy.truncation()).toBeNull();
  return { header: reader.header!, store, terminated: tracy.decoder.terminated };
}

describe.skipIf(!FIXTURES_PRESENT)('GET /api/sessions/:id/export?format=zscap', () => {
  let server: ServerHandle;
  let id: string;
  beforeAll(async () => {
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 } });
    await dialRecordedClient(server.ingestPort!, readFileSync(fixture('medium.client.bin')), { chunkSize: 64 * 1024 });
    id = await waitNewSession(server, 0);
    await waitSessionEnded(server, id);
  }, 120_000);
  afterAll(async () => {
    await server?.close();
  });

  const get = (query: string) => fetch(`http://127.0.0.1:${server.httpPort}/api/sessions/${id}/export?${query}`);

  it('streams the whole session as a capture that decodes to the same store content', async () => {
    const res = await get('format=zscap');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="fixture_app-${id}.zscap"`);
    const capture = openCapture(new Uint8Array(await res.arrayBuffer()));
    expect(capture.terminated).toBe(true);
    expect(capture.header).toMatchObject({ app: 'fixture_app', source: 'range-export', sessionId: id });
    const session = server.registry.get(id)!;
    expectSameSnapshot(storeSnapshot(capture.store), storeSnapshot(session.store));
  });

  it('exports a range: the zones intersecting it, the marks, samples and messages in it', async () => {
    const store = server.registry.get(id)!.store;
    const t0 = Math.round(store.lastNs * 0.6);
    const t1 = Math.round(store.lastNs * 0.61);
    const res = await get(`format=zscap&t0=${t0}&t1=${t1}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="fixture_app-${id}-range.zscap"`);
    const capture = openCapture(new Uint8Array(await res.arrayBuffer()));
    const expected = storeSnapshot(store, t0, t1);
    expect(expected.zoneCount).toBeGreaterThan(100);
    expectSameSnapshot(storeSnapshot(capture.store), expected);
  });

  it('rejects gzip for a capture and names the formats it knows', async () => {
    const gz = await get('format=zscap&gzip=1');
    expect(gz.status).toBe(400);
    expect(await gz.json()).toEqual({ code: 'ZS_HTTP_BAD_PARAM', error: 'gzip applies to format=chrome only: a .zscap is LZ4-compressed already' });
    const bogus = await get('format=tracy');
    expect(bogus.status).toBe(400);
    expect(await bogus.json()).toEqual({ code: 'ZS_HTTP_BAD_PARAM', error: "unknown export format 'tracy' (chrome, zscap)" });
    const backwards = await get('format=zscap&t0=10&t1=5');
    expect(backwards.status).toBe(400);
  });
});
