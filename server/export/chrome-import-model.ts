import { F64List, I32List } from '../query/growable.js';
import { MAX_SRCLOC } from '../store/zone-columns.js';

/**
 * Threads ((pid, tid) pairs with zones or instants) one import may hold. Each costs about
 * 7 KiB between this model, the capture and the session's store, so a trace of 100,000 tids
 * (7 MB of JSON) would need ~700 MiB: it is refused when the next thread would pass this.
 */
export const CHROME_IMPORT_MAX_THREADS = 8192;
/** Distinct source locations (name, file, line) of the zones: the store keeps at most 65,536 per session. */
export const CHROME_IMPORT_MAX_SOURCE_LOCATIONS = MAX_SRCLOC + 1;

export const ChromeImportLimitCode = {
  Threads: 'ZS_CHROME_TOO_MANY_THREADS',
  SourceLocations: 'ZS_CHROME_TOO_MANY_SOURCE_LOCATIONS',
} as const;

/** A trace that would pass one of the import's limits; thrown while reading, before the capture is built. */
export class ChromeImportLimitError extends Error {
  override readonly name = 'ChromeImportLimitError';
  constructor(
    readonly code: string,
    message: string,
    /** the limit passed */
    readonly limit: number,
    /** the event (1-based, file order) that would have passed it */
    readonly event: number,
  ) {
    super(message);
  }
}

/*
 * What a Chrome trace holds, gathered event by event before anything is written (X events and
 * B/E pairs must be sorted, and our own exports' otherData, which changes how some events are
 * read, comes last). Zones live in typed-array columns; instants, counters and names, which
 * are few, in plain objects.
 *
 * Times are Tracy's: `trunc(ts * 1000)` nanoseconds (ts in microseconds), not rebased yet.
 */

/** One (pid, tid) pair of the trace. */
export interface ImportThread {
  key: string;
  pid: number | null;
  tid: number;
  /** Order of first appearance. */
  index: number;
  name: string | null;
  /** B/E events in file order: time, and the zone index for B or -1 for E. */
  beNs: F64List;
  beZone: I32List;
  /** File order (event number) of each B/E event. */
  beSeq: I32List;
  /** X events: start, end, zone index, file order. */
  xStart: F64List;
  xEnd: F64List;
  xZone: I32List;
  xSeq: I32List;
  /** B/E events with cat "frame" (our exports' start/end frames): index in the B/E list, time, name. */
  frameEvents: { index: number; ns: number; name: string; begin: boolean }[];
  /** Instants (messages, frame marks) on this thread. */
  instants: number;
}

/** An instant event ('i'/'I'), kept as read: what it becomes depends on who wrote the file. */
export interface ImportInstant {
  thread: ImportThread;
  ns: number;
  name: string;
  cat: string | null;
  args: Record<string, unknown> | null;
}

export interface ImportCounter {
  ns: F64List;
  value: F64List;
}

/** A source location key of the imported zones: name, file, line. */
export interface ImportLoc {
  name: string;
  file: string;
  line: number;
}

/** Why events were not imported, counted by reason (for the stats and the warnings). */
export type SkipCounts = Record<string, number>;

export class ChromeImportModel {
  readonly threads = new Map<string, ImportThread>();
  readonly instants: ImportInstant[] = [];
  readonly counters = new Map<string, ImportCounter>();
  readonly locs: ImportLoc[] = [];
  private readonly locIds = new Map<string, number>();
  /** Per zone: source location index. */
  readonly zoneLoc = new I32List(1024);
  /** Zone args (sparse): zone index -> args object. */
  readonly zoneArgs = new Map<number, unknown>();
  readonly threadNames = new Map<string, string>();
  readonly processNames = new Map<string, string>();
  readonly processLabels: string[] = [];
  readonly pids = new Set<string>();
  readonly skipped: SkipCounts = {};
  /** Earliest time of an imported event (ns), Infinity when none. */
  minNs = Infinity;
  events = 0;

