import { describe, expect, it } from 'vitest';
import {
  COLLAPSED_H,
  FRAME_BARS_H,
  FRAME_LANE_H,
  MSG_LANE_H,
  ROW_H,
  TRACK_PAD_B,
  hitInterval,
  layoutTracks,
  lowerBound,
  nearestPoint,
  onMessageLane,
  rowAt,
  rowTop,
  trackAt,
  upperBound,
  zoomAround,
  zonesInView,
} from './layout.js';
import type { DepthItems, ThreadItems } from '../../protocol/view/types.js';

describe('layoutTracks', () => {
  it('stacks the frames track, then the threads in order, expanded by their rows or collapsed', () => {
    const { tracks, height } = layoutTracks(
      [
        { thread: 7, rows: 3 },
        { thread: 2, rows: 5 },
        { thread: 9, rows: 0 },
      ],
      new Set([2]),
      2,
    );
    expect(tracks.map((t) => [t.kind, t.thread, t.collapsed])).toEqual([
      ['frames', -1, false],
      ['thread', 7, false],
      ['thread', 2, true],
      ['thread', 9, false],
    ]);
    expect(tracks[0]!.height).toBe(FRAME_BARS_H + 2 * FRAME_LANE_H);
    expect(tracks[1]!.top).toBe(tracks[0]!.height);
    expect(tracks[1]!.height).toBe(MSG_LANE_H + 3 * ROW_H + TRACK_PAD_B);
    expect(tracks[2]!.height).toBe(COLLAPSED_H);
    expect(tracks[2]!.rows).toBe(0);
    // a thread with no zones yet keeps one row
    expect(tracks[3]!.rows).toBe(1);
    expect(height).toBe(tracks[3]!.top + tracks[3]!.height);
    for (let i = 1; i < tracks.length; i++) expect(tracks[i]!.top).toBe(tracks[i - 1]!.top + tracks[i - 1]!.height);
  });
});

describe('vertical hit-testing', () => {
  const { tracks } = layoutTracks(
    [
      { thread: 1, rows: 4 },
      { thread: 2, rows: 2 },
    ],
    new Set(),
    0,
  );
  const t1 = tracks[1]!;

  it('finds the track under a y, and none outside', () => {
    expect(trackAt(tracks, -1)).toBe(-1);
    expect(trackAt(tracks, 0)).toBe(0);
    expect(trackAt(tracks, t1.top)).toBe(1);
    expect(trackAt(tracks, t1.top + t1.height - 0.5)).toBe(1);
    expect(trackAt(tracks, t1.top + t1.height)).toBe(2);
    expect(trackAt(tracks, 1e9)).toBe(-1);
  });

  it('maps y to a zone row and back, with the message lane on top', () => {
    for (let d = 0; d < 4; d++) {
      expect(rowAt(t1, rowTop(t1, d))).toBe(d);
      expect(rowAt(t1, rowTop(t1, d) + ROW_H - 0.01)).toBe(d);
    }
    expect(rowAt(t1, t1.top + 1)).toBe(-1);
    expect(onMessageLane(t1, t1.top + 1)).toBe(true);
    expect(onMessageLane(t1, t1.top + MSG_LANE_H + ROW_H)).toBe(false);
    expect(rowAt(t1, rowTop(t1, 4))).toBe(-1);
    expect(rowAt(tracks[0]!, 5)).toBe(-1);
  });
});

