import { eachSample } from './each-sample.js';
import type { SessionStore } from '../store/session-store.js';
import type { ThreadTimeline } from '../store/thread-timeline.js';
import { SEGMENT_MASK, SEGMENT_SHIFT } from '../store/zone-columns.js';
import { frameSetName, memoryPlotName, plotsByName } from '../query/series-query.js';
import { ChromeTraceWriter } from './chrome-writer.js';

export interface StoreExportOptions {
  /** Range (ns since the session's start): zones that intersect it, samples and marks in it. Default: everything stored. */
  t0?: number;
  t1?: number;
  /** Shown as the process name and in otherData. */
  app: string | null;
  host: string | null;
  pid: number | null;
  sessionId: string;
}

export interface StoreExportResult {
  events: number;
  zones: number;
  /** Stored zones left out because their parent was evicted (they cannot be nested). */
  orphanZones: number;
  frames: number;
  plotSamples: number;
  messages: number;
}

/**
 * Writes what a session's store holds (or a time range of it) as Chrome Trace Event JSON: per
 * thread, zones as B/E pairs in nesting order (a depth-first walk over the per-depth sorted
 * columns, so parents come before children that start at the same nanosecond), messages as
 * instants with their text and colour in args, frames as instants named like the frame set on
 * a "Frames" track of their own (discontinuous sets as B/E spans there), plots and memory usage
 * as counters, thread and process names and the app info as metadata. Open zones are not
 * written (they have no end yet).
 *
 * A generator of chunks (~64 K UTF-16 units each), so a consumer pulls them as fast as it can
 * send them (bounded memory) and the work is split between event-loop turns; it returns the
 * counts. The store may keep growing or evicting meanwhile: rows appended later are not
 * written, rows evicted before they were reached are skipped.
 */
export function* exportStoreToChrome(store: SessionStore, o: StoreExportOptions): Generator<string, StoreExportResult, void> {
  const pending: string[] = [];
  const t0 = o.t0 ?? -Infinity;
  const t1 = o.t1 ?? Infinity;
  const pid = o.pid !== null && Number.isInteger(o.pid) && o.pid >= 0 && o.pid < 2 ** 32 ? o.pid : 1;
  const w = new ChromeTraceWriter((chunk) => pending.push(chunk));
  const result: StoreExportResult = { events: 0, zones: 0, orphanZones: 0, frames: 0, plotSamples: 0, messages: 0 };
  const threads = store.threadList();
  const framesTid = threads.reduce((m, t) => Math.max(m, t.id), 0) + 1;

  w.metadata('process_name', pid, 0, { name: o.app ?? 'app' });
  if (store.appInfoTexts.length > 0) w.metadata('process_labels', pid, 0, { labels: store.appInfoTexts.join(', ') });
  for (const t of threads) w.metadata('thread_name', pid, t.id, { name: t.name ?? `thread ${t.id}` });
  if (store.frames.size > 0) w.metadata('thread_name', pid, framesTid, { name: 'Frames' });

  for (const t of threads) yield* writeThreadZones(store, t, pid, t0, t1, w, result, pending);

  const strings = store.names.strings;
  for (const m of store.messages.inRange(t0, t1, (ptr) => strings.get(ptr))) {
    const args: Record<string, unknown> = { text: m.text };
    if (m.color >= 0) args.color = `#${m.color.toString(16).padStart(6, '0')}`;
    w.instant(m.text, 'message', pid, m.thread, m.timeNs, args);
    result.messages++;
    if (pending.length > 0) yield pending.shift()!;
  }

  for (const set of store.frames.values()) {
    const name = frameSetName(store, set);
    if (set.continuous) {
      // Tracy's importer makes frame marks of instants whose name contains "frame"
      const markName = name === '' ? 'Frame' : /frame/i.test(name) ? name : `${name} frame`;
      const args = name === '' ? null : { frameSet: name };
      yield* eachSample(set.marks, t0, t1, pending, (ns) => {
        w.instant(markName, 'frame', pid, framesTid, ns, args, true);
        result.frames++;
      });
    } else {
      yield* eachSample(set.spans, -Infinity, t1, pending, (s, e) => {
        if (e < t0) return;
        w.begin(name, 'frame', pid, framesTid, s, null, null);
        w.end(name, 'frame', pid, framesTid, e);
        result.frames++;
      });
    }
  }

  for (const plot of plotsByName(store)) {
    for (const track of plot.tracks) {
      yield* eachSample(track.series, t0, t1, pending, (ns, v) => {
        if (!Number.isFinite(v)) return;
        w.counter(plot.name, pid, 0, ns, v);
        result.plotSamples++;
      });
    }
  }
  for (const m of store.memory.values()) {
    const name = memoryPlotName(store, m.namePtr);
    yield* eachSample(m.usage, t0, t1, pending, (ns, v) => {
      w.counter(name, pid, 0, ns, v);
      result.plotSamples++;
    });
  }

  result.events = w.events;
  w.finish({
    producer: 'zonescope',
    session: o.sessionId,
    app: o.app,
    host: o.host,
    pid: o.pid,
    appInfo: store.appInfoTexts,
    range: { t0Ns: Number.isFinite(t0) ? t0 : null, t1Ns: Number.isFinite(t1) ? t1 : null },
    zones: result.zones,
    orphanZones: result.orphanZones,
    timestamps: 'microseconds since the session start, written as (ns + 0.5) / 1000',
  });
  yield* pending.splice(0);
  return result;
}

