import { MESSAGE_METADATA_DEFAULT, PlotFormat } from '../protocol/tracy/constants.js';
import { FrameMarkKind, PlotKind, QueueWriter } from '../protocol/tracy/queue-writer.js';
import { nowNs } from './clock.js';
import { IdTables, threadTid } from './ids.js';
import { SourceLocationCache } from './source-location-cache.js';
import { LanePool, Track, type AsyncZoneContext, type ContextStore } from './tracks.js';
import type { ClientStats, PlotConfigOptions } from './types.js';
import { OP_COLOR, OP_NAME, OP_TEXT, OP_VALUE, PendingZoneOps, writeZoneOp } from './zone-ops.js';

export interface RecorderOptions {
  /** worker_threads.threadId of this JS thread (0: main thread, browsers) */
  threadId: number;
  /** carries async zone contexts across `await` (Node: an AsyncLocalStorage) */
  store: ContextStore<AsyncZoneContext>;
  /** most bytes held before events are dropped */
  bufferBytes: number;
  captureSourceLocations: boolean;
  /** keep id definitions for the main thread (worker threads) */
  recordDefs?: boolean;
}

/** Held item bytes past which the owner is asked to frame and send them (Tracy's TargetFrameSize). */
export const FLUSH_BYTES = 256 * 1024;
/** Zone id -> track hints for zones on lanes, indexed by id & ZONE_MASK (checked against the track's stack). */
const ZONE_SLOTS = 8192;
const ZONE_MASK = ZONE_SLOTS - 1;

const AsyncFunction = (async () => {}).constructor;
const PLOT_FORMATS: Record<string, number> = { number: PlotFormat.Number, memory: PlotFormat.Memory, percentage: PlotFormat.Percentage, watt: PlotFormat.Watt };
const PROMISE_NOTE = 'returned a promise: only its synchronous part is timed (use an async function or zoneAsync)';

/**
 * The instrumentation API of one JS thread: turns calls into Tracy queue items in a QueueWriter
 * (a growable buffer; the owner takes its frames) and keeps every track's zone stack balanced.
 * No I/O: the owner (Client on the main thread, WorkerClient in workers) frames and sends.
 *
 * Hot paths allocate nothing: a zone is a clock read, one source-location lookup (a last-hit
 * check, else one Map.get) and a few bytes written. Drops are decided by one comparison against
 * `checkAt`; the slow path asks for a flush past FLUSH_BYTES and drops past the buffer limit.
 * Zone ends, frame ends and query replies are never dropped, so the stream stays well formed.
 */
export class Recorder {
  readonly w: QueueWriter;
  readonly ids: IdTables;
  /** This JS thread's own track. */
  readonly thread: Track;
  readonly lanes: LanePool;

  dropped = 0;
  zonesEndedAtClose = 0;
  zonesEndedEarly = 0;
  unknownZoneIds = 0;
  unmatchedFrameEnds = 0;
  /** Profiler samples sent and not sent (profile-cpu.ts, profile-heap.ts). */
  profileSamples = 0;
  profileDropped = 0;

  /** false once the session is over (or before it can ever start): every event is dropped. */
  protected accepting = true;
  private readonly bufferBytes: number;
  private limit: number;
  private checkAt: number;
  private flushRequested = false;

  private readonly store: ContextStore<AsyncZoneContext>;
  private openContexts = 0;
  private readonly ctxByZone = new Map<number, AsyncZoneContext>();
  private zoneSeq = 0;
  private readonly zoneTracks: Array<Track | undefined> = new Array<Track | undefined>(ZONE_SLOTS).fill(undefined);
  private readonly pendingOps = new PendingZoneOps();
  private readonly openFrames = new Set<number>();

  private readonly srclocs: SourceLocationCache;

  constructor(options: RecorderOptions) {
    this.bufferBytes = options.bufferBytes;
    this.limit = options.bufferBytes;
    this.checkAt = Math.min(FLUSH_BYTES, this.limit);
    this.w = new QueueWriter({ initialCapacity: 1 << 20 });
    this.ids = new IdTables(options.threadId, options.recordDefs ?? false);
    const tid = threadTid(options.threadId);
    this.thread = new Track(tid, 0);
    this.lanes = new LanePool(tid);
    this.store = options.store;
    this.srclocs = new SourceLocationCache(this.ids, options.captureSourceLocations);
  }

