import { eachSample } from '../export/each-sample.js';
import { encodeCaptureHead, ZSCAP_VERSION, type CaptureHeader } from '../../protocol/capture/zscap.js';
import { CaptureStreamBuilder, type BuilderWelcome } from '../../protocol/capture/stream-builder.js';
import type { WelcomeMessage } from '../../protocol/tracy/index.js';
import { frameSetName, plotsByName, type NamedPlot } from '../query/series-query.js';
import type { SessionStore } from '../store/session-store.js';
import type { ThreadTimeline } from '../store/thread-timeline.js';
import { SEGMENT_MASK, SEGMENT_ROWS, SEGMENT_SHIFT } from '../store/zone-columns.js';
import { CAPTURE_MAX_ABS_NS } from './store-time-range.js';

/** A time the capture's integer ticks hold exactly (not NaN, not beyond ±2^53 ns). */
const encodable = (ns: number) => ns >= -CAPTURE_MAX_ABS_NS && ns <= CAPTURE_MAX_ABS_NS;

export interface StoreCaptureOptions {
  /** Range (ns since the session's start): zones that intersect it, marks, samples and messages in it. Default: everything stored. */
  t0?: number;
  t1?: number;
  /** The session's welcome (app, pid, host, epoch, resolution); null: not known yet. */
  welcome: WelcomeMessage | null;
  sessionId: string;
  remote?: string;
  /** Epoch milliseconds when the session started. */
  wallClockStartMs: number;
  /** LZ4-compress the frames (default true). */
  compress?: boolean;
}

export interface StoreCaptureResult {
  zones: number;
  /** Stored zones left out because their parent was evicted (they cannot be nested). */
  orphanZones: number;
  /** Zones still running (no end yet) that the capture ends at the range's end. */
  openZonesEnded: number;
  /** Continuous marks and start/end frames written. */
  frames: number;
  plotSamples: number;
  messages: number;
  /** Bytes of the .zscap. */
  bytes: number;
  /**
   * Zones, marks, samples and messages left out because their time cannot be encoded (NaN,
   * infinite, beyond ±2^53 ns); children of such a zone are counted in orphanZones. Callers
   * check findBadTime (store-time-range.ts) first and refuse such a store; this keeps the
   * stream whole for what that check cannot see.
   */
  unencodable: number;
}

/** The header's `source` for a capture re-encoded from a store. */
export const RANGE_EXPORT_SOURCE = 'range-export';

/**
 * Re-encodes what a session's store holds (or the range [t0, t1] of it) as a .zscap: the
 * capture head, then the frames of a Tracy client stream built by CaptureStreamBuilder, with
 * every answer a receiver asks for inside it. What it holds:
 * - per thread, every stored zone that intersects the range (t0 <= end, start <= t1) with its
 *   ancestors, in nesting order (a depth-first walk over the per-depth sorted columns, like the
 *   Chrome export), with zone text, name, value and colour, at its exact nanoseconds. Zones
 *   still running (a live session) are written with their finished children and ended at
 *   min(t1, the store's latest time), so the stream is complete (Tracy waits forever for an
 *   open zone after Terminate); the header's note says how many;
 * - frame marks and start/end frames, plot points (with each plot's PlotConfig) and messages
 *   (text, colour, severity) in the range; thread names and app info.
 * Times keep the session's time line (a range is not shifted to 0). Source locations and names
 * are re-interned by text, so a receiver sees the same names, files, lines and colours, under
 * new ids. Plots whose ids resolve to the same name become one (Tracy's rule, and how the API
 * already shows plots); frame sets stay apart as the store keeps them (a second set of the same
 * name gets a " #2" suffix). Not included: memory usage, locks, CPU usage.
 *
 * A generator of byte chunks (the head, then one chunk per LZ4 frame of up to 256 KiB of
 * items), so a consumer pulls them as fast as it can send them (bounded memory); it returns
 * the counts. The store may keep growing or evicting meanwhile: rows appended later are not
 * written, rows evicted before they were reached are skipped.
 */
export function* exportStoreToCapture(store: SessionStore, o: StoreCaptureOptions): Generator<Uint8Array, StoreCaptureResult, void> {
  const result: StoreCaptureResult = { zones: 0, orphanZones: 0, openZonesEnded: 0, frames: 0, plotSamples: 0, messages: 0, bytes: 0, unencodable: 0 };
  for (const chunk of encode(store, o, result)) {
    result.bytes += chunk.length;
    yield chunk;
  }
  return result;
}

