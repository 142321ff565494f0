/**
 * Chrome Trace Event import (server/export/chrome-import.ts): Tracy's own import of
 * chrome/basic.json reproduced from what its csvexport printed, every file of the
 * chrome-trace-event corpus (speedscope's edge cases, Chrome DevTools recordings) imported
 * without a crash with the zones it should give, malformed JSON reported with its position,
 * and the round trip recording -> store -> Chrome JSON -> import -> store keeping every zone
 * (name, thread, depth, start and end to the nanosecond, text, value, colour), frame, plot
 * sample and message.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ChromeJsonError } from '../server/export/chrome-json-scan.js';
import { importChromeTrace, importChromeTraceFile, importChromeTraceText } from '../server/export/chrome-import.js';
import { exportStoreToChrome } from '../server/export/store-to-chrome.js';
import { plotsByName } from '../server/query/series-query.js';
import type { SessionStore } from '../server/store/session-store.js';
import { decodeCaptureStore } from './support/capture-store.js';
import { decodeFixtureStore } from './support/fixture-store.js';
import { expectSameContents, framesOf, messagesOf, plotsOf, zoneKey, zonesOf } from './support/store-rows.js';
import { captureFromRecording } from './support/capture-files.js';
import { SHARED_FIXTURES, tracyFixturePath } from './support/fixture-paths.js';
import { captureToChrome } from '../server/export/capture-to-chrome.js';
import { fixture, FIXTURES_PRESENT, parseCsvexportMessages, parseCsvexportPlots, parseCsvexportZones } from './support/inspect-fixtures.js';

const CORPUS = join(SHARED_FIXTURES, 'chrome-trace-event');
const TRACY_CHROME = dirname(tracyFixturePath('chrome/basic.json'));
const CORPUS_PRESENT = existsSync(join(CORPUS, 'simple.json'));
const TMP = fileURLToPath(new URL('../test-artifacts/chrome-import/', import.meta.url));

describe.skipIf(!existsSync(join(TRACY_CHROME, 'basic.json')))("Tracy's chrome/basic.json", () => {
  const { capture, stats, header } = importChromeTrace(readFileSync(join(TRACY_CHROME, 'basic.json'), 'utf8'), 'basic.json', { epochS: 1_700_000_000 });
  const store = decodeCaptureStore(capture);

  it('gives the zones Tracy imported, rebased so the earliest event is at 0, each (pid, tid) its own thread', () => {
    const want = parseCsvexportZones(readFileSync(join(TRACY_CHROME, 'basic.zones-unwrapped.csv'), 'utf8'));
    const got = zonesOf(store);
    const key = (name: string, file: string, line: number, s: number, d: number) => `${name} ${file}:${line} ${s}+${d}`;
    expect(got.map((z) => key(z.name, z.file, z.line, z.startNs, z.endNs - z.startNs)).sort()).toEqual(want.map((z) => key(z.name, z.file, z.line, z.startNs, z.durationNs)).sort());
    // zone text: each args key a "key: value" line (Tracy's csvexport also shows pid 2's argless Outer with pid 1's text)
    expect(got.find((z) => z.name === 'Outer' && z.thread === 10)!.text).toBe('k: v\nn: 3');
    expect(got.find((z) => z.name === 'BE nested')!.text).toBe('note: begin arg');
    expect(got.find((z) => z.name === 'BE nested')!.depth).toBe(1);
    expect(got.find((z) => z.name === 'Inner')!.depth).toBe(1);
    // pid 1 tid 10 keeps tid 10; pid 2's tid 10 gets a free id
    expect(got.map((z) => `${z.name}@${z.thread}`).sort()).toEqual(['BE nested@11', 'BE zone@11', 'Inner@10', 'Inner@10', 'Outer@10', 'Outer@12']);
    expect(store.threadList().map((t) => `${t.id} ${t.name}`)).toEqual(['10 Main ✓', '11 Worker', '12 Other process, tid 10']);
    expect(stats).toMatchObject({ zones: 6, messages: 2, frames: 3, plotSamples: 4, threads: 3, rebasedNs: 1_000_000, skipped: { 'phase "P" (not imported)': 1 }, producer: null, partial: null });
    expect(header).toMatchObject({ source: 'import', app: 'basic.json', pid: 1 });
  });

  it('gives the messages, frame marks and plots Tracy imported', () => {
    const want = parseCsvexportMessages(readFileSync(join(TRACY_CHROME, 'basic.messages.csv'), 'utf8'));
    expect(messagesOf(store)).toEqual(want.map((m, i) => `${m.timeNs} ${i === 0 ? 10 : 11} -1 ${JSON.stringify(m.text)}`));
    expect(framesOf(store)).toEqual(['"Frame" marks: 0 500000', '"physics frame" marks: 600000']);
    const plots = parseCsvexportPlots(readFileSync(join(TRACY_CHROME, 'basic.zones-unwrapped-plots.csv'), 'utf8'));
    const byName = new Map<string, string[]>();
    for (const p of plots) byName.set(p.name, [...(byName.get(p.name) ?? []), `${p.timeNs}=${p.value}`]);
    const got = plotsOf(store);
    expect(new Map([...got].map(([k, v]) => [k, v.split(' ')]))).toEqual(byName);
    expect(plotsByName(store).find((p) => p.name === 'heap_bytes')!.format).toBe(1); // memory, as Tracy formats *_bytes
  });
});

/** Zones each file of speedscope's corpus gives, with what was counted (Tracy's reading: an E ends the innermost open zone). */
const CORPUS_EXPECT: Record<string, { zones: number; threads?: number; unmatchedEnds?: number; unclosedBegins?: number; clampedZones?: number; partial?: boolean; skipped?: number }> = {
  'bex-interaction.json': { zones: 12 },
  'end-event-with-empty-stack.json': { zones: 1, unmatchedEnds: 1 },
  'end-non-top-of-stack.json': { zones: 2, unclosedBegins: 1 },
  'event-reordering-name-match.json': { zones: 3 },
  'hermes-multiple-frames.json': { zones: 4 },
  'invalid-x-nesting.json': { zones: 2, clampedZones: 1 },
  'matching-x.json': { zones: 5 },
  'mismatched-args.json': { zones: 1 },
  'mismatched-name.json': { zones: 1 },
  'multi-thread-with-samples.json': { zones: 2, threads: 2 },
  'multiprocess.json': { zones: 8, threads: 8 },
  'must-retain-original-order.json': { zones: 7 },
  'not-enough-end-events.json': { zones: 1, unclosedBegins: 2 },
  'only-begin-events.json': { zones: 0, unclosedBegins: 3 },
  'out-of-order-unbalanced-name.json': { zones: 2 },
  'out-of-order.json': { zones: 3 },
  'simple-hermes.json': { zones: 2 },
  'simple-object.json': { zones: 2, skipped: 1 },
  'simple-partial-trailing-comma.json': { zones: 3, partial: true, skipped: 1 },
  'simple-partial-whitespace.json': { zones: 3, partial: true, skipped: 1 },
  'simple-partial.json': { zones: 3, partial: true, skipped: 1 },
  'simple-with-samples.json': { zones: 0 },
  'simple.json': { zones: 3, skipped: 1 },
  'simultaneous-anonymous-calls.json': { zones: 6 },
  'too-many-end-events.json': { zones: 2, unmatchedEnds: 2 },
  'unbalanced-args.json': { zones: 2 },
  'unbalanced-name.json': { zones: 2 },
  'x-events-matching-end.json': { zones: 9 },
  'x-events-matching-start.json': { zones: 9 },
  'zero-duration-events.json': { zones: 4 },
  // Chrome DevTools recordings: X/B/E zones; ProfileChunk samples, flows, async and object events are skipped and counted
  'chrome66-worker.json': { zones: 1874, threads: 21, unclosedBegins: 1 },
  'chrome69-simple.json': { zones: 1062, threads: 16 },
  'chrome141-no-arg-data.json': { zones: 0 },
};

