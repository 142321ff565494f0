import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { encodeCaptureHead, ZSCAP_VERSION, type CaptureHeader } from '../../protocol/capture/index.js';
import { CaptureStreamBuilder } from '../../protocol/capture/stream-builder.js';
import { WELCOME_SIZE } from '../../protocol/tracy/index.js';
import { ChromeJsonScanner, type ChromeScanResult } from './chrome-json-scan.js';
import { ChromeImportModel, type ImportInstant, type ImportThread } from './chrome-import-model.js';
import { hasZones, sortedOrder, threadIds, writeZones } from './chrome-import-zones.js';

/*
 * Chrome Trace Event JSON -> a capture (.zscap bytes), so an imported trace loads like any
 * other capture. The rules follow Tracy's own import-chrome (../shared/fixtures/tracy/README.md,
 * "What Tracy's import-chrome accepts"), made tolerant: an event Tracy would abort on is skipped
 * and counted instead.
 * - ts in microseconds -> ns as trunc(ts * 1000); X ends at that + trunc(dur * 1000); times are
 *   rebased so the earliest event is 0, except in our own exports (otherData.producer
 *   "zonescope"), whose times are the session's and are kept.
 * - Threads: each (pid, tid) pair is one thread; a tid is kept as the thread id when it is a
 *   u32 not used by another pid, else the pair gets a free id.
 * - Zones: X events and B/E pairs. Per thread, B/E are sorted by time (stable) and an E ends the
 *   innermost open B (Tracy's rule: names are not matched); an E with nothing open is counted,
 *   a B never closed is dropped and counted. When a thread has X events, all its zones are
 *   sorted by start, longer first, file order last, and nested; a zone that overlaps its parent
 *   without fitting in it is cut at the parent's end (counted in clampedZones).
 * - Zone name -> the source location's function (its name stays empty, as Tracy's importer
 *   does), `loc` "file:line" -> its file and line; args -> zone text, one `key: value` line per
 *   key. In our own exports args.text, args.value and args.color restore text, value, colour.
 * - Instants: names containing "frame" become frame marks (one set per name), others messages.
 *   In our own exports cat "message" instants are messages with args.text as the exact text,
 *   cat "frame" instants frame marks of set args.frameSet (none: the default set), cat "frame"
 *   B/E pairs start/end frames of their set.
 * - Counters: each numeric args key is a plot of that name; a key ending in "_bytes" is shown as
 *   memory, as are our exports' "Memory usage" series.
 * - Metadata: thread_name, process_name (the app name), process_labels (app info).
 */

export interface ChromeImportOptions {
  /** Unix seconds the imported session "started" (the welcome's epoch). Default: now. */
  epochS?: number;
  /** Progress of the async imports: phase, units done and total (UTF-16 units while parsing, threads while building). */
  onProgress?: (p: ChromeImportProgress) => void;
}

export interface ChromeImportProgress {
  phase: 'parse' | 'build';
  done: number;
  total: number;
  /** Events read so far. */
  events: number;
}

export interface ChromeImportStats {
  /** Event objects in the file. */
  events: number;
  zones: number;
  messages: number;
  frames: number;
  plotSamples: number;
  /** Threads with zones or messages. */
  threads: number;
  /** E events with no open zone on their thread. */
  unmatchedEnds: number;
  /** B events never closed (dropped, as Tracy's importer drops them). */
  unclosedBegins: number;
  /** Zones cut at their parent's end because they overlapped it. */
  clampedZones: number;
  /** Events not imported, by reason. */
  skipped: Record<string, number>;
  /** The file was cut (an unclosed array, a last event cut off): what was missing, or null. */
  partial: string | null;
  /** otherData.producer ("zonescope" for our own exports), or null. */
  producer: string | null;
  /** Nanoseconds subtracted from every time (the earliest event's time; 0 for our exports). */
  rebasedNs: number;
  /** One line per kind of problem, for people. */
  warnings: string[];
}

export interface ChromeImportResult {
  /** The .zscap file: head + frames. */
  capture: Uint8Array;
  header: CaptureHeader;
  stats: ChromeImportStats;
}

