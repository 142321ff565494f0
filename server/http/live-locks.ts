import type { LockTrackSet } from '../../protocol/view/types.js';
import { lockTrackSet, queryLockTrack } from '../query/lock-tracks.js';
import type { SessionStore } from '../store/session-store.js';

/*
 * Upper bounds of the msgpack bytes of the live update's `locks` part (live-update.ts), so it
 * is cut before it is built past the update's cap: an item is 5 float64 and 3 int32 columns;
 * a track its keys, 8 bin headers and an open state; a lock its keys and name.
 */
const LOCK_ITEM_BYTES = 5 * 8 + 3 * 4;
const LOCK_TRACK_BYTES = 256;
const LOCK_SET_BYTES = 64;

/**
 * The lock zones of a live update's viewport, each track asked for no more items than the
 * remaining byte budget (`room()`) holds; `use(bytes)` takes what was added. `full` is set when
 * something was left out (the caller coarsens the level of detail or cuts the update).
 */
export function liveLocks(store: SessionStore, t0: number, t1: number, nsPerPx: number, room: () => number, use: (bytes: number) => void): { locks: LockTrackSet[]; full: boolean } {
  const locks: LockTrackSet[] = [];
  for (const lock of store.lockLog.locks.values()) {
    const set = lockTrackSet(store, lock);
    const head = LOCK_SET_BYTES + Buffer.byteLength(set.name, 'utf8');
    if (room() < head) return { locks, full: true };
    use(head);
    for (const lt of lock.threads.values()) {
      const limit = Math.floor((room() - LOCK_TRACK_BYTES) / LOCK_ITEM_BYTES);
      if (limit <= 0) {
        if (set.threads.length > 0) locks.push(set);
        return { locks, full: true };
      }
      const tr = queryLockTrack(lt, t0, t1, nsPerPx, limit);
      if (tr.startNs.length === 0 && tr.open === null) continue;
      use(LOCK_TRACK_BYTES + tr.startNs.length * LOCK_ITEM_BYTES);
      set.threads.push(tr);
      if (tr.startNs.length >= limit) {
        locks.push(set);
        return { locks, full: true };
      }
    }
    if (set.threads.length > 0) locks.push(set);
  }
  return { locks, full: false };
}
