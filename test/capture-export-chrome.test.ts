/**
 * The streaming Chrome export of a capture file (server/export/capture-to-chrome.ts): the same
 * events as the live export of the same data (store-to-chrome.ts), zones that never end left
 * out as the live export leaves them out, valid JSON for hostile names, gzip, and a
 * 1-million-zone capture exported by the built CLI in bounded memory (peak RSS measured in
 * the child process).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticStream } from '../bench/synthetic-stream.js';
import { CaptureStreamBuilder } from '../protocol/capture/stream-builder.js';
import { captureToChrome, exportCaptureFileToChrome, type ByteSource } from '../server/export/capture-to-chrome.js';
import { exportStoreToChrome } from '../server/export/store-to-chrome.js';
import { BudgetAccount, MemoryBudget } from '../server/store/memory-budget.js';
import { readerForStore, SessionStore } from '../server/store/session-store.js';
import { captureFromRecording, clientHeadLength, frameEnds, ROOT } from './support/capture-files.js';
import { FIXTURES_PRESENT, fixture } from './support/inspect-fixtures.js';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const TMP = resolve(ROOT, 'test-artifacts/capture-export');

function storeOf(clientStream: Uint8Array): SessionStore {
  const store = new SessionStore(new BudgetAccount(new MemoryBudget(2 ** 40)));
  readerForStore(store).push(clientStream);
  return store;
}

function memorySource(bytes: Uint8Array, chunk = 65536): ByteSource {
  return () =>
    (function* () {
      for (let p = 0; p < bytes.length; p += chunk) yield bytes.subarray(p, Math.min(bytes.length, p + chunk));
    })();
}

async function exportText(source: ByteSource): Promise<{ text: string; result: Awaited<ReturnType<typeof collectResult>> }> {
  const parts: Buffer[] = [];
  const gen = captureToChrome(source);
  const result = await collectResult(gen, parts);
  return { text: Buffer.concat(parts).toString('utf8'), result };
}

async function collectResult(gen: ReturnType<typeof captureToChrome>, parts: Buffer[]) {
  for (;;) {
    const next = await gen.next();
    if (next.done) return next.value;
    parts.push(Buffer.from(next.value));
  }
}

/** The events of a Chrome JSON text as sorted lines (one event per line in our writer's output). */
function eventLines(text: string): string[] {
  const lines = text.split('\n');
  // first line '{"traceEvents":[', last lines the closing and otherData
  return lines
    .filter((l) => l.startsWith('{"name"'))
    .map((l) => (l.endsWith(',') ? l.slice(0, -1) : l))
    .sort();
}

/** Zones as "tid/depth start end name" from B/E in nesting order per tid (Tracy's reading: trunc(ts * 1000)). */
function zoneKeys(doc: Json): string[] {
  const open = new Map<number, { name: string; ns: number }[]>();
  const out: string[] = [];
  for (const e of doc.traceEvents) {
    if (e.cat !== 'zone') continue;
    let stack = open.get(e.tid);
    if (!stack) open.set(e.tid, (stack = []));
    if (e.ph === 'B') stack.push({ name: e.name, ns: Math.trunc(e.ts * 1000) });
    else {
      const b = stack.pop()!;
      expect(e.name).toBe(b.name);
      out.push(`${e.tid}/${stack.length} ${b.ns} ${Math.trunc(e.ts * 1000)} ${b.name}`);
    }
  }
  for (const s of open.values()) expect(s).toEqual([]);
  return out.sort();
}

/** The live export of `clientStream` decoded into a store, with the pid the capture export uses. */
function liveExport(clientStream: Uint8Array, pid: number, app: string): string {
  return [...exportStoreToChrome(storeOf(clientStream), { app, host: null, pid, sessionId: 'live' })].join('');
}

function expectSameEvents(fromCapture: string, live: string): void {
  const a = eventLines(fromCapture);
  const b = eventLines(live);
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) expect(a[i]).toBe(b[i]); // first difference only
  expect(zoneKeys(JSON.parse(fromCapture))).toEqual(zoneKeys(JSON.parse(live)));
}

