import { describe, expect, it } from 'vitest';
import type { LiveUpdate, ThreadItems } from '../../protocol/view/types.js';
import { hitTest } from './hit-test.js';
import { FRAME_BARS_H, MSG_LANE_H, ROW_H, TRACK_PAD_B, chooseSticky, contentYAt, dropTarget, layoutTracks, rowTop, scrollView, shownAt, trackScroll } from './layout.js';

/** The math of sticky pinned tracks (layout.ts): which pins stick, where each track is at a scroll, and what a pointer hits. */

const h = (rows: number) => MSG_LANE_H + rows * ROW_H + TRACK_PAD_B;
// frames (no lanes: 40 px), sticky thread 5 (2 rows), then 1 (3 rows), 2 (4 rows), 3 (10 rows)
const layout = layoutTracks(
  [
    { thread: 5, rows: 2, sticky: true },
    { thread: 1, rows: 3 },
    { thread: 2, rows: 4 },
    { thread: 3, rows: 10 },
  ],
  new Set(),
  0,
);
const [frames, pinned, t1, t2] = layout.tracks as [NonNullable<(typeof layout.tracks)[0]>, ...NonNullable<(typeof layout.tracks)[0]>[]];

describe('sticky pinned tracks: layout', () => {
  it('flags the leading sticky threads and sums their height; a sticky flag after an ordinary thread is ignored', () => {
    expect(layout.stickyHeight).toBe(h(2));
    expect(layout.tracks.map((t) => t.sticky)).toEqual([false, true, false, false, false]);
    const late = layoutTracks(
      [
        { thread: 1, rows: 3 },
        { thread: 5, rows: 2, sticky: true },
      ],
      new Set(),
      0,
    );
    expect(late.stickyHeight).toBe(0);
    expect(late.tracks.some((t) => t.sticky)).toBe(false);
  });

  it('keeps the newest pins while they fit in the budget; older ones scroll from the first that does not fit', () => {
    const heights = new Map([
      [1, 100],
      [2, 150],
      [3, 80],
    ]);
    const of = (id: number) => heights.get(id);
    expect(chooseSticky([1, 2, 3], of, 1000)).toEqual(new Set([1, 2, 3]));
    // newest (3) first: 80, then 2: 230, then 1 would make 330 > 300
    expect(chooseSticky([1, 2, 3], of, 300)).toEqual(new Set([2, 3]));
    // stops at the first that does not fit, even if an older smaller one would
    expect(chooseSticky([1, 2, 3], of, 200)).toEqual(new Set([3]));
    expect(chooseSticky([1, 2, 3], of, 50)).toEqual(new Set());
    // hidden or absent threads (no height) are skipped
    expect(chooseSticky([9, 3], of, 100)).toEqual(new Set([3]));
  });
});