describe.skipIf(!CORPUS_PRESENT)('the chrome-trace-event corpus', () => {
  it('imports every file without a crash, with the zones each should give, and the capture decodes', () => {
    const files = readdirSync(CORPUS).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(Object.keys(CORPUS_EXPECT).sort());
    for (const f of files) {
      const { capture, stats } = importChromeTrace(readFileSync(join(CORPUS, f), 'utf8'), f);
      const want = CORPUS_EXPECT[f]!;
      const store = decodeCaptureStore(capture);
      expect(store.zonesEnded, f).toBe(want.zones);
      expect(stats.zones, f).toBe(want.zones);
      if (want.threads !== undefined) expect(stats.threads, f).toBe(want.threads);
      expect(stats.unmatchedEnds, f).toBe(want.unmatchedEnds ?? 0);
      expect(stats.unclosedBegins, f).toBe(want.unclosedBegins ?? 0);
      expect(stats.clampedZones, f).toBe(want.clampedZones ?? 0);
      expect(stats.partial !== null, f).toBe(want.partial ?? false);
      if (want.skipped !== undefined) expect(Object.values(stats.skipped).reduce((a, b) => a + b, 0), f).toBe(want.skipped);
      for (const t of store.threads.values()) expect(t.openCount, f).toBe(0);
    }
  });

  it('nests X events by start, longer first, and cuts a zone that overlaps its parent at the parent end', () => {
    const rows = (f: string) => zonesOf(decodeCaptureStore(importChromeTrace(readFileSync(join(CORPUS, f), 'utf8'), f).capture)).map((z) => `${z.depth} ${z.name} ${z.startNs}-${z.endNs}`);
    expect(rows('x-events-matching-start.json').sort()).toEqual(
      ['0 alpha 0-20000', '1 beta 1000-3000', '2 gamma 1000-2000', '1 gamma 5000-7000', '2 beta 5000-6000', '1 gamma 9000-11000', '2 beta 9000-10000', '1 beta 13000-15000', '2 gamma 13000-14000'].sort(),
    );
    expect(rows('invalid-x-nesting.json').sort()).toEqual(['0 alpha 0-10000', '1 beta 5000-10000']);
    // B/E pairs and X events on one thread nest together; a B/E pair and an X of the same span: the first listed is the parent
    expect(rows('bex-interaction.json').filter((r) => / [AB] /.test(r))).toEqual(['0 A 0-2000', '1 B 0-2000']);
    // events out of file order are sorted by time before B/E are matched
    expect(rows('out-of-order.json').sort()).toEqual(['0 A 0-10000', '1 B 1000-9000', '2 C 2000-8000']);
  });

  it('keeps the partial files as far as they go, and says what was cut', () => {
    const { stats } = importChromeTrace(readFileSync(join(CORPUS, 'simple-partial-trailing-comma.json'), 'utf8'), 'x');
    expect(stats.partial).toMatch(/the event array is not closed/);
    expect(stats.warnings[0]).toMatch(/the file is cut/);
    const cut = '[{"ph":"X","name":"A","tid":1,"ts":0,"dur":5},\n{"ph":"X","name":"B","ti';
    const r = importChromeTrace(cut, 'cut.json');
    expect(r.stats.zones).toBe(1);
    expect(r.stats.partial).toBe('the last event (line 2, column 1) is cut off by the end of the file: dropped');
  });
});