describe.skipIf(!FIXTURES_PRESENT)('Chrome export of a capture file, compared with the live export', () => {
  const bin = FIXTURES_PRESENT ? new Uint8Array(readFileSync(fixture('medium.client.bin'))) : new Uint8Array(0);

  it('writes the same events as the store export of the same recording, from a .zscap and from the raw stream', async () => {
    const live = liveExport(bin, 14710, 'fixture_app');
    const zscap = captureFromRecording(bin, { sessionId: '7' }).file;
    const fromZscap = await exportText(memorySource(zscap, 100_003));
    expectSameEvents(fromZscap.text, live);
    const doc = JSON.parse(fromZscap.text);
    expect(doc.otherData).toMatchObject({ producer: 'zonescope', session: '7', app: 'fixture_app', pid: 14710, zones: 202201, orphanZones: 0, openZones: 0, source: 'zscap' });
    expect(fromZscap.result).toMatchObject({ zones: 202201, messages: 9602, error: null, truncation: null });
    const fromStream = await exportText(memorySource(bin));
    expect(fromStream.text.replace(/"otherData":.*$/s, '')).toBe(fromZscap.text.replace(/"otherData":.*$/s, ''));
  });

  it('says where a capture is cut inside a frame, and exports what came before', async () => {
    const ends = frameEnds(bin);
    const cutAt = ends[Math.floor(ends.length * 0.37)]!;
    const live = liveExport(bin.subarray(0, cutAt), 14710, 'fixture_app');
    const { text, result } = await exportText(memorySource(captureFromRecording(bin.subarray(0, cutAt + 100)).file));
    expect(result.truncation).toMatch(/ends inside a frame: 100 bytes after the last complete frame/);
    expect(JSON.parse(text).otherData.truncation).toBe(result.truncation);
    expectSameEvents(text, live);
  });

  it('stops at a broken frame with everything before it exported, and says so in otherData', async () => {
    const ends = frameEnds(bin);
    const zscap = captureFromRecording(bin);
    const broken = zscap.file.slice();
    // the size prefix of the frame after the 10th complete one: stream offset -> file offset
    const prefix = ends[10]! - clientHeadLength(bin) + zscap.headLength;
    new DataView(broken.buffer).setUint32(prefix, 0xffffffff, true);
    const { text, result } = await exportText(memorySource(broken));
    expect(result.error?.code).toBe('ZS_CAPTURE_BAD_FRAME');
    const doc = JSON.parse(text);
    expect(doc.otherData.error).toMatch(/ZS_CAPTURE_BAD_FRAME/);
    expect(result.zones).toBeGreaterThan(0);
    expectSameEvents(text, liveExport(bin.subarray(0, ends[10]!), 14710, 'fixture_app'));
  });
});

