import { ZONE_NONE, ZONE_UNRESOLVED, type AllocSegment } from '../store/alloc-log.js';
import type { SessionStore } from '../store/session-store.js';
import type { ThreadTimeline } from '../store/thread-timeline.js';
import { SEGMENT_MASK, SEGMENT_SHIFT } from '../store/zone-columns.js';

/**
 * The zone an allocation was made in: the innermost zone of its thread that contains its time,
 * found in the thread's stored zones (one binary search per depth) and open-zone stack.
 *
 * Why by time and not "the zone open when the event arrived": Tracy clients send memory events
 * through one serial queue and zones through per-thread queues, flushed in turns, so when an
 * allocation arrives its thread's zones may be ahead or behind it (in the medium recording 97%
 * of allocations arrive while their zone is not open). Tracy's own server looks zones up by time
 * too. The answer is final once the thread's data has passed the allocation's time (a thread's
 * events arrive in order, so no zone around that time can still come); then it is kept in the
 * record's `zone` column so the next query does not look again.
 */
export class AllocZoneResolver {
  /** thread id -> time its data reached (latest zone end or open start); -Infinity: no timeline */
  private readonly progress = new Map<number, number>();

  constructor(private readonly store: SessionStore) {}

  /** The zone (source location index) of record `slot` of `seg`, or ZONE_NONE. */
  zoneOf(seg: AllocSegment, slot: number): number {
    const cached = seg.zone[slot]!;
    if (cached !== ZONE_UNRESOLVED) return cached;
    const threadId = seg.thread[slot]!;
    const t = seg.allocNs[slot]!;
    const thread = this.store.threads.get(threadId);
    if (thread === undefined) return ZONE_NONE; // no zone of it yet: not final
    const zone = innermostZoneAt(thread, t);
    if (t < this.progressOf(thread)) seg.zone[slot] = zone;
    return zone;
  }

  private progressOf(thread: ThreadTimeline): number {
    let p = this.progress.get(thread.id);
    if (p === undefined) {
      p = thread.lastNs;
      this.progress.set(thread.id, p);
    }
    return p;
  }
}

/** The source location of the innermost zone of `thread` with start <= t <= end (open zones: start <= t), or ZONE_NONE. */
export function innermostZoneAt(thread: ThreadTimeline, t: number): number {
  let found = ZONE_NONE;
  const depths = thread.depths;
  for (let d = 0; ; d++) {
    let hit = ZONE_NONE;
    const cols = depths[d];
    if (cols !== undefined && cols.count > cols.firstRow) {
      const r = cols.firstStartingAfter(t) - 1;
      if (r >= cols.firstRow && cols.endAt(r) >= t) hit = cols.segments[r >>> SEGMENT_SHIFT]!.srcloc[r & SEGMENT_MASK]!;
    }
    if (hit === ZONE_NONE && d < thread.openCount && thread.openStart[d]! <= t) hit = thread.openSrcloc[d]!;
    if (hit === ZONE_NONE) return found;
    found = hit;
  }
}