describe('malformed Chrome JSON', () => {
  const fail = (text: string): ChromeJsonError => {
    try {
      importChromeTrace(text, 'bad.json');
    } catch (err) {
      expect(err).toBeInstanceOf(ChromeJsonError);
      return err as ChromeJsonError;
    }
    throw new Error('no error');
  };

  it('gives the line, column and byte offset of the first bad character, and what was expected', () => {
    const e = fail('[{"ph":"X","name":"A","tid":1,"ts":0,"dur":5},\n {"ph":"X" "name":"B","tid":1,"ts":0,"dur":5}]');
    expect(e.code).toBe('ZS_CHROME_JSON_SYNTAX');
    expect([e.line, e.column, e.byteOffset]).toEqual([2, 12, 58]);
    expect(e.message).toBe(`malformed JSON at line 2, column 12 (byte 58): expected ',' or '}', found '"'`);
    const u = fail('[{"ph":"i","name":"é ✓ 😀","tid":1,"ts":0},\n{"ph":"i","name":"x\u0001","tid":1,"ts":0}]');
    expect([u.line, u.column]).toEqual([2, 20]);
    expect(u.byteOffset).toBe(Buffer.byteLength('[{"ph":"i","name":"é ✓ 😀","tid":1,"ts":0},\n{"ph":"i","name":"x'));
    expect(u.message).toMatch(/control character U\+0001 inside a string/);
    expect(fail('[{"ph":"X"}, ,]').message).toBe("malformed JSON at line 1, column 14 (byte 13): expected an event object ('{') in the event array, found ','");
    expect(fail('[{"ph":"X","ts":01}]').message).toMatch(/column 18 .*unexpected '1' after "0"/);
    expect(fail('[{"a":[1,2}]').message).toMatch(/column 11 .*expected ',' or '\]', found '}'/);
    expect(fail('[] x').message).toMatch(/column 4 .*unexpected 'x' after the end of the trace/);
    expect(fail('{"traceEvents":[], "otherData": {"a":tru}}').message).toMatch(/column 38 .*expected a value/);
  });

  it('says what is not a trace: an object without traceEvents, an empty file, another document', () => {
    const o = fail('{"events":[]}');
    expect(o.code).toBe('ZS_CHROME_NOT_A_TRACE');
    expect(o.message).toBe('not a Chrome trace: the top-level object has no "traceEvents" array (its keys: "events")');
    expect(fail(' \n ').code).toBe('ZS_CHROME_EMPTY');
    expect(fail('hello').message).toBe("malformed JSON at line 1, column 1 (byte 0): expected '[' (an array of events) or '{' (an object with \"traceEvents\") at the start of a Chrome trace, found 'h'");
    expect(fail('{"traceEvents": 3}').message).toMatch(/"traceEvents" must be an array of events/);
  });

  it('reads gzip files, and the async import reports progress and gives the same capture', async () => {
    mkdirSync(TMP, { recursive: true });
    const events = Array.from({ length: 40_000 }, (_, i) => ({ ph: 'X', name: `z${i % 7}`, pid: 3, tid: 1 + (i % 3), ts: i * 2, dur: 1 }));
    const text = JSON.stringify({ traceEvents: events });
    writeFileSync(join(TMP, 'many.json.gz'), gzipSync(text));
    const phases = new Set<string>();
    const fromFile = await importChromeTraceFile(join(TMP, 'many.json.gz'), { epochS: 5, onProgress: (p) => phases.add(p.phase) });
    expect(fromFile.stats.zones).toBe(40_000);
    expect(phases).toEqual(new Set(['parse', 'build']));
    expect(fromFile.capture).toEqual(importChromeTrace(text, 'many.json.gz', { epochS: 5 }).capture);
    expect((await importChromeTraceText(text, 'many.json.gz', { epochS: 5 })).capture).toEqual(fromFile.capture);
    writeFileSync(join(TMP, 'bad.json'), '[\n{"ph":"X",}\n]');
    await expect(importChromeTraceFile(join(TMP, 'bad.json'))).rejects.toMatchObject({ code: 'ZS_CHROME_JSON_SYNTAX', line: 2, column: 11, message: expect.stringMatching(/trailing comma before .}./) });
  });
});

