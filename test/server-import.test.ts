/**
 * POST /api/sessions/import: a Chrome trace (plain or gzip), a .zscap or a recorded Tracy stream
 * becomes an ended session (source 'import') listed like any other; malformed uploads get a
 * 4xx with a stable code (and the position for malformed JSON). The acceptance round trip runs
 * through it: recording -> server (spooled to a .zscap) -> Chrome JSON -> import -> the same
 * zones, frames, plot samples and messages.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCaptureFileToChrome } from '../server/export/capture-to-chrome.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { captureFromRecording } from './support/capture-files.js';
import { FIXTURES_PRESENT, fixture } from './support/inspect-fixtures.js';
import { getJson, waitSessionEnded, type Json } from './support/server-api.js';
import { expectSameContents } from './support/store-rows.js';
import { dialRecordedClient } from './support/tracy-replay.js';
import { tracyFixturePath } from './support/fixture-paths.js';

const BASIC = tracyFixturePath('chrome/basic.json');
const TMP = fileURLToPath(new URL('../test-artifacts/server-import/', import.meta.url));

async function upload(server: ServerHandle, body: Uint8Array | string, name?: string): Promise<{ status: number; json: Json }> {
  const q = name === undefined ? '' : `?name=${encodeURIComponent(name)}`;
  const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/sessions/import${q}`, { method: 'POST', body: body as unknown as BodyInit });
  return { status: res.status, json: await res.json() };
}

describe('POST /api/sessions/import', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null });
  });
  afterAll(() => server.close());

  it.skipIf(!existsSync(BASIC))('makes an ended session of a Chrome trace, listed with source import, plain or gzip', async () => {
    const text = readFileSync(BASIC);
    const { status, json } = await upload(server, text, 'basic.json');
    expect(status).toBe(201);
    expect(json).toMatchObject({ name: 'basic.json', format: 'chrome', stats: { zones: 6, messages: 2, frames: 3, plotSamples: 4 } });
    expect(json.session).toMatchObject({ id: json.id, source: 'import', remote: 'basic.json', state: 'ended', endReason: 'terminated', zones: 6 });
    const list: Json[] = await getJson(server, '/api/sessions');
    expect(list.map((s) => s.id)).toContain(json.id);
    const threads: Json[] = await getJson(server, `/api/sessions/${json.id}/threads`);
    expect(threads.map((t) => t.name)).toEqual(['Main ✓', 'Worker', 'Other process, tid 10']);
    const gz = await upload(server, gzipSync(text), 'basic.json.gz');
    expect(gz.status).toBe(201);
    expect(gz.json.session.zones).toBe(6);
    expect(gz.json.id).not.toBe(json.id);
  });

  it('says where JSON is malformed, and refuses what is not a capture nor a trace', async () => {
    const bad = await upload(server, '[{"ph":"X","name":"A","tid":1,"ts":0,"dur":5},\n{"ph":"X",,}]', 'bad.json');
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'ZS_CHROME_JSON_SYNTAX', line: 2, column: 11 });
    expect(bad.json.error).toMatch(/^bad\.json: malformed JSON at line 2, column 11 \(byte \d+\): expected a property name in double quotes, found ','/);
    const notTrace = await upload(server, '{"events":[]}');
    expect(notTrace).toMatchObject({ status: 400, json: { code: 'ZS_CHROME_NOT_A_TRACE' } });
    const other = await upload(server, 'hello world');
    expect(other.status).toBe(415);
    expect(other.json).toMatchObject({ code: 'ZS_IMPORT_UNKNOWN_FORMAT', error: 'upload is neither a capture (.zscap), a recorded Tracy stream nor Chrome trace JSON (it starts with 0x68 65 6c 6c 6f 20 77 6f)' });
    const empty = await upload(server, '');
    expect(empty).toMatchObject({ status: 400, json: { code: 'ZS_IMPORT_EMPTY' } });
    const head = Uint8Array.of(0x5a, 0x53, 0x43, 0x41, 0x50, 0x00, 0x0d, 0x0a, 3, 0, 0, 0, 0xc1, 0xc1, 0xc1);
    const badHead = await upload(server, head, 'x.zscap');
    expect(badHead).toMatchObject({ status: 400, json: { code: 'ZS_CAPTURE_BAD_HEADER' } });
    const before = (await getJson(server, '/api/sessions')).length;
    expect(before).toBe(server.registry.list().length);
    expect(server.registry.list().every((s) => s.remote !== 'x.zscap')).toBe(true);
  });

  it.skipIf(!FIXTURES_PRESENT)('streams a .zscap and a recorded Tracy stream into sessions that decode as the recording', async () => {
    const bin = new Uint8Array(readFileSync(fixture('small.client.bin')));
    const zscap = await upload(server, captureFromRecording(bin).file, 'small.zscap');
    expect(zscap.status).toBe(201);
    expect(zscap.json).toMatchObject({ format: 'zscap', warnings: [], session: { source: 'import', endReason: 'terminated' } });
    const raw = await upload(server, bin, 'small.client.bin');
    expect(raw.json).toMatchObject({ format: 'client-stream', warnings: [] });
    expect(raw.json.session.zones).toBe(zscap.json.session.zones);
    expectSameContents(server.registry.get(raw.json.id)!.store, server.registry.get(zscap.json.id)!.store);
    // a capture cut inside a frame: the session keeps what came before and says where it stopped
    const file = captureFromRecording(bin).file;
    const cut = await upload(server, file.subarray(0, file.length - 10), 'cut.zscap');
    expect(cut.status).toBe(201);
    expect(cut.json.warnings.join(' ')).toMatch(/the capture is cut: the stream ended inside the frame/);
  });
});

describe.skipIf(!FIXTURES_PRESENT)('acceptance: recording -> server -> .zscap -> Chrome JSON -> import', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    rmSync(TMP, { recursive: true, force: true });
    mkdirSync(join(TMP, 'data'), { recursive: true });
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 }, dataDir: join(TMP, 'data') });
  });
  afterAll(async () => {
    await server.close();
    rmSync(TMP, { recursive: true, force: true }); // ~60 MB of capture and JSON
  });

  it('gives back the same zones (name, thread, start and duration to the ns), frames, plot samples and messages', async () => {
    await dialRecordedClient(server.ingestPort!, readFileSync(fixture('medium.client.bin')));
    const id = server.registry.list()[0]!.id;
    await waitSessionEnded(server, id);
    const zscap = join(TMP, 'data', `${id}.zscap`);
    const spooled = Date.now() + 10_000;
    while (!existsSync(zscap) && Date.now() < spooled) await new Promise((r) => setTimeout(r, 50));
    const out = join(TMP, 'medium.json');
    const exported = await exportCaptureFileToChrome(zscap, out);
    expect(exported).toMatchObject({ zones: 202201, error: null, truncation: null });
    const { status, json } = await upload(server, readFileSync(out), 'medium.json');
    expect(status).toBe(201);
    expect(json.stats).toMatchObject({ producer: 'zonescope', zones: 202201, warnings: [] });
    expectSameContents(server.registry.get(json.id)!.store, server.registry.get(id)!.store);
  });
});