  skip(reason: string): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
  }

  /**
   * Reads one event of the file: what cannot be imported is counted in `skipped`.
   * @throws ChromeImportLimitError when the event would add thread CHROME_IMPORT_MAX_THREADS + 1
   *   or source location CHROME_IMPORT_MAX_SOURCE_LOCATIONS + 1
   */
  add(e: unknown): void {
    this.events++;
    if (e === null || typeof e !== 'object' || Array.isArray(e)) return this.skip('not an object');
    const ev = e as Record<string, unknown>;
    const ph = ev.ph;
    if (typeof ph !== 'string') return this.skip('no "ph" (phase)');
    switch (ph) {
      case 'X':
        return this.complete(ev);
      case 'B':
      case 'b':
        return this.beginOrEnd(ev, true);
      case 'E':
      case 'e':
        return this.beginOrEnd(ev, false);
      case 'i':
      case 'I':
        return this.instant(ev);
      case 'C':
        return this.counter(ev);
      case 'M':
        return this.metadata(ev);
      default:
        return this.skip(`phase "${ph.length > 8 ? `${ph.slice(0, 8)}...` : ph}" (not imported)`);
    }
  }

  private complete(ev: Record<string, unknown>): void {
    const name = ev.name;
    if (typeof name !== 'string') return this.skip('X without a name');
    const ts = numeric(ev.ts);
    if (ts === null) return this.skip('X without a numeric ts');
    const dur = numeric(ev.dur);
    if (dur === null) return this.skip('X without a numeric dur');
    const t = this.thread(ev);
    if (t === null) return this.skip('X without an integer tid');
    // Tracy's importer: end = uint64(ts * 1000) + uint64(dur * 1000)
    const durNs = Math.max(0, Math.trunc(dur * 1000));
    const ns = Number.isSafeInteger(Math.trunc(ts * 1000) + durNs) ? this.time(ts) : null;
    if (ns === null) return this.skip('time beyond 2^53 ns');
    const zone = this.zone(name, ev);
    t.xStart.push(ns);
    t.xEnd.push(ns + durNs);
    t.xZone.push(zone);
    t.xSeq.push(this.events);
  }

  private beginOrEnd(ev: Record<string, unknown>, begin: boolean): void {
    const what = begin ? 'B' : 'E';
    if (begin && typeof ev.name !== 'string') return this.skip('B without a name');
    const ts = numeric(ev.ts);
    if (ts === null) return this.skip(`${what} without a numeric ts`);
    const t = this.thread(ev);
    if (t === null) return this.skip(`${what} without an integer tid`);
    const ns = this.time(ts);
    if (ns === null) return this.skip('time beyond 2^53 ns');
    if (ev.cat === 'frame' && typeof ev.name === 'string') t.frameEvents.push({ index: t.beNs.length, ns, name: ev.name, begin });
    t.beNs.push(ns);
    t.beZone.push(begin ? this.zone(ev.name as string, ev) : -1);
    t.beSeq.push(this.events);
  }

  private instant(ev: Record<string, unknown>): void {
    const name = ev.name;
    if (typeof name !== 'string') return this.skip('instant without a name');
    const ts = numeric(ev.ts);
    if (ts === null) return this.skip('instant without a numeric ts');
    const t = this.thread(ev);
    if (t === null) return this.skip('instant without an integer tid');
    const ns = this.time(ts);
    if (ns === null) return this.skip('time beyond 2^53 ns');
    const args = ev.args !== null && typeof ev.args === 'object' && !Array.isArray(ev.args) ? (ev.args as Record<string, unknown>) : null;
    t.instants++;
    this.instants.push({ thread: t, ns, name, cat: typeof ev.cat === 'string' ? ev.cat : null, args });
  }

  /** C: every numeric args key is a plot of that name (Tracy's importer ignores the event's name). */
  private counter(ev: Record<string, unknown>): void {
    const ts = numeric(ev.ts);
    if (ts === null) return this.skip('C without a numeric ts');
    const args = ev.args;
    if (args === null || typeof args !== 'object' || Array.isArray(args)) return this.skip('C without args');
    const ns = this.time(ts);
    if (ns === null) return this.skip('time beyond 2^53 ns');
    if (ev.pid !== undefined) this.pids.add(pidKey(ev.pid));
    for (const [key, value] of Object.entries(args as Record<string, unknown>)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        this.skip('counter value that is not a finite number');
        continue;
      }
      let c = this.counters.get(key);
      if (c === undefined) {
        c = { ns: new F64List(64), value: new F64List(64) };
        this.counters.set(key, c);
      }
      c.ns.push(ns);
      c.value.push(value);
    }
  }

  private metadata(ev: Record<string, unknown>): void {
    const args = ev.args !== null && typeof ev.args === 'object' ? (ev.args as Record<string, unknown>) : {};
    const pid = pidKey(ev.pid);
    switch (ev.name) {
      case 'thread_name': {
        const tid = integer(ev.tid);
        if (tid === null || typeof args.name !== 'string') return this.skip('thread_name without tid or args.name');
        this.threadNames.set(`${pid}/${tid}`, args.name);
        return;
      }
      case 'process_name':
        if (typeof args.name === 'string') this.processNames.set(pid, args.name);
        return;
      case 'process_labels':
        if (typeof args.labels === 'string' && args.labels !== '') this.processLabels.push(args.labels);
        return;
      case 'thread_sort_index':
      case 'process_sort_index':
      case 'process_uptime_seconds':
      case 'num_cpus':
        return; // ordering and host hints: nothing to keep
      default:
        return this.skip(`metadata "${String(ev.name)}" (not imported)`);
    }
  }

  /** ns of an imported event's ts (µs), as Tracy's importer: trunc(ts * 1000); null beyond 2^53 ns. */
  private time(ts: number): number | null {
    const ns = Math.trunc(ts * 1000);
    if (!Number.isSafeInteger(ns)) return null;
    if (ns < this.minNs) this.minNs = ns;
    return ns;
  }

  private thread(ev: Record<string, unknown>): ImportThread | null {
    const tid = integer(ev.tid);
    if (tid === null) return null;
    const pid = ev.pid === undefined ? null : integer(ev.pid);
    const key = `${pidKey(ev.pid)}/${tid}`;
    let t = this.threads.get(key);
    if (t === undefined) {
      if (this.threads.size >= CHROME_IMPORT_MAX_THREADS) {
        throw new ChromeImportLimitError(
          ChromeImportLimitCode.Threads,
          `more than ${CHROME_IMPORT_MAX_THREADS} threads (distinct pid/tid pairs with events) at event ${this.events}: an import holds at most ${CHROME_IMPORT_MAX_THREADS}`,
          CHROME_IMPORT_MAX_THREADS,
          this.events,
        );
      }
      if (ev.pid !== undefined) this.pids.add(pidKey(ev.pid));
      t = {
        key,
        pid,
        tid,
        index: this.threads.size,
        name: null,
        beNs: new F64List(16),
        beZone: new I32List(16),
        xStart: new F64List(16),
        xEnd: new F64List(16),
        xZone: new I32List(16),
        xSeq: new I32List(16),
        beSeq: new I32List(16),
        frameEvents: [],
        instants: 0,
      };
      this.threads.set(key, t);
    }
    return t;
  }

  /** A new zone of `name` with the event's loc and args; returns its index. */
  private zone(name: string, ev: Record<string, unknown>): number {
    const index = this.zoneLoc.length;
    let file = '';
    let line = 0;
    if (typeof ev.loc === 'string') {
      // "file:line"; without a numeric line after the last colon the whole string is the file
      const m = /^(.*):(\d+)$/s.exec(ev.loc);
      if (m) {
        file = m[1]!;
        line = Number(m[2]) >>> 0;
      } else file = ev.loc;
    }
    const key = `${name}\u0000${file}\u0000${line}`;
    let loc = this.locIds.get(key);
    if (loc === undefined) {
      if (this.locs.length >= CHROME_IMPORT_MAX_SOURCE_LOCATIONS) {
        throw new ChromeImportLimitError(
          ChromeImportLimitCode.SourceLocations,
          `more than ${CHROME_IMPORT_MAX_SOURCE_LOCATIONS} distinct zone names and locations at event ${this.events}: a session holds at most ${CHROME_IMPORT_MAX_SOURCE_LOCATIONS} source locations`,
          CHROME_IMPORT_MAX_SOURCE_LOCATIONS,
          this.events,
        );
      }
      loc = this.locs.length;
      this.locs.push({ name, file, line });
      this.locIds.set(key, loc);
    }
    this.zoneLoc.push(loc);
    if (ev.args !== undefined && ev.args !== null && typeof ev.args === 'object' && Object.keys(ev.args).length > 0) this.zoneArgs.set(index, ev.args);
    return index;
  }
}

/** A finite number, or a string that is one ("11550183666" in some tools' files), else null. */
function numeric(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function integer(v: unknown): number | null {
  const n = numeric(v);
  return n !== null && Number.isSafeInteger(n) ? n : null;
}

/** The map key of a pid: its number, or "-" when absent. */
export function pidKey(pid: unknown): string {
  if (pid === undefined || pid === null) return '-';
  const n = integer(pid);
  return n === null ? String(pid) : String(n);
}