describe.skipIf(!FIXTURES_PRESENT)('round trip: recording -> store -> Chrome JSON -> import -> store', () => {
  it('keeps every zone (thread, depth, start and end to the ns, name, text, value, colour), frame, plot sample, message and thread name', () => {
    const original = decodeFixtureStore('medium');
    const json = [...exportStoreToChrome(original, { app: 'fixture_app', host: 'the host', pid: 14710, sessionId: '1' })].join('');
    const { capture, stats, header } = importChromeTrace(json, 'medium.json', { epochS: 1 });
    expect(stats.producer).toBe('zonescope');
    expect(stats.rebasedNs).toBe(0);
    expect(stats.warnings).toEqual([]);
    expect(header).toMatchObject({ app: 'fixture_app', pid: 14710, hostInfo: 'the host' });
    const back = decodeCaptureStore(capture);

    const want = zonesOf(original).map(zoneKey).sort();
    const got = zonesOf(back).map(zoneKey).sort();
    expect(got.length).toBe(202201);
    expect(got.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) expect(got[i]).toBe(want[i]); // the first difference only

    expect(messagesOf(back)).toEqual(messagesOf(original));
    expect(framesOf(back)).toEqual(framesOf(original));
    const plots = plotsOf(original);
    expect(plotsOf(back)).toEqual(plots);
    expect([...plots.keys()].sort()).toEqual(['Memory usage', 'plot_double', 'plot_float', 'plot_int', 'plot_mem', 'plot_step']);
    const names = (s: SessionStore) => s.threadList().map((t) => `${t.id} ${t.name}`);
    expect(names(back)).toEqual(names(original));
    expect(back.appInfoTexts).toEqual(original.appInfoTexts);
  });

  it('keeps them through the streaming export of a .zscap too (capture -> Chrome JSON -> import)', async () => {
    const bin = new Uint8Array(readFileSync(fixture('medium.client.bin')));
    const parts: Buffer[] = [];
    const zscap = captureFromRecording(bin).file;
    for await (const chunk of captureToChrome(() => [zscap])) parts.push(Buffer.from(chunk));
    const { capture, stats } = importChromeTrace(Buffer.concat(parts).toString('utf8'), 'medium.json');
    expect(stats.warnings).toEqual([]);
    expectSameContents(decodeCaptureStore(capture), decodeFixtureStore('medium'));
  });
});
