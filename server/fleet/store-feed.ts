import type { Session } from '../session/session.js';
import type { SessionRegistry } from '../session/session-registry.js';
import { frameSetName, plotName } from '../query/series-query.js';
import type { SessionStore } from '../store/session-store.js';
import type { ZoneExtra } from '../store/zone-columns.js';
import { SEGMENT_MASK, SEGMENT_SHIFT } from '../store/zone-columns.js';

/** Who a session is, as the fleet sinks label its rows. */
export interface FeedSession {
  /** globally unique: `<serverId>-<local id>` (local ids restart with the server) */
  key: string;
  /** the id in this server's /api/sessions */
  id: string;
  app: string;
  host: string;
  pid: number;
  /** wall-clock start, whole seconds since the Unix epoch (Tracy's welcome `epoch`) */
  startSec: number;
  session: Session;
}

/**
 * Receives a session's new rows. Calls come in slices from a timer, never from the decoder's
 * walk, so a slow sink costs ingest nothing: it only stops the feed (hasRoom false), and the
 * rows wait in the store.
 */
export interface FeedSink {
  readonly name: string;
  /** false: take nothing more now (the feed tries again on its next tick) */
  hasRoom(): boolean;
  /** the session's identity and counters changed (new rows, ended) */
  session?(s: FeedSession, ended: boolean): void;
  /** a thread's name became known */
  thread?(s: FeedSession, thread: number, name: string): void;
  /** one completed zone; srcloc indexes the session store's srclocs */
  zone?(s: FeedSession, thread: number, depth: number, srcloc: number, startNs: number, durationNs: number, extra: ZoneExtra | null): void;
  /** one frame of a frame set: number `frame` (0-based) */
  frame?(s: FeedSession, name: string, frame: number, startNs: number, durationNs: number): void;
  plotSample?(s: FeedSession, plot: string, timeNs: number, value: number): void;
  message?(s: FeedSession, thread: number, timeNs: number, text: string, color: number): void;
  /** the end of a pass: rows the sink holds back (a partly filled binary buffer) go to its writers */
  flushPending?(): void;
  /** everything of this session was handed over; the sink may forget its caches */
  sessionDone?(s: FeedSession): void;
}

export interface StoreFeedOptions {
  /** this server's id in session keys (8 hex characters) */
  serverId: string;
  /** which rows the sink takes */
  kinds: { zones?: boolean; frames?: boolean; plots?: boolean; messages?: boolean };
  /** ms between passes over the sessions (default 250) */
  intervalMs?: number;
  /** ms of work per event-loop turn at most (default 8) */
  sliceMs?: number;
  /**
   * True while apps are streaming: the feed then works at most `busyShare` of the time (2 ms
   * slices), so writing never slows ingest; the rows wait in the store and are caught up when
   * the stream quiets down. Default: never busy.
   */
  ingestBusy?: () => boolean;
  /** share of the main thread the feed takes while ingest is busy (default 0.1) */
  busyShare?: number;
}

/** What the feed did, for /metrics and tests. */
export interface StoreFeedCounters {
  zones: number;
  frames: number;
  plotSamples: number;
  messages: number;
  /** rows evicted from the store (memory budget) before the sink took them: lost for the sink */
  evictedBeforeFed: number;
  /** passes that stopped because the sink had no room */
  stalls: number;
}

/** A time-ordered series read after (time, n already read at that time). */
interface TimeCursor {
  time: number;
  atTime: number;
}

interface Tracked {
  fs: FeedSession;
  /** per thread id: rows handed over per depth */
  zoneRows: Map<number, number[]>;
  threadsNamed: Set<number>;
  plots: Map<number, TimeCursor>;
  frames: Map<number, { cursor: TimeCursor; frame: number; prev: number }>;
  messages: TimeCursor;
  changed: boolean;
}

const ROWS_PER_CHECK = 4096;
/** What the feed's resolver gives for a literal message whose text has not arrived (never a real text: it holds a NUL). */
const TEXT_PENDING = '\u0000zonescope: text pending';

/**
 * Hands every listed session's new rows to one sink (server/fleet/README in docs/fleet.md):
 * zones per thread and depth in row order (a row cursor per depth), frames, plot samples and
 * messages in time order (a time cursor each). A live session's zone whose source location
 * is not resolved yet waits for the next pass, so rows carry their real names; once the
 * session has ended, everything left goes. Sessions loaded from captures, imports or
 * ClickHouse are not fed (they were fed when they were live, or are not ours).
 */
export class StoreFeed {
  readonly counters: StoreFeedCounters = { zones: 0, frames: 0, plotSamples: 0, messages: 0, evictedBeforeFed: 0, stalls: 0 };
  private readonly tracked = new Map<Session, Tracked>();
  private readonly intervalMs: number;
  private readonly sliceMs: number;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private unsubscribe: (() => void) | null = null;
  private passWaiters: ((complete: boolean) => void)[] = [];
  private passAgain = false;
  /** the last pass stopped because the sink had no room (rows are left in the store) */
  stalled = false;

