/**
 * Issue 10, rows 10, 12 and 13: hostile Chrome JSON uploads to POST /api/sessions/import.
 * A gzip bomb is refused once its JSON passes the limit (not after inflating it all); deep
 * nesting is a 400 with its position instead of a stack overflow; non-object events are
 * skipped and counted; a trace past the thread or source-location limit is refused with a
 * 422 before any session exists, instead of a 201 for a session that ended in a store error.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROME_IMPORT_MAX_SOURCE_LOCATIONS, CHROME_IMPORT_MAX_THREADS } from '../server/export/chrome-import-model.js';
import { MAX_JSON_DEPTH } from '../server/export/chrome-json-scan.js';
import { IMPORT_JSON_MAX_BYTES } from '../server/http/import-route.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import type { Json } from './support/server-api.js';

const MiB = 2 ** 20;

/**
 * A gzip stream that inflates to `[`, `mib` MiB of spaces and `]`: one 16 MiB member of spaces
 * compressed once and repeated (a multi-member gzip file is valid; gunzip joins the members),
 * so a "bomb" of any size costs the test one small compression.
 */
function gzipBomb(mib: number): Buffer {
  const member = gzipSync(Buffer.alloc(16 * MiB, 0x20), { level: 9 });
  return Buffer.concat([gzipSync('['), ...new Array<Buffer>(Math.ceil(mib / 16)).fill(member), gzipSync(']')]);
}

describe('POST /api/sessions/import of hostile Chrome JSON', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null });
  });
  afterAll(() => server.close());

  async function upload(body: Uint8Array | string): Promise<{ status: number; json: Json }> {
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/sessions/import?name=hostile.json`, { method: 'POST', body: body as unknown as BodyInit });
    return { status: res.status, json: await res.json() };
  }

  it('refuses a gzip upload whose JSON passes the limit once decompressed, naming the limit in MiB', async () => {
    expect(IMPORT_JSON_MAX_BYTES).toBe(256 * MiB);
    const before = server.registry.list().length;
    for (const mib of [320, 1024]) {
      const bomb = gzipBomb(mib);
      expect(bomb.length).toBeLessThan(2 * MiB);
      const { status, json } = await upload(bomb);
      expect(status, `${mib} MiB`).toBe(413);
      expect(json).toEqual({
        code: 'ZS_IMPORT_TOO_LARGE',
        error: 'hostile.json: Chrome trace over the 256 MiB upload limit once decompressed: export it to a .zscap with zonescope, or split it',
      });
    }
    expect(server.registry.list().length).toBe(before);
    // a gzip stream that breaks off is a 400 with a code, not a 500
    const cut = gzipSync('[{"ph":"X","name":"A","tid":1,"ts":0,"dur":1}]').subarray(0, 20);
    expect(await upload(cut)).toMatchObject({ status: 400, json: { code: 'ZS_IMPORT_BAD_GZIP' } });
  });

  it('answers 400 with the position for values nested deeper than the limit, instead of overflowing the stack', async () => {
    const prefix = '[{"ph":"X","name":"A","tid":1,"ts":0,"dur":1},\n{"ph":"X","name":"B","tid":1,"ts":2,"dur":1,"args":';
    const deep = `${prefix}${'['.repeat(200_000)}${']'.repeat(200_000)}}]`;
    const { status, json } = await upload(deep);
    expect(status).toBe(400);
    // the event's '{' is level 1: the bracket that opens level 1001 is the 1000th '['
    const byteOffset = prefix.length + MAX_JSON_DEPTH - 1;
    const column = byteOffset - prefix.lastIndexOf('\n');
    expect(json).toEqual({
      code: 'ZS_CHROME_JSON_TOO_DEEP',
      error: `hostile.json: malformed JSON at line 2, column ${column} (byte ${byteOffset}): arrays and objects nested more than 1000 deep`,
      line: 2,
      column,
      byteOffset,
    });
    // deep but within the limit is imported
    const ok = await upload(`${prefix}${'['.repeat(999)}${']'.repeat(999)}}]`);
    expect(ok.status).toBe(201);
    expect(ok.json.stats.zones).toBe(2);
  });

  it('skips and counts entries of traceEvents that are not objects', async () => {
    const { status, json } = await upload('{"traceEvents":[null,{"ph":"X","name":"A","tid":1,"ts":0,"dur":5},12,"x",[1],true]}');
    expect(status).toBe(201);
    expect(json.stats).toMatchObject({ events: 6, zones: 1, skipped: { 'not an object': 5 } });
    expect(json.warnings).toContain('5 event(s) skipped: not an object');
    expect(json.session).toMatchObject({ endReason: 'terminated', error: null, zones: 1 });
  });

  it('refuses a trace with more threads or source locations than a session holds, before making a session', async () => {
    const before = server.registry.list().length;
    const tids = Array.from({ length: 100_000 }, (_, i) => `{"ph":"X","name":"A","tid":${i},"ts":${i},"dur":1}`);
    const manyThreads = await upload(`[${tids.join(',\n')}]`);
    expect(manyThreads.status).toBe(422);
    expect(manyThreads.json).toEqual({
      code: 'ZS_CHROME_TOO_MANY_THREADS',
      error: `hostile.json: more than ${CHROME_IMPORT_MAX_THREADS} threads (distinct pid/tid pairs with events) at event ${CHROME_IMPORT_MAX_THREADS + 1}: an import holds at most ${CHROME_IMPORT_MAX_THREADS}`,
      limit: CHROME_IMPORT_MAX_THREADS,
      event: CHROME_IMPORT_MAX_THREADS + 1, // refused as the thread past the limit appeared: nothing more was read
    });
    const names = Array.from({ length: 70_000 }, (_, i) => `{"ph":"X","name":"zone ${i}","tid":1,"ts":${i},"dur":1}`);
    const manyLocations = await upload(`[${names.join(',\n')}]`);
    expect(manyLocations.status).toBe(422);
    expect(manyLocations.json).toMatchObject({ code: 'ZS_CHROME_TOO_MANY_SOURCE_LOCATIONS', limit: 65_536, event: CHROME_IMPORT_MAX_SOURCE_LOCATIONS + 1 });
    expect(manyLocations.json.error).toMatch(/^hostile\.json: more than 65536 distinct zone names and locations at event 65537/);
    expect(server.registry.list().length).toBe(before);
    // at the limits, the trace is imported whole
    const atLimit = await upload(`[${tids.slice(0, CHROME_IMPORT_MAX_THREADS).join(',\n')}]`);
    expect(atLimit.status).toBe(201);
    expect(atLimit.json.session).toMatchObject({ endReason: 'terminated', error: null, threads: CHROME_IMPORT_MAX_THREADS, zones: CHROME_IMPORT_MAX_THREADS });
  });
});