/**
 * Imports a Chrome Trace Event JSON text.
 * @param name the file's name: the app name when the trace names no process, and the note
 * @throws ChromeJsonError (code ZS_CHROME_*, with line, column and byte offset) for malformed JSON,
 *   values nested deeper than MAX_JSON_DEPTH or a document that is not a trace;
 *   ChromeImportLimitError for a trace with too many threads or source locations
 */
export function importChromeTrace(text: string, name: string, o: ChromeImportOptions = {}): ChromeImportResult {
  const model = new ChromeImportModel();
  const scanner = new ChromeJsonScanner(text);
  const it = scanner.events();
  for (;;) {
    const next = it.next();
    if (next.done) return buildCapture(model, next.value, name, o);
    model.add(next.value);
  }
}

/** Events parsed between turns of the event loop in the async import. */
const EVENTS_PER_SLICE = 16384;

/**
 * As importChromeTrace, but parses in slices and yields to the event loop between them, so a
 * server stays responsive and a progress line can redraw while a large trace is read.
 */
export async function importChromeTraceText(text: string, name: string, o: ChromeImportOptions = {}): Promise<ChromeImportResult> {
  const model = new ChromeImportModel();
  const scanner = new ChromeJsonScanner(text);
  const it = scanner.events();
  for (;;) {
    for (let i = 0; i < EVENTS_PER_SLICE; i++) {
      const next = it.next();
      if (next.done) {
        o.onProgress?.({ phase: 'build', done: 0, total: 1, events: model.events });
        await turn();
        return buildCapture(model, next.value, name, o);
      }
      model.add(next.value);
    }
    o.onProgress?.({ phase: 'parse', done: scanner.position, total: text.length, events: model.events });
    await turn();
  }
}

/** Largest JSON text (UTF-8 bytes, after gunzip) read from a file: V8's string limit is ~2^29 units. */
export const CHROME_IMPORT_MAX_BYTES = 512 * 1024 * 1024;

/**
 * Reads and imports a Chrome trace file (`.json`, or gzip-compressed: detected by its magic).
 * @throws ChromeJsonError for malformed JSON; RangeError for a file over CHROME_IMPORT_MAX_BYTES;
 *   the file system's errors
 */
export async function importChromeTraceFile(path: string, o: ChromeImportOptions = {}): Promise<ChromeImportResult> {
  return importChromeTraceText(decodeChromeBytes(await readFile(path)), basename(path), o);
}

/**
 * The JSON text of a Chrome trace file's bytes: gunzipped when they start with the gzip magic,
 * UTF-8 decoded (a byte order mark is skipped by the parser; invalid sequences become U+FFFD).
 * @throws RangeError when the text would exceed CHROME_IMPORT_MAX_BYTES
 */
export function decodeChromeBytes(bytes: Uint8Array): string {
  let data = bytes;
  if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) {
    data = gunzipSync(data, { maxOutputLength: CHROME_IMPORT_MAX_BYTES + 1 });
  }
  return chromeTextOf(data);
}

/**
 * The JSON text of a Chrome trace's (uncompressed) bytes, UTF-8 decoded.
 * @throws RangeError when they exceed CHROME_IMPORT_MAX_BYTES
 */
export function chromeTextOf(data: Uint8Array): string {
  if (data.length > CHROME_IMPORT_MAX_BYTES) {
    throw new RangeError(`Chrome trace of ${data.length} bytes > limit ${CHROME_IMPORT_MAX_BYTES} (one JSON text must fit in a JavaScript string)`);
  }
  return new TextDecoder('utf-8').decode(data);
}

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// ---- building the capture ----

const MEMORY_FORMAT = 1;