  constructor(
    private readonly sink: FeedSink,
    private readonly options: StoreFeedOptions,
  ) {
    this.intervalMs = options.intervalMs ?? 250;
    this.sliceMs = options.sliceMs ?? 8;
  }

  /** Feeds the registry's sessions (those listed now and later). */
  attach(registry: SessionRegistry): void {
    for (const s of registry.list()) this.track(s);
    this.unsubscribe = registry.subscribe((e) => {
      if (e.type === 'listed') this.track(e.session);
      else if (e.type === 'ended') this.schedule(0);
      else if (e.type === 'deleted') this.tracked.delete(e.session);
    });
    this.schedule(this.intervalMs);
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Sessions being fed (not yet done). */
  get sessions(): number {
    return this.tracked.size;
  }

  /**
   * Resolves after the next pass over every session: true when it handed over every row there
   * was (false: it stopped because the sink had no room).
   */
  pass(): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      this.passWaiters.push(resolve);
      this.passAgain = true;
      this.schedule(0);
    });
  }

  private track(session: Session): void {
    if (this.tracked.has(session) || !session.welcome) return;
    if (session.source === 'capture' || session.source === 'import' || session.source === 'clickhouse') return;
    const w = session.welcome;
    const epoch = Number(w.epoch);
    const fs: FeedSession = {
      key: `${this.options.serverId}-${session.id}`,
      id: session.id,
      app: w.programName,
      host: hostOf(w.hostInfo),
      pid: Number(w.pid),
      startSec: epoch > 0 ? epoch : Math.floor(session.startedAt / 1000),
      session,
    };
    this.tracked.set(session, { fs, zoneRows: new Map(), threadsNamed: new Set(), plots: new Map(), frames: new Map(), messages: { time: -Infinity, atTime: 0 }, changed: true });
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.running) {
      if (ms === 0) this.passAgain = true;
      return;
    }
    if (this.timer) {
      if (ms !== 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runPass();
    }, ms);
    this.timer.unref();
  }

  private async runPass(): Promise<void> {
    this.running = true;
    this.passAgain = false;
    const waiters = this.passWaiters.splice(0);
    this.stalled = false;
    try {
      for (const t of [...this.tracked.values()]) {
        const ended = t.fs.session.ended;
        const complete = await this.feedSession(t, ended);
        if (!complete) {
          this.counters.stalls++;
          this.stalled = true;
          break;
        }
        // an ended session gets its last row (ended = 1) and is forgotten
        if (t.changed || ended) {
          this.sink.session?.(t.fs, ended);
          t.changed = false;
        }
        if (ended) {
          this.sink.sessionDone?.(t.fs);
          this.tracked.delete(t.fs.session);
        }
      }
    } finally {
      this.sink.flushPending?.();
      this.running = false;
      for (const w of waiters) w(!this.stalled);
      if (this.passAgain) this.schedule(0);
      else if (this.unsubscribe) this.schedule(this.intervalMs);
    }
  }

  /** One pass over a session; false when it stopped for lack of room. */
  private async feedSession(t: Tracked, ended: boolean): Promise<boolean> {
    const store = t.fs.session.store;
    const kinds = this.options.kinds;
    let sliceStart = performance.now();
    const busy = this.options.ingestBusy;
    const share = this.options.busyShare ?? 0.1;
    const yieldIfDue = async (): Promise<boolean> => {
      const worked = performance.now() - sliceStart;
      const ingesting = busy?.() ?? false;
      if (worked < (ingesting ? Math.min(2, this.sliceMs) : this.sliceMs)) return this.sink.hasRoom();
      // rows encoded so far go out while we wait
      this.sink.flushPending?.();
      if (ingesting) await new Promise<void>((r) => setTimeout(r, (worked * (1 - share)) / share).unref());
      else await new Promise<void>((r) => setImmediate(r));
      sliceStart = performance.now();
      return this.sink.hasRoom();
    };
    if (!this.sink.hasRoom()) return false;
    if (kinds.zones) {
      for (const thread of store.threadList()) {
        if (thread.name !== null && !t.threadsNamed.has(thread.id)) {
          t.threadsNamed.add(thread.id);
          this.sink.thread?.(t.fs, thread.id, thread.name);
        }
        let rows = t.zoneRows.get(thread.id);
        if (!rows) t.zoneRows.set(thread.id, (rows = []));
        for (let depth = 0; depth < thread.depths.length; depth++) {
          const cols = thread.depths[depth]!;
          let row = rows[depth] ?? 0;
          if (row < cols.firstRow) {
            this.counters.evictedBeforeFed += cols.firstRow - row;
            row = cols.firstRow;
          }
          while (row < cols.count) {
            const seg = cols.segments[row >>> SEGMENT_SHIFT];
            if (!seg) {
              // evicted while we yielded
              const next = Math.min(cols.count, ((row >>> SEGMENT_SHIFT) + 1) << SEGMENT_SHIFT);
              this.counters.evictedBeforeFed += next - row;
              row = next;
              continue;
            }
            const end = Math.min(cols.count, row + ROWS_PER_CHECK, ((row >>> SEGMENT_SHIFT) + 1) << SEGMENT_SHIFT);
            let r = row;
            for (; r < end; r++) {
              const slot = r & SEGMENT_MASK;
              const srcloc = seg.srcloc[slot]!;
              if (!ended && !srclocReady(store, srcloc)) break;
              this.sink.zone!(t.fs, thread.id, depth, srcloc, seg.startAt(slot), seg.durationAt(slot), seg.extraCount > 0 ? seg.extraAt(slot) : null);
            }
            this.counters.zones += r - row;
            if (r > row) t.changed = true;
            row = r;
            rows[depth] = row;
            if (r < end) break; // waiting for a name
            if (!(await yieldIfDue())) {
              rows[depth] = row;
              return false;
            }
          }
          rows[depth] = row;
        }
      }
    }
    if (kinds.frames) {
      for (const [key, set] of store.frames) {
        let f = t.frames.get(key);
        if (!f) t.frames.set(key, (f = { cursor: { time: -Infinity, atTime: 0 }, frame: 0, prev: NaN }));
        const name = frameSetName(store, set);
        if (!ended && name.startsWith('frame@')) continue; // its name is not known yet
        const state = f;
        if (set.continuous) {
          readAfter(set.marks, state.cursor, (time) => {
            if (!Number.isNaN(state.prev)) {
              this.sink.frame!(t.fs, name, state.frame++, state.prev, time - state.prev);
              this.counters.frames++;
            }
            state.prev = time;
          });
        } else {
          readAfter(set.spans, state.cursor, (start, end) => {
            this.sink.frame!(t.fs, name, state.frame++, start, end - start);
            this.counters.frames++;
          });
        }
        t.changed ||= state.frame > 0;
        if (!(await yieldIfDue())) return false;
      }
    }
    if (kinds.plots) {
      for (const track of store.plots.values()) {
        const name = plotName(store, track.namePtr);
        if (!ended && name.startsWith('plot@')) continue; // its name is not known yet
        let c = t.plots.get(track.namePtr);
        if (!c) t.plots.set(track.namePtr, (c = { time: -Infinity, atTime: 0 }));
        const n0 = this.counters.plotSamples;
        readAfter(track.series, c, (time, value) => {
          this.sink.plotSample!(t.fs, name, time, value);
          this.counters.plotSamples++;
        });
        if (this.counters.plotSamples > n0) t.changed = true;
        if (!(await yieldIfDue())) return false;
      }
    }
    if (kinds.messages) {
      // a literal message's text is a string the app sends when asked: until it arrives, the
      // message and those after it wait for a later pass (once the session ended, it goes as '')
      const resolve = (ptr: number) => store.names.strings.get(ptr) ?? TEXT_PENDING;
      const n0 = this.counters.messages;
      const c = t.messages;
      const list = store.messages.inRange(c.time === -Infinity ? -Infinity : c.time, Infinity, resolve);
      let skip = c.time === -Infinity ? 0 : c.atTime;
      for (const m of list) {
        if (m.timeNs === c.time && skip > 0) {
          skip--;
          continue;
        }
        if (m.text === TEXT_PENDING && !ended) break;
        this.sink.message!(t.fs, m.thread, m.timeNs, m.text === TEXT_PENDING ? '' : m.text, m.color);
        this.counters.messages++;
        if (m.timeNs === c.time) c.atTime++;
        else {
          c.time = m.timeNs;
          c.atTime = 1;
        }
      }
      if (this.counters.messages > n0) t.changed = true;
    }
    return true;
  }
}

/** A live zone's source location has all its texts (its name, function and file strings arrived). */
function srclocReady(store: SessionStore, srcloc: number): boolean {
  return store.srclocs.complete(srcloc, store.names.strings);
}

/** The host name from Tracy's hostInfo text ("OS: ...\nCompiler: ...\nUser: u@host\n..."), else the first line. */
export function hostOf(hostInfo: string): string {
  const user = /^User:\s*\S*@(\S+)/m.exec(hostInfo);
  if (user) return user[1]!;
  const host = /^Host(?:name)?:\s*(\S+)/im.exec(hostInfo);
  if (host) return host[1]!;
  return '';
}

/** Calls fn for the samples after the cursor, moving it (equal times: counted, so none repeats). */
function readAfter(series: { forEachInRange(t0: number, t1: number, fn: (t: number, v: number) => void): void }, c: TimeCursor, fn: (time: number, value: number) => void): void {
  let skip = c.time === -Infinity ? 0 : c.atTime;
  series.forEachInRange(c.time, Infinity, (time, value) => {
    if (time === c.time && skip > 0) {
      skip--;
      return;
    }
    fn(time, value);
    if (time === c.time) c.atTime++;
    else {
      c.time = time;
      c.atTime = 1;
    }
  });
}