function* encode(store: SessionStore, o: StoreCaptureOptions, result: StoreCaptureResult): Generator<Uint8Array, void, void> {
  const t0 = o.t0 ?? -Infinity;
  const t1 = o.t1 ?? Infinity;
  const ranged = Number.isFinite(t0) || Number.isFinite(t1);
  const capNs = Math.min(t1, store.lastNs);
  const threads = store.threadList();

  const pending: Uint8Array[] = [];
  const w = o.welcome;
  const builderWelcome: BuilderWelcome = {
    app: w?.programName ?? 'session',
    pid: w ? Number(w.pid) : 0,
    hostInfo: w?.hostInfo ?? '',
    epochS: w ? Number(w.epoch) : Math.floor(o.wallClockStartMs / 1000),
    resolutionNs: w ? sane(Math.trunc(Number(w.resolution) * w.timerMul)) : 1,
    cpuArch: w?.cpuArch ?? 0,
    cpuManufacturer: w?.cpuManufacturer ?? '',
    cpuId: w?.cpuId ?? 0,
  };
  const b = new CaptureStreamBuilder(builderWelcome, (chunk) => pending.push(chunk), { compress: o.compress });
  const statusAndWelcome = pending.shift()!;

  let openZones = 0;
  for (const t of threads) for (let d = 0; d < t.openCount; d++) if (t.openStart[d]! <= t1) openZones++;
  const notes = [`re-encoded from session ${o.sessionId}${ranged ? `, range [${fmt(t0)}, ${fmt(t1)}] ns` : ''}`];
  if (openZones > 0) notes.push(`${openZones} zones still running were ended at ${fmt(Math.max(capNs, 0))} ns or after their last child`);
  notes.push('memory usage, locks and CPU usage are not included');
  const header: CaptureHeader = {
    formatVersion: ZSCAP_VERSION,
    app: builderWelcome.app,
    pid: builderWelcome.pid,
    hostInfo: builderWelcome.hostInfo,
    wallClockStartMs: o.wallClockStartMs,
    welcome: statusAndWelcome.subarray(1),
    onDemand: null,
    source: RANGE_EXPORT_SOURCE,
    sessionId: o.sessionId,
    note: notes.join('; '),
  };
  if (o.remote !== undefined) header.remote = o.remote;
  yield encodeCaptureHead(header);

  for (const text of store.appInfoTexts) b.appInfo(text);
  // Names of every thread the store knows (message-only threads too): the builder sends one
  // when the receiver asks, at the thread's first zone or message.
  for (const [tid, name] of store.names.threads) b.threadName(tid, name);

  const srclocIds: number[] = [];
  const srclocId = (index: number): number => {
    let id = srclocIds[index];
    if (id === undefined) {
      const s = store.srclocs;
      const strings = store.names.strings;
      const fn = s.functionName(index, strings); // fills the texts of a static location
      id = b.srcloc(s.name[index] ?? '', fn, s.fileName(index, strings), s.line[index] ?? 0, s.color[index] ?? 0);
      srclocIds[index] = id;
    }
    return id;
  };

  for (const t of threads) yield* writeThreadZones(t, b, t0, t1, capNs, srclocId, result, pending);

  // messages, in arrival order per segment (the receiver sorts them by time as the original did)
  const strings = store.names.strings;
  for (const seg of [...store.messages.segments]) {
    if (seg.count === 0 || seg.maxTime < t0 || seg.minTime > t1) continue;
    for (let i = seg.lowerBound(t0); i < seg.count && !seg.evicted; i++) {
      const time = seg.time[i]!;
      if (time > t1) break;
      if (!encodable(time)) {
        result.unencodable++;
        continue;
      }
      b.message(seg.thread[i]!, time, seg.text[i] ?? strings.get(seg.textPtr[i]!) ?? '', seg.color[i]!, seg.metadata[i]!);
      result.messages++;
      if (pending.length > 0) yield* pending.splice(0);
    }
  }

  // frame sets: one per name (a name met again, under another id, gets a suffix)
  const frameNames = new Set<string>();
  for (const set of [...store.frames.values()]) {
    let name = frameSetName(store, set);
    for (let k = 2; frameNames.has(name); k++) name = `${frameSetName(store, set)} #${k}`;
    frameNames.add(name);
    if (set.continuous) {
      yield* eachSample(set.marks, t0, t1, pending, (ns) => {
        if (!encodable(ns)) {
          result.unencodable++;
          return;
        }
        b.frameMark(name, ns);
        result.frames++;
      });
    } else {
      // spans are (start, end) sorted by start: those ending at or after t0 and starting by t1
      yield* eachSample(set.spans, -Infinity, t1, pending, (s, e) => {
        if (e < t0) return;
        if (!encodable(s) || !encodable(e)) {
          result.unencodable++;
          return;
        }
        b.frameStart(name, s);
        b.frameEnd(name, e);
        result.frames++;
      });
      if (set.openStartNs <= t1 && encodable(set.openStartNs)) b.frameStart(name, set.openStartNs);
    }
  }

  for (const plot of plotsByName(store)) {
    let configured = false;
    yield* mergedSamples(plot, t0, t1, pending, (ns, v) => {
      if (!encodable(ns)) {
        result.unencodable++;
        return;
      }
      if (!configured) {
        b.plotConfig(plot.name, plot.format, plot.step, plot.fill, plot.color);
        configured = true;
      }
      b.plot(plot.name, ns, v);
      result.plotSamples++;
    });
    // the whole session: a plot without points keeps its settings too
    if (!configured && !ranged) b.plotConfig(plot.name, plot.format, plot.step, plot.fill, plot.color);
  }

  b.finish();
  result.openZonesEnded += b.zonesEndedAtFinish; // 0: the walk ends every zone it begins
  yield* pending.splice(0);
}