describe('Chrome export of a built capture', () => {
  /** A stream with names JSON must escape, a zone text that arrives after the zone's children, frames of both kinds, plots and messages. */
  function hostileStream(): Uint8Array {
    const chunks: Uint8Array[] = [];
    const b = new CaptureStreamBuilder({ app: 'esc"ape\\app', pid: 77, hostInfo: 'h\nost', epochS: 1 }, (c) => chunks.push(c.slice()));
    b.threadName(5, 'thread "one"\n');
    const nasty = ['say "hi"', 'back\\slash', 'tab\tnew\nline\u0001bell\u0007', 'ünïcødé ✓ 😀 日本', '</script>', 'lone \ud800 surrogate'];
    let t = 1000;
    for (const n of nasty) {
      b.zoneBegin(5, t, b.srcloc(n, 'fn', 'file "x".ts', 3, 0));
      b.zoneBegin(5, t + 10, b.srcloc('child', 'fn', 'a.ts', 4, 0));
      b.zoneEnd(5, t + 20);
      b.zoneText(5, `late text of ${n}`);
      b.zoneValue(5, 12345);
      b.zoneColor(5, 0x00ff00);
      b.zoneEnd(5, t + 30);
      t += 100;
    }
    b.zoneBegin(6, 50, b.srcloc('', 'unnamed fn', '', 0, 0));
    b.zoneName(6, 'renamed "zone"');
    b.zoneEnd(6, 60);
    b.message(5, 2000, 'Frame 12 took too long "really"', 0xff0000);
    b.message(6, 2001, 'plain', -1);
    b.frameMark('', 100);
    b.frameMark('', 200);
    b.frameMark('physics', 150);
    b.frameStart('load', 300);
    b.frameEnd('load', 400);
    b.plot('queue "depth"', 500, 3.5);
    b.plot('queue "depth"', 600, -1);
    b.appInfo('app info\n2');
    b.zoneBegin(7, 5000, b.srcloc('never ends', 'fn', 'a.ts', 1, 0)); // ended by finish(): a real zone
    b.finish();
    const n = chunks.reduce((s, c) => s + c.length, 0);
    const out = new Uint8Array(n);
    let p = 0;
    for (const c of chunks) {
      out.set(c, p);
      p += c.length;
    }
    return out;
  }

  it('stays valid JSON with hostile names and writes what the live export writes', async () => {
    const stream = hostileStream();
    const zscap = captureFromRecording(stream).file;
    const { text, result } = await exportText(memorySource(zscap, 7));
    const doc = JSON.parse(text);
    expectSameEvents(text, liveExport(stream, 77, 'esc"ape\\app'));
    expect(result.zones).toBe(14);
    const outer = doc.traceEvents.find((e: Json) => e.ph === 'B' && e.name === 'say "hi"');
    expect(outer.args).toEqual({ text: 'late text of say "hi"', value: 12345, color: '#00ff00' });
    expect(outer.loc).toBe('file "x".ts:3');
    expect(doc.traceEvents).toContainEqual(expect.objectContaining({ ph: 'B', name: 'renamed "zone"', tid: 6 }));
    expect(doc.traceEvents).toContainEqual(expect.objectContaining({ ph: 'M', name: 'thread_name', tid: 5, args: { name: 'thread "one"\n' } }));
    const msg = doc.traceEvents.find((e: Json) => e.cat === 'message' && e.tid === 5);
    expect(msg.args).toEqual({ text: 'Frame 12 took too long "really"', color: '#ff0000' });
    expect(msg.name).not.toMatch(/frame/i);
    expect(doc.traceEvents.filter((e: Json) => e.cat === 'frame' && e.name === 'Frame')).toHaveLength(2);
    expect(doc.traceEvents.filter((e: Json) => e.cat === 'frame' && e.name === 'physics frame')).toHaveLength(1);
    expect(doc.traceEvents.filter((e: Json) => e.cat === 'frame' && e.name === 'load').map((e: Json) => e.ph)).toEqual(['B', 'E']);
    expect(doc.traceEvents.filter((e: Json) => e.ph === 'C').map((e: Json) => e.args)).toEqual([{ 'queue "depth"': 3.5 }, { 'queue "depth"': -1 }]);
    expect(doc.otherData.appInfo).toEqual(['app info\n2']);
  });

  it('leaves out zones that never end and everything inside them, as the live export does', async () => {
    const chunks: Uint8Array[] = [];
    const b = new CaptureStreamBuilder({ app: 'open', pid: 1, hostInfo: '', epochS: 1 }, (c) => chunks.push(c.slice()));
    const loc = b.srcloc('z', 'fn', 'a.ts', 1, 0);
    b.zoneBegin(1, 0, loc); // never ends
    for (let i = 0; i < 5; i++) {
      b.zoneBegin(1, 10 + i * 10, loc);
      b.zoneBegin(1, 12 + i * 10, loc);
      b.zoneEnd(1, 14 + i * 10);
      b.zoneEnd(1, 15 + i * 10);
    }
    b.zoneBegin(2, 5, loc);
    b.zoneEnd(2, 6);
    b.flush(); // no finish(): the app is still running when the capture stops
    const stream = Buffer.concat(chunks);
    const { text, result } = await exportText(memorySource(captureFromRecording(stream).file));
    expectSameEvents(text, liveExport(stream, 1, 'open'));
    expect(result).toMatchObject({ zones: 1, openZones: 1, orphanZones: 10 });
    expect(JSON.parse(text).otherData).toMatchObject({ zones: 1, openZones: 1, orphanZones: 10 });
  });

  it('writes a gzip file that unzips to the plain export, and refuses what is not a capture', async () => {
    mkdirSync(TMP, { recursive: true });
    const input = join(TMP, 'hostile.zscap');
    writeFileSync(input, captureFromRecording(hostileStream()).file);
    const plain = await exportCaptureFileToChrome(input, join(TMP, 'hostile.json'));
    const gz = await exportCaptureFileToChrome(input, join(TMP, 'hostile.json.gz'), { gzip: true });
    const text = readFileSync(join(TMP, 'hostile.json'), 'utf8');
    expect(plain.bytesWritten).toBe(Buffer.byteLength(text));
    expect(gunzipSync(readFileSync(join(TMP, 'hostile.json.gz'))).toString('utf8')).toBe(text);
    expect(gz.bytesWritten).toBe(readFileSync(join(TMP, 'hostile.json.gz')).length);
    writeFileSync(join(TMP, 'not.zscap'), '{"traceEvents":[]}');
    await expect(exportCaptureFileToChrome(join(TMP, 'not.zscap'), join(TMP, 'x.json'))).rejects.toMatchObject({ code: 'ZS_EXPORT_UNKNOWN_FORMAT' });
  });
});

