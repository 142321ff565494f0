import { describe, expect, it } from 'vitest';
import { distinctNames, emptyPrefs, moveThread, nextMaxRows, orderThreads, readTrackPrefs, togglePin, trackPrefsParams } from './track-prefs.js';

describe('orderThreads', () => {
  it('keeps the order received without prefs', () => {
    expect(orderThreads([3, 1, 2], emptyPrefs())).toEqual([3, 1, 2]);
  });

  it('puts pinned first, then the user order, then the rest; leaves hidden out', () => {
    const p = { ...emptyPrefs(), pinned: [2], order: [1, 9, 3], hidden: new Set([4]) };
    expect(orderThreads([3, 1, 2, 4, 5], p)).toEqual([2, 1, 3, 5]);
  });
});

describe('moveThread', () => {
  it('moves a thread before another, the order listing every drawn thread', () => {
    const p = moveThread(emptyPrefs(), [1, 2, 3], 3, 1);
    expect(p.order).toEqual([3, 1, 2]);
    expect(orderThreads([1, 2, 3, 4], p)).toEqual([3, 1, 2, 4]);
    expect(moveThread(p, [3, 1, 2], 3, null).order).toEqual([1, 2, 3]);
  });

  it('keeps a pinned thread among the pins, and hidden threads in the order', () => {
    let p = togglePin(togglePin(emptyPrefs(), 5), 6);
    p = { ...p, hidden: new Set([7]), order: [7] };
    p = moveThread(p, [5, 6, 1], 6, 5);
    expect(p.pinned).toEqual([6, 5]);
    expect(p.order).toContain(7);
    expect(orderThreads([1, 5, 6, 7], p)).toEqual([6, 5, 1]);
  });
});

describe('pins and maximum heights', () => {
  it('toggles a pin', () => {
    expect(togglePin(togglePin(emptyPrefs(), 4), 4).pinned).toEqual([]);
  });

  it('steps none -> 16 -> 8 -> 4 -> 2 -> none, skipping heights that would not cut the track', () => {
    expect(nextMaxRows(undefined, 40)).toBe(16);
    expect(nextMaxRows(16, 40)).toBe(8);
    expect(nextMaxRows(8, 40)).toBe(4);
    expect(nextMaxRows(4, 40)).toBe(2);
    expect(nextMaxRows(2, 40)).toBeUndefined();
    expect(nextMaxRows(undefined, 5)).toBe(4);
    expect(nextMaxRows(undefined, 3)).toBe(2);
    expect(nextMaxRows(undefined, 2)).toBeUndefined();
  });
});

describe('the URL', () => {
  it('round-trips every pref', () => {
    const p = { hidden: new Set([3, 5]), pinned: [2], order: [5, 1, 2], collapsed: new Set([7]), windows: new Map([[4, { maxRows: 8, firstRow: 3 }], [9, { maxRows: 4, firstRow: 0 }]]) };
    const params = trackPrefsParams(p);
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== null) q.set(k, v);
    expect(q.get('hide')).toBe('3,5');
    expect(readTrackPrefs(`?${q}`)).toEqual(p);
  });

  it('leaves the keys out when nothing is set, and reads an old URL as no prefs', () => {
    expect(Object.values(trackPrefsParams(emptyPrefs())).every((v) => v === null)).toBe(true);
    expect(readTrackPrefs('?session=abc&t0=0&t1=100')).toEqual(emptyPrefs());
  });

  it('ignores what does not parse', () => {
    const p = readTrackPrefs('?hide=1,x,,2,1&maxrows=4:0,5:six,6:3&pin=');
    expect([...p.hidden]).toEqual([1, 2]);
    expect([...p.windows]).toEqual([[6, { maxRows: 3, firstRow: 0 }]]);
    expect(p.pinned).toEqual([]);
  });
});

describe('distinctNames', () => {
  it('adds the thread id to names shared by several threads', () => {
    const m = distinctNames([
      { thread: 1, name: 'worker' },
      { thread: 2, name: 'worker' },
      { thread: 3, name: 'main' },
      { thread: 4, name: null },
    ]);
    expect([...m.values()]).toEqual(['worker #1', 'worker #2', 'main', 'thread 4']);
  });
});