describe('binary searches', () => {
  const a = [1, 3, 3, 5, 9];
  it('finds lower and upper bounds', () => {
    expect(lowerBound(a, 0)).toBe(0);
    expect(lowerBound(a, 3)).toBe(1);
    expect(upperBound(a, 3)).toBe(3);
    expect(lowerBound(a, 10)).toBe(5);
    expect(upperBound(a, 9)).toBe(5);
  });

  it('hits the interval containing a time, else the nearest within the tolerance', () => {
    const start = Float64Array.from([0, 10, 20, 40]);
    const end = Float64Array.from([5, 15, 30, 41]);
    expect(hitInterval(start, end, 12, 0)).toBe(1);
    expect(hitInterval(start, end, 10, 0)).toBe(1);
    expect(hitInterval(start, end, 7, 0)).toBe(-1);
    expect(hitInterval(start, end, 7, 2.5)).toBe(0);
    expect(hitInterval(start, end, 8, 2.5)).toBe(1);
    expect(hitInterval(start, end, 35, 4)).toBe(-1);
    expect(hitInterval(start, end, 35, 5)).toBe(2);
    expect(hitInterval(start, end, 100, 5)).toBe(-1);
    expect(hitInterval(new Float64Array(0), new Float64Array(0), 1, 1)).toBe(-1);
  });

  it('finds the nearest point within a tolerance', () => {
    const t = [10, 20, 30];
    expect(nearestPoint(t, 19, 5)).toBe(1);
    expect(nearestPoint(t, 26, 5)).toBe(2);
    expect(nearestPoint(t, 45, 5)).toBe(-1);
  });
});

describe('zoomAround', () => {
  it('keeps the anchor time at the same fraction of the view', () => {
    const z = zoomAround(100, 200, 0.5, 0.75);
    expect(z.t1 - z.t0).toBe(50);
    expect(z.t0 + (z.t1 - z.t0) * 0.75).toBeCloseTo(175, 9);
  });
});

describe('zonesInView', () => {
  it('counts the zones of items intersecting the view, merged runs by their count, open zones once', () => {
    const th: ThreadItems = {
      thread: 1,
      name: null,
      depths: [
        { depth: 0, startNs: Float64Array.from([0, 10, 20, 30]), endNs: Float64Array.from([5, 15, 25, 35]), srcloc: Int32Array.from([1, -1, 1, 1]), count: Int32Array.from([1, 7, 1, 1]), row: Int32Array.from([0, -1, 8, 9]) },
        { depth: 1, startNs: Float64Array.from([11]), endNs: Float64Array.from([12]), srcloc: Int32Array.from([2]), count: Int32Array.from([1]), row: Int32Array.from([0]) },
      ],
      open: [{ startNs: 40, srcloc: 3, depth: 0 }],
      evictedBeforeNs: 0,
    };
    const cache = new WeakMap<DepthItems, Float64Array>();
    expect(zonesInView(th, 12, 22, cache)).toBe(7 + 1 + 1);
    expect(zonesInView(th, 0, 100, cache)).toBe(10 + 1 + 1);
    expect(zonesInView(th, 36, 39, cache)).toBe(0);
    expect(zonesInView(th, 36, 45, cache)).toBe(1);
  });
});

describe('row windows (a maximum height per track)', () => {
  it('draws at most maxRows rows from firstRow, clamped, and maps rows to depths', async () => {
    const { layoutTracks: lay, rowAt: at, rowTop: top, rowShown: shown, MSG_LANE_H: M, ROW_H: R } = await import('./layout.js');
    const windows = new Map([[1, { maxRows: 4, firstRow: 3 }], [2, { maxRows: 4, firstRow: 99 }], [3, { maxRows: 10, firstRow: 0 }]]);
    const { tracks } = lay([{ thread: 1, rows: 20 }, { thread: 2, rows: 6 }, { thread: 3, rows: 2 }], new Set(), 0, windows);
    const [, t1, t2, t3] = tracks;
    expect([t1!.rows, t1!.firstRow, t1!.totalRows]).toEqual([4, 3, 20]);
    expect(t1!.height).toBe(M + 4 * R + 6);
    expect([t2!.rows, t2!.firstRow]).toEqual([4, 2]);
    expect([t3!.rows, t3!.firstRow]).toEqual([2, 0]);
    expect(top(t1!, 3)).toBe(t1!.top + M);
    expect(at(t1!, t1!.top + M + R + 1)).toBe(4);
    expect(shown(t1!, 2)).toBe(false);
    expect(shown(t1!, 6)).toBe(true);
    expect(shown(t1!, 7)).toBe(false);
  });
});