/** A resolution in ns the welcome can carry: 1 for NaN, infinities, values below 1 or beyond 2^53. */
function sane(ns: number): number {
  return ns >= 1 && ns <= CAPTURE_MAX_ABS_NS ? ns : 1;
}

function fmt(ns: number): string {
  return Number.isFinite(ns) ? String(ns) : ns > 0 ? 'end' : 'start';
}

/**
 * One thread's zones that intersect [t0, t1] with their nesting, as builder calls. `cursor[d]`
 * walks depth d's rows in start order; with `stackEnd` zones begun, the next row of depth
 * stackEnd.length is a child of the innermost one when it lies inside it, else that zone ends.
 * The zones still open (the thread's stack) act as one more row at the end of their depth,
 * ending at infinity, and are ended at max(capNs, their start, the latest end written).
 * Rows with nothing to nest under (their parent was evicted) are skipped and counted.
 */
function* writeThreadZones(
  t: ThreadTimeline,
  b: CaptureStreamBuilder,
  t0: number,
  t1: number,
  capNs: number,
  srclocId: (index: number) => number,
  result: StoreCaptureResult,
  pending: Uint8Array[],
): Generator<Uint8Array, void, void> {
  const tid = t.id;
  const depths = t.depths;
  const D = depths.length;
  // the open stack as it is now: a live session may end and begin zones between two chunks
  const openCount = t.openCount;
  const openStart = Array.from(t.openStart.subarray(0, openCount));
  const openSrcloc = Array.from(t.openSrcloc.subarray(0, openCount));
  const openExtra = t.openExtra?.slice(0, openCount) ?? new Array<null>(openCount).fill(null);
  if (D === 0 && openCount === 0) return;
  const cursor = new Array<number>(D);
  const last = new Array<number>(D);
  let ancestorsEvictedBefore = 0;
  for (let d = 0; d < D; d++) {
    const cols = depths[d]!;
    let from = Math.max(cols.firstRow, Number.isFinite(t0) ? cols.firstEndingAtOrAfter(t0) : cols.firstRow);
    last[d] = Number.isFinite(t1) ? cols.firstStartingAfter(t1) : cols.count;
    // Rows that start before an ancestor depth's eviction point lost their ancestor.
    if (d > 0 && ancestorsEvictedBefore > 0) {
      const kept = cols.firstStartingAtOrAfter(ancestorsEvictedBefore, from);
      result.orphanZones += Math.max(0, Math.min(kept, last[d]!) - from);
      from = Math.max(from, kept);
    }
    cursor[d] = from;
    ancestorsEvictedBefore = Math.max(ancestorsEvictedBefore, cols.evictedBeforeNs);
  }
  const openUsed = new Array<boolean>(openCount).fill(false);
  const stackEnd: number[] = [];
  const stackStart: number[] = [];
  let latestEnd = -Infinity;

  /** Skips rows of depths >= from that start before `beforeNs` (nothing left to nest them under). */
  const skipOrphans = (from: number, beforeNs: number) => {
    for (let d = from; d < D; d++) {
      const cols = depths[d]!;
      while (cursor[d]! < last[d]!) {
        const r = cursor[d]!;
        if (cols.segments[r >>> SEGMENT_SHIFT] == null) {
          cursor[d] = Math.min(last[d]!, ((r >>> SEGMENT_SHIFT) + 1) * SEGMENT_ROWS); // evicted: gone, not orphans
          continue;
        }
        if (cols.startAt(r) >= beforeNs) break;
        cursor[d] = r + 1;
        result.orphanZones++;
      }
    }
  };

  for (;;) {
    if (pending.length > 0) yield* pending.splice(0);
    const d = stackEnd.length;
    const parentEnd = d === 0 ? Infinity : stackEnd[d - 1]!;
    if (d < D && cursor[d]! < last[d]!) {
      const cols = depths[d]!;
      const r = cursor[d]!;
      const seg = cols.segments[r >>> SEGMENT_SHIFT];
      if (!seg) {
        // an evicted segment: its rows are gone
        cursor[d] = Math.min(last[d]!, ((r >>> SEGMENT_SHIFT) + 1) * SEGMENT_ROWS);
        continue;
      }
      const slot = r & SEGMENT_MASK;
      const s = seg.startAt(slot);
      const e = seg.endAt(slot);
      if (!encodable(s) || !encodable(e)) {
        // left out, with what nests in it: deeper rows before its end, or (no usable end)
        // before the next row of its depth
        cursor[d] = r + 1;
        result.unencodable++;
        let until = e;
        if (!encodable(until)) until = r + 1 < last[d]! && cols.segments[(r + 1) >>> SEGMENT_SHIFT] != null ? cols.startAt(r + 1) : Infinity;
        skipOrphans(d + 1, encodable(until) ? until : Infinity);
        continue;
      }
      if (s <= parentEnd && e <= parentEnd) {
        if (d === 0) skipOrphans(1, s);
        b.zoneBegin(tid, s, srclocId(seg.srcloc[slot]!));
        const extra = seg.extraAt(slot);
        if (extra !== null) writeExtra(b, tid, extra);
        result.zones++;
        stackEnd.push(e);
        stackStart.push(s);
        cursor[d] = r + 1;
        continue;
      }
    } else if (d < openCount && !openUsed[d] && openStart[d]! <= t1 && parentEnd === Infinity) {
      // the zone still open at this depth: its parent is the open zone one level up
      const s = openStart[d]!;
      if (!encodable(s)) {
        openUsed[d] = true;
        result.unencodable++;
        continue;
      }
      if (d === 0) skipOrphans(1, s);
      b.zoneBegin(tid, s, srclocId(openSrcloc[d]!));
      const extra = openExtra[d] ?? null;
      if (extra !== null) writeExtra(b, tid, extra);
      result.zones++;
      result.openZonesEnded++;
      openUsed[d] = true;
      stackEnd.push(Infinity);
      stackStart.push(s);
      continue;
    }
    if (d === 0) break;
    // the innermost zone ends; rows below it that never nested are orphans
    const e = stackEnd.pop()!;
    const s = stackStart.pop()!;
    let endNs = e === Infinity ? Math.max(s, capNs, latestEnd) : e;
    if (!encodable(endNs)) endNs = Math.max(s, encodable(latestEnd) ? latestEnd : s); // capNs out of range
    skipOrphans(d, endNs);
    b.zoneEnd(tid, endNs);
    if (endNs > latestEnd) latestEnd = endNs;
  }
  for (let d = 1; d < D; d++) skipOrphans(d, Infinity);
}