function buildCapture(model: ChromeImportModel, scan: ChromeScanResult, name: string, o: ChromeImportOptions): ChromeImportResult {
  const other = scan.otherData !== null && typeof scan.otherData === 'object' ? (scan.otherData as Record<string, unknown>) : {};
  const producer = typeof other.producer === 'string' ? other.producer : null;
  const ours = producer === 'zonescope';
  const rebase = ours || !Number.isFinite(model.minNs) ? 0 : model.minNs;
  const stats: ChromeImportStats = {
    events: model.events,
    zones: 0,
    messages: 0,
    frames: 0,
    plotSamples: 0,
    threads: 0,
    unmatchedEnds: 0,
    unclosedBegins: 0,
    clampedZones: 0,
    skipped: model.skipped,
    partial: scan.partial,
    producer,
    rebasedNs: rebase,
    warnings: [],
  };

  const threads = [...model.threads.values()];
  const ids = threadIds(threads);
  const firstPid = threads.find((t) => t.pid !== null)?.pid ?? null;
  const processName = model.processNames.get(firstPid === null ? '-' : String(firstPid)) ?? model.processNames.values().next().value ?? null;
  const app = ours && typeof other.app === 'string' ? other.app : processName ?? name;
  const pid = ours && typeof other.pid === 'number' ? other.pid : firstPid !== null && firstPid >= 0 ? firstPid : 0;
  const host = ours && typeof other.host === 'string' ? other.host : `Chrome Trace Event JSON imported from ${name}`;
  const epochS = o.epochS ?? Math.floor(Date.now() / 1000);

  const chunks: Uint8Array[] = [];
  const b = new CaptureStreamBuilder({ app, pid, hostInfo: host, epochS }, (c) => chunks.push(c.slice()));
  const appInfo = ours && Array.isArray(other.appInfo) ? other.appInfo.filter((x): x is string => typeof x === 'string') : model.processLabels;
  for (const text of appInfo) b.appInfo(text);

  // threads with zones or messages, named
  const multiProcess = model.pids.size > 1;
  const frameSpans: FrameSpan[] = [];
  const instantKinds = classifyInstants(model.instants, ours);
  const used = (t: ImportThread) => hasZones(t, ours) || instantKinds.messagesByThread.has(t);
  for (const t of threads) {
    if (!used(t)) continue;
    const named = model.threadNames.get(t.key);
    const pidName = t.pid === null ? null : model.processNames.get(String(t.pid)) ?? `pid ${t.pid}`;
    const threadName = named ?? (multiProcess && pidName !== null ? `${pidName} tid ${t.tid}` : null);
    if (threadName !== null) b.threadName(ids.get(t)!, threadName);
  }
  for (const t of threads) {
    const frameIndices = ours && t.frameEvents.length > 0 ? takeFrameSpans(t, frameSpans) : null;
    writeZones(b, model, t, ids.get(t)!, rebase, ours, frameIndices, stats);
  }

  // messages, in time order
  const messages = instantKinds.messages.sort((x, y) => x.ns - y.ns);
  for (const m of messages) {
    b.message(ids.get(m.thread)!, m.ns - rebase, m.text, m.rgb);
    stats.messages++;
  }
  writeFrames(b, instantKinds.marks, frameSpans, rebase, stats);

  for (const [plot, c] of model.counters) {
    if (plot.endsWith('_bytes') || (ours && (plot === 'Memory usage' || plot.startsWith('Memory usage: ')))) b.plotConfig(plot, MEMORY_FORMAT, ours, true, 0);
    const order = sortedOrder(c.ns.view());
    const ns = c.ns.view();
    const v = c.value.view();
    for (let i = 0; i < order.length; i++) {
      const k = order[i]!;
      b.plot(plot, ns[k]! - rebase, v[k]!);
      stats.plotSamples++;
    }
  }
  b.finish();

  stats.threads = threads.filter(used).length;
  stats.warnings = warningsOf(stats);
  const stream = concat(chunks);
  // the builder's first chunk: status byte + WelcomeMessage; the frames follow
  const header: CaptureHeader = {
    formatVersion: ZSCAP_VERSION,
    app,
    pid,
    hostInfo: host,
    wallClockStartMs: epochS * 1000,
    welcome: stream.slice(1, 1 + WELCOME_SIZE),
    onDemand: null,
    source: 'import',
    note: `Chrome Trace Event JSON imported from ${name}`,
  };
  const head = encodeCaptureHead(header);
  const capture = new Uint8Array(head.length + stream.length - 1 - WELCOME_SIZE);
  capture.set(head, 0);
  capture.set(stream.subarray(1 + WELCOME_SIZE), head.length);
  return { capture, header, stats };
}

interface MessageOut {
  thread: ImportThread;
  ns: number;
  text: string;
  rgb: number;
}

interface FrameMarkOut {
  set: string;
  ns: number;
}

