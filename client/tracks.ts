import { LANES_PER_THREAD } from './ids.js';

/**
 * A Tracy thread as the SDK sees it: a JS thread, or one of its async tracks ("lanes"). Every
 * receiver requires zones to nest per thread (ZoneEnd ends the innermost open zone of the
 * current ThreadContext, tracy-protocol.md P19), so each track keeps its stack of open zones.
 */
export class Track {
  /**
   * Open zones, innermost last: the zone id, or -id when its ZoneBegin was dropped (buffer full),
   * so that its end is dropped too and the stack on the wire stays balanced.
   */
  readonly zones: number[] = [];

  /**
   * @param tid the Tracy thread id
   * @param lane 0 for the JS thread itself, 1.. for its async tracks
   */
  constructor(
    readonly tid: number,
    readonly lane: number,
  ) {}

  /** The innermost open zone (0 when none). */
  top(): number {
    const z = this.zones;
    return z.length > 0 ? z[z.length - 1]! : 0;
  }

  /** Index of zone `id` (written or dropped) in the stack, or -1. */
  indexOf(id: number): number {
    const z = this.zones;
    for (let i = z.length - 1; i >= 0; i--) if (z[i] === id || z[i] === -id) return i;
    return -1;
  }
}

/**
 * One `zone(name, asyncFn)` call in flight: the track its zone is on and whether it still runs.
 * In Node.js an AsyncLocalStorage carries it through every `await` of the function, so zones
 * begun there land on its track.
 */
export interface AsyncZoneContext {
  track: Track;
  zoneId: number;
  open: boolean;
  /** The track was taken from the lane pool for this context (and goes back when it ends). */
  ownsLane: boolean;
}

/** AsyncLocalStorage's two methods: Node.js passes one, browsers a synchronous stand-in. */
export interface ContextStore<T> {
  getStore(): T | undefined;
  run<R>(store: T, fn: () => R): R;
}

/** A ContextStore without async propagation: the store is visible during `fn`'s synchronous part only. */
export class SyncContextStore<T> implements ContextStore<T> {
  private current: T | undefined = undefined;

  getStore(): T | undefined {
    return this.current;
  }

  run<R>(store: T, fn: () => R): R {
    const saved = this.current;
    this.current = store;
    try {
      return fn();
    } finally {
      this.current = saved;
    }
  }
}

/**
 * The async tracks of one JS thread. A free lane is reused, lowest index first, so the number
 * of tracks the receiver shows is the peak number of concurrent async zones, not their total.
 * Reuse is safe: a lane is free only when its stack is empty, and a later zone begins after the
 * earlier one ended.
 *
 *   free (min-heap of lane indexes):  [2, 5, 3]     lanes: 1 busy, 2 free, 3 free, 4 busy, 5 free
 *   acquire() -> lane 2               release(lane 4) -> heap [3, 4, 5]
 */
export class LanePool {
  readonly lanes: Track[] = [];
  private readonly free: number[] = [];

  /** @param threadTid the Tracy thread id of the JS thread that owns the lanes */
  constructor(private readonly threadTid: number) {}

  /** @throws RangeError past 65535 concurrent async zones on one thread */
  acquire(): Track {
    if (this.free.length > 0) return this.lanes[this.popFree() - 1]!;
    const lane = this.lanes.length + 1;
    if (lane >= LANES_PER_THREAD) throw new RangeError(`more than ${LANES_PER_THREAD - 1} concurrent async zones on one thread`);
    const track = new Track(this.threadTid * LANES_PER_THREAD + lane, lane);
    this.lanes.push(track);
    return track;
  }

  release(track: Track): void {
    const h = this.free;
    h.push(track.lane);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]! <= h[i]!) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  /** Lanes not in use. */
  get freeCount(): number {
    return this.free.length;
  }

  private popFree(): number {
    const h = this.free;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]! < h[m]!) m = l;
        if (r < h.length && h[r]! < h[m]!) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}
