import { describe, expect, it } from 'vitest';
import type { LiveUpdate, LockThreadItems } from '../../protocol/view/types.js';
import { hitLock, lockTooltip } from './hit-test.js';
import { layoutTracks, lockLaneAt, lockLaneTop } from './layout.js';
import { lockItemParts, openLockParts } from './lock-painter.js';

function items(rows: { s: number; e: number; wait: number; hold: number; cont: number; count?: number; shared?: boolean }[]): LockThreadItems {
  return {
    thread: 7,
    startNs: Float64Array.from(rows.map((r) => r.s)),
    endNs: Float64Array.from(rows.map((r) => r.e)),
    waitNs: Float64Array.from(rows.map((r) => r.wait)),
    holdNs: Float64Array.from(rows.map((r) => r.hold)),
    contendedNs: Float64Array.from(rows.map((r) => r.cont)),
    count: Int32Array.from(rows.map((r) => r.count ?? 1)),
    row: Int32Array.from(rows.map((r, i) => ((r.count ?? 1) > 1 ? -1 : i))),
    flags: Int32Array.from(rows.map((r) => (r.shared ? 1 : 0))),
    open: null,
    evictedBeforeNs: 0,
  };
}

describe('lock lanes', () => {
  it('split an acquisition into its waiting, holding and contended parts, and colour a run by its larger contention', () => {
    const it1 = items([
      { s: 0, e: 10, wait: 2, hold: 8, cont: 3 },
      { s: 20, e: 30, wait: 0, hold: 10, cont: 0, shared: true },
      { s: 40, e: 41, wait: 0.2, hold: 0.5, cont: 0.3, count: 5 },
      { s: 50, e: 51, wait: 0, hold: 1, cont: 0, count: 3, shared: true },
    ]);
    expect(lockItemParts(it1, 0)).toEqual([
      [0, 2, 'wait'],
      [2, 7, 'hold'],
      [7, 10, 'contended'],
    ]);
    expect(lockItemParts(it1, 1)).toEqual([[20, 30, 'shared']]);
    expect(lockItemParts(it1, 2)).toEqual([[40, 41, 'contended']]);
    expect(lockItemParts(it1, 3)).toEqual([[50, 51, 'shared']]);
    expect(openLockParts({ startNs: 5, obtainNs: null, contendedNs: null, shared: false }, 9)).toEqual([[5, 9, 'wait']]);
    expect(openLockParts({ startNs: 5, obtainNs: 6, contendedNs: 8, shared: false }, 9)).toEqual([
      [5, 6, 'wait'],
      [6, 8, 'hold'],
      [8, 9, 'contended'],
    ]);
  });

  it('sit under the zone rows, one per lock, and hit-test to the acquisition with its wait, hold and contention', () => {
    const layout = layoutTracks([{ thread: 7, rows: 2, locks: [3, 4] }], new Set(), 0);
    const track = layout.tracks[1]!;
    expect(lockLaneAt(track, lockLaneTop(track, 1) + 2)).toBe(1);
    expect(lockLaneAt(track, lockLaneTop(track, 0) - 1)).toBe(-1);
    const data = { lastNs: 100, locks: [{ id: 4, name: 'm', shared: false, threads: [items([{ s: 0, e: 10, wait: 2, hold: 8, cont: 3 }])] }] } as unknown as LiveUpdate;
    const hit = hitLock(data, 4, 7, 5, 1)!;
    expect(hit).toMatchObject({ kind: 'lock', name: 'm', waitNs: 2, holdNs: 8, contendedNs: 3, count: 1 });
    expect(lockTooltip(hit, () => 'Worker')).toEqual(['m', 'Worker', 'wait 2 ns', 'hold 8 ns', 'contended 3 ns (another thread waited)', 'start 0.000 000 000 s']);
    expect(hitLock(data, 4, 7, 50, 1)).toBeNull();
  });
});
