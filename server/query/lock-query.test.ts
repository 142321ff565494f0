/**
 * Lock figures and lock zones of the medium recording (two threads taking a TracyLockable named
 * SharedLock 12,000 times each, a `Critical` zone inside every hold) against what the app
 * counted (medium.truth.json), what Tracy's csvexport says of the Critical zones
 * (medium.zones.csv), and an independent walk of the raw lock events.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { NullVisitor, TracyStreamReader } from '../../protocol/tracy/index.js';
import { decodeFixtureStore } from '../../test/support/fixture-store.js';
import { fixture, readTruth } from '../../test/support/inspect-fixtures.js';
import { LOCK_SEGMENT_MASK } from '../store/lock-columns.js';
import type { SessionStore } from '../store/session-store.js';
import { SEGMENT_MASK } from '../store/zone-columns.js';
import { lockSummaries, lockSummariesSliced } from './lock-summary.js';
import { queryLockTrack, queryLockTracks } from './lock-tracks.js';

/** Per thread: the raw waits (wait -> the same thread's next obtain), straight from the decoder. */
class RawLocks extends NullVisitor {
  readonly pending = new Map<number, number>();
  readonly waits = new Map<number, number[]>();
  readonly waitStarts = new Map<number, number[]>();
  override lockEvent(kind: number, _shared: boolean, thread: number, _id: number, timeNs: number): void {
    if (kind === 0) this.pending.set(thread, timeNs);
    if (kind !== 1) return;
    const w = this.pending.get(thread) ?? timeNs;
    this.pending.delete(thread);
    if (!this.waits.has(thread)) {
      this.waits.set(thread, []);
      this.waitStarts.set(thread, []);
    }
    this.waits.get(thread)!.push(timeNs - w);
    this.waitStarts.get(thread)!.push(w);
  }
}

let store: SessionStore;
let raw: RawLocks;
const truth = readTruth('medium') as unknown as { lock_acquisitions: Record<string, number>; threads: { name: string; lock_acquisitions: Record<string, number> }[] };

beforeAll(() => {
  store = decodeFixtureStore('medium');
  raw = new RawLocks();
  new TracyStreamReader(raw).push(new Uint8Array(readFileSync(fixture('medium.client.bin'))));
});

