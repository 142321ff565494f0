import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { TracyStreamReader } from '../../protocol/tracy/index.js';
import type { StoreExportResult } from './store-to-chrome.js';
import { ChromeTraceWriter } from './chrome-writer.js';
import { NamesPass } from './capture-names-pass.js';
import { ChromePass } from './capture-chrome-pass.js';
import { CaptureExportError, CaptureExportErrorCode, CaptureFeed, streamError } from './capture-feed.js';

export { CaptureExportError, CaptureExportErrorCode } from './capture-feed.js';

/*
 * The Chrome Trace Event export of a capture file (.zscap, or a raw Tracy client stream), in
 * bounded memory whatever the capture's size: two passes over the file with the decoder.
 *
 *   pass 1  NamesPass: names, zone extras, zones that never end, threads, app info (small)
 *   pass 2  ChromePass: events written as the decoder meets them -> ChromeTraceWriter
 *
 * Zone begin/end of one thread arrive in nesting order already, so B/E pairs need no sorting;
 * only what arrives later than its use (strings, source locations, thread/plot/frame names,
 * zone text, which zones stay open) has to be known before writing, hence pass 1. The rules are
 * store-to-chrome.ts's, so a capture and the live session it was recorded from export to the
 * same events; only the order differs (store-to-chrome writes thread by thread and messages in
 * time order, this writes in stream order, B/E of each thread still in nesting order).
 */

/** Opens the capture's bytes from the start; called once per pass. */
export type ByteSource = () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export interface CaptureExportProgress {
  /** 1: names, 2: writing events */
  pass: 1 | 2;
  /** Bytes of the capture read in this pass, and the file's size (0 when unknown). */
  bytesRead: number;
  totalBytes: number;
  /** Zones begun (pass 1) or written (pass 2) so far. */
  zones: number;
  /** Milliseconds since the export started. */
  elapsedMs: number;
}

export interface CaptureExportOptions {
  /** Called about every `progressMs` milliseconds while reading (default: never). */
  onProgress?: (p: CaptureExportProgress) => void;
  /** Default 1000. */
  progressMs?: number;
  /** The capture's size in bytes, for progress (default 0: unknown). */
  totalBytes?: number;
}

export interface CaptureExportResult extends StoreExportResult {
  /** Zones that never ended (left out, as the live export leaves open zones out). */
  openZones: number;
  /** Bytes of the capture read (one pass). */
  bytesRead: number;
  header: CaptureInfo;
  /** A decode error that stopped the export early (everything before it was written), or null. */
  error: { code: string; message: string; offset: number } | null;
  /** The capture ends inside a frame (a crash while recording): what was cut, or null. */
  truncation: string | null;
}

/** What the capture says about the app. */
export interface CaptureInfo {
  app: string;
  host: string;
  pid: number;
  sessionId: string | null;
  /** 'zscap' or 'client-stream' (a raw recording of what the app sent). */
  format: 'zscap' | 'client-stream';
}

/** Client-stream bytes decoded in pass 2 between hand-offs of the output. */
const STEP_BYTES = 4096;

class ProgressClock {
  private next: number;
  private readonly every: number;
  constructor(
    private readonly o: CaptureExportOptions,
    private readonly startMs: number,
  ) {
    this.every = o.progressMs ?? 1000;
    this.next = startMs + this.every;
  }
  tick(pass: 1 | 2, bytesRead: number, zones: number): void {
    if (!this.o.onProgress) return;
    const now = performance.now();
    if (now < this.next) return;
    this.next = now + this.every;
    this.o.onProgress({ pass, bytesRead, totalBytes: this.o.totalBytes ?? 0, zones, elapsedMs: now - this.startMs });
  }
}

/**
 * The capture as Chrome Trace Event JSON, in UTF-8 chunks (~64 KiB each): an async
 * generator, so a consumer that writes them with backpressure (a file, a gzip stream, an HTTP
 * response) keeps memory bounded. Reads `source` twice.
 * @returns the counts, and the decode error or truncation that ended the capture early
 * @throws CaptureExportError (unknown format, no welcome), CaptureError (not a capture, newer
 *   version, bad header); a broken frame later in the file is not thrown: the events before it
 *   are written and `error` says what happened (also in otherData.error)
 */