describe('zonescope export (the built CLI) of a 1-million-zone capture', () => {
  const DIST = join(TMP, 'dist');
  const run = promisify(execFile);
  let input: string;
  let zones: number;

  beforeAll(async () => {
    mkdirSync(TMP, { recursive: true });
    // Our own build folder, so this never races a test that builds or runs dist/. Type errors
    // elsewhere (work in progress) do not stop tsc from emitting: check the output.
    await run(process.execPath, [resolve(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', DIST], { cwd: ROOT }).catch(() => {});
    expect(existsSync(join(DIST, 'server/cli.js'))).toBe(true);
    const s = makeSyntheticStream(1_000_000);
    zones = s.zones;
    input = join(TMP, 'synthetic-1m.zscap');
    writeFileSync(input, captureFromRecording(s.stream).file);
  }, 240_000);
  afterAll(() => {
    for (const f of ['synthetic-1m.zscap', 'synthetic-1m.json']) rmSync(join(TMP, f), { force: true });
  });

  it('exports in bounded memory (peak RSS < 300 MB), with progress lines, and the output parses with JSON.parse', async () => {
    const out = join(TMP, 'synthetic-1m.json');
    const { stderr } = await run(process.execPath, [join(DIST, 'server/cli.js'), 'export', input, '--format', 'chrome', '-o', out], { cwd: ROOT, maxBuffer: 1 << 24 });
    expect(stderr).toMatch(/export: pass [12]\/2 \((names|events)\) .* zones/);
    const m = /wrote .*: ([\d,]+) events \(([\d,]+) zones.*peak RSS ([\d.]+) (MiB|KiB)/.exec(stderr);
    expect(m, stderr).not.toBeNull();
    expect(Number(m![2]!.replace(/,/g, ''))).toBe(zones);
    const peakMiB = m![4] === 'MiB' ? Number(m![3]) : Number(m![3]) / 1024;
    expect(peakMiB * 1.048576).toBeLessThan(300); // MB
    // JSON.parse in a child of its own: the 190 MB document as objects is the test's cost, not the export's
    const parse = `const d = JSON.parse(require('fs').readFileSync(${JSON.stringify(out)}, 'utf8')); console.log(d.traceEvents.length, d.otherData.zones)`;
    const parsed = await run(process.execPath, ['-e', parse], { cwd: ROOT });
    const [events, z] = parsed.stdout.trim().split(' ').map(Number);
    expect(z).toBe(zones);
    expect(events).toBe(Number(m![1]!.replace(/,/g, '')));
  }, 240_000);

  it('prints nothing with --quiet, and exits 2 for a file that is not a capture', async () => {
    const small = join(TMP, 'small.zscap');
    writeFileSync(small, captureFromRecording(makeSyntheticStream(1000).stream).file);
    const q = await run(process.execPath, [join(DIST, 'server/cli.js'), 'export', small, '--quiet', '-o', join(TMP, 'small.json.gz')], { cwd: ROOT });
    expect(q.stderr).toBe('');
    expect(JSON.parse(gunzipSync(readFileSync(join(TMP, 'small.json.gz'))).toString('utf8')).otherData.zones).toBeGreaterThanOrEqual(1000);
    writeFileSync(join(TMP, 'bad.zscap'), 'hello');
    const bad = await run(process.execPath, [join(DIST, 'server/cli.js'), 'export', join(TMP, 'bad.zscap'), '-o', join(TMP, 'bad.json')], { cwd: ROOT }).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toMatch(/not a capture: byte 0 is 0x68/);
  }, 60_000);
});