function writeExtra(b: CaptureStreamBuilder, tid: number, extra: { text: string | null; name: string | null; color: number; valueLo: number; valueHi: number }): void {
  if (extra.text !== null) b.zoneText(tid, extra.text);
  if (extra.name !== null) b.zoneName(tid, extra.name);
  if (extra.valueHi >= 0) b.zoneValueParts(tid, extra.valueLo, extra.valueHi);
  if (extra.color >= 0) b.zoneColor(tid, extra.color);
}


/**
 * The samples in [t0, t1] of every track of a named plot, merged in time order (the tracks
 * become one plot, and a receiver inserts in-order points cheaply).
 */
function* mergedSamples(plot: NamedPlot, t0: number, t1: number, pending: Uint8Array[], fn: (timeNs: number, value: number) => void): Generator<Uint8Array, void, void> {
  if (plot.tracks.length === 1) {
    yield* eachSample(plot.tracks[0]!.series, t0, t1, pending, fn);
    return;
  }
  // k-way merge over per-track cursors (segment, row); k is the number of tracks, small
  const cursors = plot.tracks.map((track) => ({ segs: [...track.series.segments], k: 0, i: -1 }));
  const valid = (c: (typeof cursors)[number]): boolean => {
    for (;;) {
      const seg = c.segs[c.k];
      if (seg === undefined) return false;
      if (c.i < 0) c.i = seg.count === 0 || seg.maxTime < t0 ? seg.count : seg.lowerBound(t0);
      if (c.i < seg.count && seg.time[c.i]! <= t1) return true;
      if (c.i < seg.count) {
        c.k = c.segs.length; // past t1: this track is done
        return false;
      }
      c.k++;
      c.i = -1;
    }
  };
  for (;;) {
    let best = -1;
    let bestT = Infinity;
    for (let j = 0; j < cursors.length; j++) {
      const c = cursors[j]!;
      if (!valid(c)) continue;
      const t = c.segs[c.k]!.time[c.i]!;
      if (t < bestT) {
        bestT = t;
        best = j;
      }
    }
    if (best < 0) return;
    const c = cursors[best]!;
    fn(bestT, c.segs[c.k]!.value[c.i]!);
    c.i++;
    if (pending.length > 0) yield* pending.splice(0);
  }
}