export async function* captureToChrome(source: ByteSource, o: CaptureExportOptions = {}): AsyncGenerator<Uint8Array, CaptureExportResult, void> {
  const startMs = performance.now();
  const clock = new ProgressClock(o, startMs);

  // ---- pass 1: names and what arrives late ----
  const names = new NamesPass();
  const feed1 = new CaptureFeed(new TracyStreamReader(names));
  let bytesRead = 0;
  let error: CaptureExportResult['error'] = null;
  for await (const chunk of source()) {
    try {
      feed1.push(chunk);
    } catch (err) {
      error = streamError(err);
      if (error === null) throw err;
      break;
    }
    bytesRead += chunk.length;
    clock.tick(1, bytesRead, names.zonesBegun);
  }
  const r1 = feed1.reader;
  const welcome = r1.welcome;
  if (welcome === null) {
    throw error !== null
      ? new CaptureExportError(CaptureExportErrorCode.NoWelcome, `the capture has no welcome message: ${error.message}`)
      : new CaptureExportError(CaptureExportErrorCode.NoWelcome, `the capture ends before its welcome message (${bytesRead} bytes)`);
  }
  const truncation = error === null ? feed1.truncation() : null;
  const h = feed1.header;
  const info: CaptureInfo = {
    app: h?.app ?? welcome.programName,
    host: h?.hostInfo ?? welcome.hostInfo,
    pid: h?.pid ?? Number(welcome.pid),
    sessionId: h?.sessionId ?? null,
    format: h !== null ? 'zscap' : 'client-stream',
  };

  // ---- pass 2: events, in stream order ----
  // Chunks are encoded as they are made: a string chunk is a rope of thousands of small
  // strings, and keeping ropes alive across a scavenge doubles the time of the whole export.
  const pending: Uint8Array[] = [];
  const w = new ChromeTraceWriter((chunk) => pending.push(Buffer.from(chunk, 'utf8')));
  const pid = Number.isInteger(info.pid) && info.pid >= 0 && info.pid < 2 ** 32 ? info.pid : 1;
  const threadIds = names.threadIds();
  const framesTid = threadIds.reduce((m, id) => Math.max(m, id), 0) + 1;
  const tables = r1.decoder.names;
  w.metadata('process_name', pid, 0, { name: info.app });
  if (names.appInfoTexts.length > 0) w.metadata('process_labels', pid, 0, { labels: names.appInfoTexts.join(', ') });
  for (const id of threadIds) w.metadata('thread_name', pid, id, { name: tables.threads.get(id) ?? `thread ${id}` });
  if (names.hasFrames) w.metadata('thread_name', pid, framesTid, { name: 'Frames' });

  const pass = new ChromePass(w, pid, framesTid, r1.decoder.srclocs, tables, names.extras(), names.openAtEnd());
  const feed2 = new CaptureFeed(new TracyStreamReader(pass), true);
  let bytes2 = 0;
  let stopped = false;
  for await (const chunk of source()) {
    try {
      feed2.push(chunk);
      // In steps, handing on the output after each: a step of compressed stream can expand
      // to ~50x its size in JSON, and strings kept across a scavenge cost GC time.
      while (feed2.drain(STEP_BYTES)) if (pending.length > 0) yield* pending.splice(0);
    } catch (err) {
      if (streamError(err) === null) throw err;
      stopped = true; // the error pass 1 met, after the same events (recorded there)
    }
    // frames passed on before a bad one are good: decode them
    if (stopped) while (feed2.drainQuietly(STEP_BYTES)) if (pending.length > 0) yield* pending.splice(0);
    if (pending.length > 0) yield* pending.splice(0);
    if (stopped) break;
    bytes2 += chunk.length;
    clock.tick(2, bytes2, pass.result.zones);
  }

  const result: CaptureExportResult = { ...pass.result, openZones: 0, bytesRead, header: info, error, truncation };
  for (const set of names.openAtEnd().values()) result.openZones += set.size;
  result.events = w.events;
  w.finish({
    producer: 'zonescope',
    session: info.sessionId,
    app: info.app,
    host: info.host,
    pid: info.pid,
    appInfo: names.appInfoTexts,
    range: { t0Ns: null, t1Ns: null },
    zones: result.zones,
    orphanZones: result.orphanZones,
    openZones: result.openZones,
    source: info.format,
    ...(error !== null ? { error: `${error.code}: ${error.message}` } : {}),
    ...(truncation !== null ? { truncation } : {}),
    timestamps: 'microseconds since the session start, written as (ns + 0.5) / 1000',
  });
  yield* pending.splice(0);
  return result;
}

/** A file as a ByteSource, read in 64 KiB chunks. */
export function fileSource(path: string): ByteSource {
  return () => createReadStream(path, { highWaterMark: 64 * 1024 });
}

export interface CaptureFileExportOptions extends CaptureExportOptions {
  /** Gzip the output (default false). */
  gzip?: boolean;
}

export interface CaptureFileExportResult extends CaptureExportResult {
  /** Bytes written to the output (compressed size with gzip). */
  bytesWritten: number;
}

/**
 * Exports the capture at `inputPath` as Chrome Trace Event JSON (gzip on request) to the file
 * `output` (created or replaced) or to a Writable (left open when it is stdout), with
 * backpressure: memory stays bounded by pass 1's tables and a few chunks in flight, whatever the
 * capture's size.
 * @throws as captureToChrome, and file system errors; on a throw the output may be incomplete
 */
export async function exportCaptureFileToChrome(inputPath: string, output: string | NodeJS.WritableStream, o: CaptureFileExportOptions = {}): Promise<CaptureFileExportResult> {
  const size = (await stat(inputPath)).size;
  let result: CaptureExportResult | null = null;
  const chunks = captureToChrome(fileSource(inputPath), { ...o, totalBytes: o.totalBytes ?? size });
  async function* body(): AsyncGenerator<Uint8Array, void, void> {
    result = yield* chunks;
  }
  let bytesWritten = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytesWritten += chunk.length;
      done(null, chunk);
    },
  });
  const out = typeof output === 'string' ? createWriteStream(output) : output;
  if (o.gzip) await pipeline(Readable.from(body()), createGzip(), count, out);
  else await pipeline(Readable.from(body()), count, out);
  return { ...(result as unknown as CaptureExportResult), bytesWritten };
}