interface FrameSpan {
  set: string;
  startNs: number;
  endNs: number;
}

/** Messages and frame marks from the instants (see the file comment for the rules). */
function classifyInstants(instants: ImportInstant[], ours: boolean): { messages: MessageOut[]; marks: FrameMarkOut[]; messagesByThread: Set<ImportThread> } {
  const messages: MessageOut[] = [];
  const marks: FrameMarkOut[] = [];
  const messagesByThread = new Set<ImportThread>();
  for (const it of instants) {
    const a = it.args;
    if (ours && it.cat === 'message') {
      const color = typeof a?.color === 'string' && /^#[0-9a-f]{6}$/i.test(a.color) ? parseInt(a.color.slice(1), 16) : -1;
      messages.push({ thread: it.thread, ns: it.ns, text: typeof a?.text === 'string' ? a.text : it.name, rgb: color });
      messagesByThread.add(it.thread);
    } else if (ours && it.cat === 'frame') {
      marks.push({ set: typeof a?.frameSet === 'string' ? a.frameSet : '', ns: it.ns });
    } else if (/frame/i.test(it.name)) {
      marks.push({ set: it.name, ns: it.ns });
    } else {
      messages.push({ thread: it.thread, ns: it.ns, text: it.name, rgb: -1 });
      messagesByThread.add(it.thread);
    }
  }
  return { messages, marks, messagesByThread };
}

/**
 * Our exports' start/end frames (B/E with cat "frame"), paired per set name in file order;
 * returns their B/E list indices so they are not read as zones.
 */
function takeFrameSpans(t: ImportThread, out: FrameSpan[]): Set<number> {
  const taken = new Set<number>();
  const open = new Map<string, number[]>();
  for (const f of t.frameEvents) {
    taken.add(f.index);
    if (f.begin) {
      let list = open.get(f.name);
      if (!list) open.set(f.name, (list = []));
      list.push(f.ns);
    } else {
      const s = open.get(f.name)?.shift();
      if (s !== undefined) out.push({ set: f.name, startNs: s, endNs: f.ns });
    }
  }
  return taken;
}

/** Frame marks and start/end frames per set, in time order; a set used both ways keeps its first kind. */
function writeFrames(b: CaptureStreamBuilder, marks: FrameMarkOut[], spans: FrameSpan[], rebase: number, stats: ChromeImportStats): void {
  const kinds = new Map<string, 'marks' | 'spans'>();
  marks.sort((x, y) => x.ns - y.ns);
  for (const m of marks) {
    if ((kinds.get(m.set) ?? 'marks') !== 'marks') continue;
    kinds.set(m.set, 'marks');
    b.frameMark(m.set, m.ns - rebase);
    stats.frames++;
  }
  spans.sort((x, y) => x.startNs - y.startNs || x.endNs - y.endNs);
  const lastEnd = new Map<string, number>();
  let dropped = 0;
  for (const s of spans) {
    if ((kinds.get(s.set) ?? 'spans') !== 'spans' || s.startNs < (lastEnd.get(s.set) ?? -Infinity) || s.endNs < s.startNs) {
      dropped++;
      continue;
    }
    kinds.set(s.set, 'spans');
    b.frameStart(s.set, s.startNs - rebase);
    b.frameEnd(s.set, s.endNs - rebase);
    lastEnd.set(s.set, s.endNs);
    stats.frames++;
  }
  if (dropped > 0) stats.skipped['start/end frame overlapping another of its set'] = dropped;
}

function warningsOf(s: ChromeImportStats): string[] {
  const out: string[] = [];
  if (s.partial !== null) out.push(`the file is cut: ${s.partial}; everything before was imported`);
  if (s.unmatchedEnds > 0) out.push(`${s.unmatchedEnds} E event(s) with no open zone on their thread: ignored`);
  if (s.unclosedBegins > 0) out.push(`${s.unclosedBegins} B event(s) never closed: dropped`);
  if (s.clampedZones > 0) out.push(`${s.clampedZones} zone(s) overlapped their parent without fitting in it: cut at the parent's end`);
  for (const [reason, n] of Object.entries(s.skipped)) out.push(`${n} event(s) skipped: ${reason}`);
  return out;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}