  // ---- threads and source locations ----

  setThreadName(name: string): void {
    this.ids.setThreadName(this.thread.tid, String(name));
  }

  sourceLocation(name: string, color = 0): number {
    return this.srclocs.get(String(name), color);
  }

  // ---- zones ----

  zoneBegin(name: string | number, color = 0): number {
    const srcloc = typeof name === 'number' ? name : this.srclocs.get(name, color);
    return this.beginOn(this.openContexts === 0 ? this.thread : this.currentTrack(), srcloc);
  }

  zoneEnd(zone: number): void {
    // Without open async zones every open zone is on the thread's own track (lanes hold only
    // zones begun inside an async zone, and end with it).
    if (this.openContexts === 0 && this.pendingOps.empty) {
      const z = this.thread.zones;
      const n = z.length;
      if (n > 0 && z[n - 1] === zone) {
        z.pop();
        this.w.zoneEnd(this.thread.tid, nowNs());
        return;
      }
    }
    this.zoneEndSlow(zone);
  }

  zoneText(zone: number, text: string): void {
    this.modify(zone, OP_TEXT, String(text));
  }

  zoneName(zone: number, name: string): void {
    this.modify(zone, OP_NAME, String(name));
  }

  zoneValue(zone: number, value: number): void {
    this.modify(zone, OP_VALUE, Math.trunc(Number(value)) || 0);
  }

  zoneColor(zone: number, color: number): void {
    this.modify(zone, OP_COLOR, color & 0xffffff);
  }

  zone<T>(name: string, fn: (zone: number) => T, color = 0): T {
    if (fn.constructor === AsyncFunction) return this.zoneAsync(name, fn as unknown as (zone: number) => PromiseLike<unknown>, color) as T;
    const id = this.zoneBegin(name, color);
    try {
      const result = fn(id);
      if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') this.zoneText(id, PROMISE_NOTE);
      return result;
    } finally {
      this.zoneEnd(id);
    }
  }

  /**
   * An async zone: nests inline on the parent async zone's track when that zone is the
   * innermost one there (the common `await tracy.zone(...)` inside another), else takes a lane
   * of its own, so concurrent chains never interleave on one track.
   */
  zoneAsync<T>(name: string, fn: (zone: number) => PromiseLike<T>, color = 0): Promise<T> {
    const srcloc = this.srclocs.get(String(name), color);
    const parent = this.openContexts > 0 ? this.store.getStore() : undefined;
    const inline = parent !== undefined && parent.open && parent.track.top() === parent.zoneId;
    const track = inline ? parent.track : this.lanes.acquire();
    const id = this.beginOn(track, srcloc);
    const ctx: AsyncZoneContext = { track, zoneId: id, open: true, ownsLane: !inline };
    this.ctxByZone.set(id, ctx);
    this.openContexts++;
    let pending: PromiseLike<T>;
    try {
      pending = this.store.run(ctx, () => fn(id));
    } catch (err) {
      this.endContext(ctx);
      throw err;
    }
    return Promise.resolve(pending).then(
      (value) => {
        this.endContext(ctx);
        return value;
      },
      (err: unknown) => {
        this.endContext(ctx);
        throw err;
      },
    );
  }

  // ---- frames, messages, plots ----

  frameMark(name?: string): void {
    if (this.w.length >= this.checkAt && this.overLimit()) return;
    this.w.frameMark(FrameMarkKind.Continuous, name === undefined ? 0 : this.ids.frame(String(name)), nowNs());
  }

  frameMarkStart(name: string): void {
    if (this.w.length >= this.checkAt && this.overLimit()) return;
    const id = this.ids.frame(String(name));
    this.openFrames.add(id);
    this.w.frameMark(FrameMarkKind.Start, id, nowNs());
  }

  frameMarkEnd(name: string): void {
    const id = this.ids.frame(String(name));
    // Tracy fails a capture on an end without a start (P22); the start's end is never dropped.
    if (!this.openFrames.delete(id)) {
      this.unmatchedFrameEnds++;
      return;
    }
    this.w.frameMark(FrameMarkKind.End, id, nowNs());
  }