describe('lock summaries of a real recording', () => {
  it('count every acquisition the app made, per lock and per thread', () => {
    const locks = lockSummaries(store);
    expect(Object.fromEntries(locks.map((l) => [l.name, l.acquisitions]))).toEqual(truth.lock_acquisitions);
    const byThread = Object.fromEntries(locks[0]!.threads.map((t) => [t.name, { SharedLock: t.acquisitions }]));
    expect(byThread).toEqual(Object.fromEntries(truth.threads.filter((t) => Object.keys(t.lock_acquisitions).length > 0).map((t) => [t.name, t.lock_acquisitions])));
    expect(locks[0]!.shared).toBe(false);
    expect(locks[0]!.open).toEqual([]);
    expect(locks[0]!.unmatchedReleases + locks[0]!.clamped + locks[0]!.droppedEvents + locks[0]!.reentries).toBe(0);
  });

  it('sum and maximise the waits exactly as the raw wait and obtain events say, and point at the worst one', () => {
    const [lock] = lockSummaries(store);
    let total = 0;
    let max = -1;
    let worst = { thread: 0, startNs: 0 };
    for (const [thread, waits] of raw.waits) {
      const t = lock!.threads.find((x) => x.thread === thread)!;
      expect(t.waitTotalNs).toBe(waits.reduce((a, b) => a + b, 0));
      expect(t.waitMaxNs).toBe(Math.max(...waits));
      waits.forEach((w, i) => {
        total += w;
        if (w > max) {
          max = w;
          worst = { thread, startNs: raw.waitStarts.get(thread)![i]! };
        }
      });
    }
    expect(lock!.waitTotalNs).toBe(total);
    expect(lock!.waitMaxNs).toBe(max);
    expect(lock!.worstWait).toMatchObject({ ...worst, waitNs: max, obtainNs: worst.startNs + max });
  });

  it('holds contain exactly one Critical zone each, as many as csvexport counts, and hold at least their total', () => {
    const [lock] = lockSummaries(store);
    const csv = readFileSync(fixture('medium.zones.csv'), 'utf8').split('\n').find((l) => l.startsWith('Critical,'))!.split(',');
    const csvCount = Number(csv[5]);
    const csvTotalNs = Number(csv[3]);
    expect(lock!.acquisitions).toBe(csvCount);
    expect(lock!.holdTotalNs).toBeGreaterThanOrEqual(csvTotalNs);
    const critical = [...Array(store.srclocs.count).keys()].filter((i) => store.srclocs.displayName(i, store.names.strings) === 'Critical');
    const timeline = store.lockLog.locks.get(0)!;
    let inside = 0;
    for (const lt of timeline.threads.values()) {
      const cols = lt.columns;
      const zones: [number, number][] = [];
      for (const d of store.threads.get(lt.thread)!.depths) {
        for (let r = d.firstRow; r < d.count; r++) {
          const seg = d.segmentOf(r)!;
          if (critical.includes(seg.srcloc[r & SEGMENT_MASK]!)) zones.push([d.startAt(r), d.endAt(r)]);
        }
      }
      zones.sort((a, b) => a[0] - b[0]);
      expect(zones.length).toBe(cols.count);
      for (let r = 0; r < cols.count; r++) {
        const seg = cols.segmentOf(r)!;
        const k = r & LOCK_SEGMENT_MASK;
        const [s, e] = zones[r]!;
        if (seg.obtain[k]! <= s && e <= seg.end[k]!) inside++;
      }
    }
    expect(inside).toBe(csvCount);
  });

  it('count the acquisitions that start in a range, the two halves adding up to the whole', async () => {
    const all = lockSummaries(store)[0]!;
    // the workers take the lock between about 408 and 473 ms
    const cols = [...store.lockLog.locks.get(0)!.threads.values()][0]!.columns;
    const mid = Math.round((cols.startAt(0) + cols.lastEnd()) / 2);
    const a = (await lockSummariesSliced(store, 0, mid, { sliceUnits: 1000 }))[0]!;
    const b = lockSummaries(store, mid + 1e-3, Infinity)[0]!;
    expect(a.acquisitions).toBeGreaterThan(0);
    expect(b.acquisitions).toBeGreaterThan(0);
    expect(a.acquisitions + b.acquisitions).toBe(all.acquisitions);
    expect(a.waitTotalNs + b.waitTotalNs).toBe(all.waitTotalNs);
    expect(a.contended + b.contended).toBe(all.contended);
  });
});

describe('lock zones of a viewport', () => {
  it('list every acquisition at nsPerPx 0 and fold sub-pixel runs into items whose counts and totals add up', () => {
    const lt = [...store.lockLog.locks.get(0)!.threads.values()][0]!;
    const t0 = 0;
    const t1 = store.lastNs;
    const every = queryLockTrack(lt, t0, t1, 0, Infinity);
    expect(every.startNs.length).toBe(lt.columns.count);
    expect([...every.count].every((c) => c === 1)).toBe(true);
    const px = 2000;
    const lod = queryLockTrack(lt, t0, t1, (t1 - t0) / px, Infinity);
    expect(lod.startNs.length).toBeLessThan(2 * px);
    expect(lod.count.reduce((a, b) => a + b, 0)).toBe(lt.columns.count);
    const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
    expect(sum(lod.waitNs)).toBeCloseTo(sum(every.waitNs), 0);
    expect(sum(lod.holdNs)).toBeCloseTo(sum(every.holdNs), 0);
    expect(sum(lod.contendedNs)).toBeCloseTo(sum(every.contendedNs), 0);
    expect([...lod.row].some((r) => r === -1)).toBe(true);
    for (let i = 1; i < lod.startNs.length; i++) expect(lod.startNs[i]!).toBeGreaterThanOrEqual(lod.endNs[i - 1]!);
  });

  it('stop at the item cap and say so', () => {
    const r = queryLockTracks(store, 0, store.lastNs, 0, 5000);
    expect(r.items).toBe(5000);
    expect(r.cut).toBe(true);
    expect(r.locks[0]!.name).toBe('SharedLock');
  });
});