describe('sticky pinned tracks: where things are at a scroll position', () => {
  it('at the top, everything is where the content puts it; the band sits under the frames track', () => {
    const sv = scrollView(layout, 0);
    expect(sv).toEqual({ scrollTop: 0, pinScroll: 0, bandTop: FRAME_BARS_H, bandBottom: FRAME_BARS_H + h(2) });
    for (const y of [0, 10, FRAME_BARS_H + 5, pinned!.top + pinned!.height + 7, 300]) expect(contentYAt(sv, y)).toBe(y);
  });

  it('half-way through the frames track, the band follows it (CSS sticky)', () => {
    const sv = scrollView(layout, 15);
    expect(sv.pinScroll).toBe(15);
    expect(sv.bandTop).toBe(FRAME_BARS_H - 15);
    expect(contentYAt(sv, 0)).toBe(15);
    expect(contentYAt(sv, sv.bandTop + 3)).toBe(pinned!.top + 3);
  });

  it('scrolled far, the pinned track stays under the ruler and the others scroll beneath it', () => {
    const scrollTop = 200;
    const sv = scrollView(layout, scrollTop);
    expect(sv).toEqual({ scrollTop, pinScroll: FRAME_BARS_H, bandTop: 0, bandBottom: h(2) });
    // view y in the band: the pinned track's content, whatever the scroll
    expect(contentYAt(sv, 0)).toBe(pinned!.top);
    expect(contentYAt(sv, h(2) - 1)).toBe(pinned!.top + h(2) - 1);
    expect(pinned!.top - trackScroll(sv, pinned!)).toBe(0);
    // below the band: scrolled content
    expect(contentYAt(sv, h(2))).toBe(h(2) + scrollTop);
    // a scrolled track's rows under the band are hidden, those below it shown
    const t1View = t1!.top - trackScroll(sv, t1!);
    expect(t1View).toBeLessThan(0);
    expect(shownAt(sv, t1!, 5)).toBe(false);
    expect(shownAt(sv, t2!, h(2) + 1)).toBe(true);
    expect(shownAt(sv, pinned!, 5)).toBe(true);
    expect(frames.sticky).toBe(false);
  });

  it('without pinned tracks, view y + scrollTop is content y everywhere', () => {
    const plain = layoutTracks([{ thread: 1, rows: 3 }], new Set(), 0);
    const sv = scrollView(plain, 77);
    expect(sv.bandBottom).toBe(sv.bandTop);
    for (const y of [0, 5, 100]) expect(contentYAt(sv, y)).toBe(y + 77);
  });

  it('drops a dragged header by where it shows: in the band onto the pinned track, below onto the scrolled ones', () => {
    const sv = scrollView(layout, 200);
    expect(dropTarget(layout, sv, 2)).toEqual({ before: 5, markY: 0 });
    expect(dropTarget(layout, sv, h(2) - 2)).toEqual({ before: 1, markY: h(2) });
    // just below the band: content y 200 + 49 = 249, in the upper half of thread 3's track (238..430),
    // whose top is under the band: the line is drawn at the band's edge
    expect(t2!.top + t2!.height).toBe(238);
    expect(dropTarget(layout, sv, h(2) + 1)).toEqual({ before: 3, markY: h(2) });
    // its lower half: after the last
    expect(dropTarget(layout, sv, 430 - 200 - 5)).toEqual({ before: null, markY: 430 - 200 });
    // over the frames track: nowhere
    expect(dropTarget(layout, scrollView(layout, 0), 5)).toBeNull();
  });
});

describe('sticky pinned tracks: hit testing', () => {
  const f64 = (a: number[]) => Float64Array.from(a);
  const i32 = (a: number[]) => Int32Array.from(a);
  const th = (id: number, srcloc: number): ThreadItems => ({
    thread: id,
    name: `t${id}`,
    depths: [0, 1].map((depth) => ({ depth, startNs: f64([100]), endNs: f64([200]), srcloc: i32([srcloc]), count: i32([1]), row: i32([id * 10 + depth]) })),
    open: [],
    evictedBeforeNs: 0,
  });
  const data = { type: 'update', lastNs: 1000, threads: [th(5, 50), th(1, 10), th(2, 20), th(3, 30)], frames: [], messages: [] } as unknown as LiveUpdate;

  it('a pointer on the pinned band hits the pinned track at any scroll; below it, the track scrolled there', () => {
    const row0 = (scrollTop: number) => rowTop(pinned!, 0) - trackScroll(scrollView(layout, scrollTop), pinned!) + ROW_H / 2;
    for (const scrollTop of [0, 20, 200, 400]) {
      const sv = scrollView(layout, scrollTop);
      expect(hitTest(data, layout, contentYAt(sv, row0(scrollTop)), 150, 0, '')).toMatchObject({ kind: 'zone', thread: 5, row: 50 });
    }
    // scrolled by 100: thread 2's row 0 (content 160) shows at view y 60, below the band (0..48)
    const sv = scrollView(layout, 100);
    expect(sv.bandBottom).toBe(48);
    const y = rowTop(t2!, 0) - 100 + ROW_H / 2;
    expect(y).toBeGreaterThanOrEqual(sv.bandBottom);
    expect(hitTest(data, layout, contentYAt(sv, y), 150, 0, '')).toMatchObject({ kind: 'zone', thread: 2 });
    // thread 1's row 1 (content 112..130) is under the band at view y 15, the pinned track's row 0: that is hit
    const under = rowTop(pinned!, 0) - 40 + ROW_H / 2;
    expect(rowTop(t1!, 1) - 100).toBeLessThanOrEqual(under);
    expect(under).toBeLessThan(sv.bandBottom);
    expect(hitTest(data, layout, contentYAt(sv, under), 150, 0, '')).toMatchObject({ kind: 'zone', thread: 5 });
    // without the band's mapping (scrollTop only) it would have hit thread 1
    expect(hitTest(data, layout, under + 100, 150, 0, '')).toMatchObject({ kind: 'zone', thread: 1 });
  });
});