  message(text: string, color = 0): void {
    if (this.w.length >= this.checkAt && this.overLimit()) return;
    const track = this.openContexts === 0 ? this.thread : this.currentTrack();
    const rgb = color & 0xffffff;
    this.w.message(track.tid, nowNs(), String(text), rgb === 0 ? -1 : rgb, MESSAGE_METADATA_DEFAULT);
  }

  appInfo(text: string): void {
    if (this.w.length >= this.checkAt && this.overLimit()) return;
    this.w.appInfo(nowNs(), String(text));
  }

  plot(name: string, value: number): void {
    this.plotPoint(name, value, PlotKind.Double);
  }

  plotFloat(name: string, value: number): void {
    this.plotPoint(name, value, PlotKind.Float);
  }

  plotInt(name: string, value: number): void {
    this.plotPoint(name, value, PlotKind.Int);
  }

  /** @throws TypeError for an unknown format */
  plotConfig(name: string, options: PlotConfigOptions): void {
    const format = PLOT_FORMATS[options.format ?? 'number'];
    if (format === undefined) throw new TypeError(`plotConfig: format must be number, memory, percentage or watt, not ${String(options.format)}`);
    if (this.w.length >= this.checkAt && this.overLimit()) return;
    this.w.plotConfig(this.ids.plot(String(name)), format, options.step ?? false, options.fill ?? true, (options.color ?? 0) & 0xffffff);
  }

  /** Plot values not written because they were not finite. */
  get droppedNonFinite(): number {
    return this.w.droppedNonFinite;
  }

  /**
   * Hook for events written straight to `w` (runtime metrics, a virtual thread's zones): true
   * when the session takes events and `bytes` more droppable bytes fit under the buffer limit.
   */
  /** The counters every recorder keeps (the owners add what their transport knows). */
  protected recordingStats(): Pick<ClientStats, 'dropped' | 'droppedNonFinite' | 'zonesEndedAtClose' | 'zonesEndedEarly' | 'unknownZoneIds' | 'unmatchedFrameEnds' | 'profileSamples' | 'profileDropped'> {
    return {
      dropped: this.dropped,
      droppedNonFinite: this.droppedNonFinite,
      zonesEndedAtClose: this.zonesEndedAtClose,
      zonesEndedEarly: this.zonesEndedEarly,
      unknownZoneIds: this.unknownZoneIds,
      unmatchedFrameEnds: this.unmatchedFrameEnds,
      profileSamples: this.profileSamples,
      profileDropped: this.profileDropped,
    };
  }

  canRecord(bytes: number): boolean {
    return this.accepting && this.w.length + bytes < this.limit;
  }

  // ---- for the owner ----

  /** Asked (once per flush) when the held items pass FLUSH_BYTES: frame and send them soon. */
  protected requestFlush(): void {}

  /**
   * The owner took the writer's frames. `heldBytes`: what it still holds elsewhere (unsent
   * frames), which counts against the buffer limit.
   */
  protected flushed(heldBytes: number): void {
    this.flushRequested = false;
    this.limit = Math.max(0, this.bufferBytes - heldBytes);
    this.checkAt = this.accepting ? Math.min(FLUSH_BYTES, this.limit) : 0;
  }

  /** From now on every event is dropped (counted). */
  protected stopAccepting(): void {
    this.accepting = false;
    this.checkAt = 0;
  }

  /** Ends every open zone on every track (stats.zonesEndedAtClose). */
  protected endAllZones(): void {
    const tracks = [this.thread, ...this.lanes.lanes];
    for (const track of tracks) {
      while (track.zones.length > 0) {
        if (track.top() > 0) this.zonesEndedAtClose++;
        this.endTop(track);
      }
    }
  }

  /** Ends `depth` zones of another thread's track `tid` (a worker's, at close). */
  protected endForeignZones(tid: number, depth: number): void {
    for (let i = 0; i < depth; i++) this.w.zoneEnd(tid, nowNs());
    this.zonesEndedAtClose += depth;
  }