/**
 * One thread's zones that intersect [t0, t1], as B/E in nesting order. `cursor[d]` walks depth
 * d's rows in start order; with `open` zones on the stack, the next row of depth open.length is
 * a child of the innermost one when it lies inside it, else that zone ends. Rows of deeper
 * depths with nothing to nest under (their parent was evicted) are skipped and counted.
 */
function* writeThreadZones(
  store: SessionStore,
  t: ThreadTimeline,
  pid: number,
  t0: number,
  t1: number,
  w: ChromeTraceWriter,
  result: StoreExportResult,
  pending: string[],
): Generator<string, void, void> {
  const depths = t.depths;
  const D = depths.length;
  if (D === 0) return;
  const cursor = new Array<number>(D);
  const last = new Array<number>(D);
  for (let d = 0; d < D; d++) {
    const cols = depths[d]!;
    cursor[d] = Math.max(cols.firstRow, Number.isFinite(t0) ? cols.firstEndingAtOrAfter(t0) : cols.firstRow);
    last[d] = Number.isFinite(t1) ? cols.firstStartingAfter(t1) : cols.count;
  }
  const strings = store.names.strings;
  const srclocs = store.srclocs;
  const openEnd: number[] = [];
  const openName: string[] = [];

  /** Skips rows of depths >= from that start before `beforeNs` (nothing left to nest them under). */
  const skipOrphans = (from: number, beforeNs: number) => {
    for (let d = from; d < D; d++) {
      const cols = depths[d]!;
      while (cursor[d]! < last[d]! && cols.startAt(cursor[d]!) < beforeNs) {
        cursor[d]!++;
        result.orphanZones++;
      }
    }
  };

  for (;;) {
    if (pending.length > 0) yield* pending.splice(0);
    const d = openEnd.length;
    if (d < D && cursor[d]! < last[d]!) {
      const cols = depths[d]!;
      const r = cursor[d]!;
      const seg = cols.segments[r >>> SEGMENT_SHIFT];
      if (!seg) {
        // an evicted segment: its rows are gone
        cursor[d] = Math.min(last[d]!, ((r >>> SEGMENT_SHIFT) + 1) << SEGMENT_SHIFT);
        continue;
      }
      const slot = r & SEGMENT_MASK;
      const s = seg.startAt(slot);
      const e = seg.endAt(slot);
      if (d === 0 || (s <= openEnd[d - 1]! && e <= openEnd[d - 1]!)) {
        if (d === 0) skipOrphans(1, s);
        const srcloc = seg.srcloc[slot]!;
        const extra = seg.extraAt(slot);
        const name = extra?.name ?? srclocs.displayName(srcloc, strings);
        let args: Record<string, unknown> | null = null;
        if (extra) {
          args = {};
          if (extra.text !== null) args.text = extra.text;
          if (extra.valueHi >= 0) args.value = extra.valueHi * 2 ** 32 + extra.valueLo;
          if (extra.color >= 0) args.color = `#${extra.color.toString(16).padStart(6, '0')}`;
          if (Object.keys(args).length === 0) args = null;
        }
        const file = srclocs.fileName(srcloc, strings);
        const line = srclocs.line[srcloc] ?? 0;
        w.begin(name, 'zone', pid, t.id, s, args, file ? `${file}:${line}` : null);
        result.zones++;
        openEnd.push(e);
        openName.push(name);
        cursor[d] = r + 1;
        continue;
      }
    }
    if (d === 0) break;
    // the innermost open zone ends; rows below it that never nested are orphans
    const e = openEnd.pop()!;
    const name = openName.pop()!;
    skipOrphans(d, e);
    w.end(name, 'zone', pid, t.id, e);
  }
  for (let d = 1; d < D; d++) skipOrphans(d, Infinity);
}