  // ---- internals ----

  private beginOn(track: Track, srcloc: number): number {
    const id = ++this.zoneSeq;
    // Hints for zones on lanes only: a zone on the thread's track is looked up there first.
    if (track !== this.thread) this.zoneTracks[id & ZONE_MASK] = track;
    if (this.w.length >= this.checkAt && this.overLimit()) {
      track.zones.push(-id);
    } else {
      this.w.zoneBegin(track.tid, nowNs(), srcloc);
      track.zones.push(id);
    }
    return id;
  }

  private currentTrack(): Track {
    const ctx = this.store.getStore();
    return ctx !== undefined && ctx.open ? ctx.track : this.thread;
  }

  private endContext(ctx: AsyncZoneContext): void {
    if (ctx.open) this.zoneEnd(ctx.zoneId);
  }

  private zoneEndSlow(zone: number): void {
    const track = this.findTrack(zone);
    if (track === null) {
      this.unknownZoneIds++;
      return;
    }
    const at = track.indexOf(zone);
    while (track.zones.length - 1 > at) {
      if (track.top() > 0) this.zonesEndedEarly++;
      this.endTop(track);
    }
    this.endTop(track);
  }

  /** Pops the innermost zone of `track`: its pending modifiers, then ZoneEnd (unless its begin was dropped). */
  private endTop(track: Track): void {
    const id = track.zones.pop()!;
    if (id > 0) {
      if (!this.pendingOps.empty) this.pendingOps.flush(this.w, track.tid, id);
      this.w.zoneEnd(track.tid, nowNs());
    }
    if (this.openContexts > 0) {
      const ctx = this.ctxByZone.get(id > 0 ? id : -id);
      if (ctx !== undefined) {
        this.ctxByZone.delete(ctx.zoneId);
        ctx.open = false;
        this.openContexts--;
        // A lane's first zone is its owner's: the lane is empty now.
        if (ctx.ownsLane) this.lanes.release(ctx.track);
      }
    }
  }

  /** The track holding zone `zone` (written or dropped), or null when it is not open. */
  private findTrack(zone: number): Track | null {
    if (this.thread.indexOf(zone) >= 0) return this.thread;
    const hint = this.zoneTracks[zone & ZONE_MASK];
    if (hint !== undefined && hint.indexOf(zone) >= 0) return hint;
    for (const lane of this.lanes.lanes) if (lane.indexOf(zone) >= 0) return lane;
    return null;
  }

  private modify(zone: number, op: number, arg: string | number): void {
    // Ids are > 0: an empty track's top() is 0, a dropped zone is -id there, and a negated id
    // would match its zone in indexOf and wait for an end that never comes.
    if (!(zone > 0)) {
      this.unknownZoneIds++;
      return;
    }
    const track = this.thread.top() === zone ? this.thread : this.zoneTracks[zone & ZONE_MASK];
    if (track !== undefined && track.top() === zone) {
      if (this.w.length >= this.checkAt && this.overLimit()) return;
      writeZoneOp(this.w, track.tid, op, arg);
      return;
    }
    const holder = this.findTrack(zone);
    if (holder === null) {
      this.unknownZoneIds++;
      return;
    }
    if (holder.zones[holder.indexOf(zone)]! < 0) return; // its begin was dropped
    this.pendingOps.add(zone, op, arg);
  }

  private plotPoint(name: string, value: number, kind: number): void {
    if (this.w.length >= this.checkAt && this.overLimit()) return;
    this.w.plot(this.thread.tid, this.ids.plot(String(name)), nowNs(), Number(value), kind);
  }

  /** Slow path of the size check: asks for a flush past FLUSH_BYTES, drops past the limit. */
  private overLimit(): boolean {
    if (!this.accepting) {
      this.dropped++;
      return true;
    }
    const n = this.w.length;
    if (n >= FLUSH_BYTES && !this.flushRequested) {
      this.flushRequested = true;
      this.requestFlush();
    }
    if (n >= this.limit) {
      this.dropped++;
      return true;
    }
    this.checkAt = this.flushRequested ? this.limit : Math.min(FLUSH_BYTES, this.limit);
    return false;
  }
}
