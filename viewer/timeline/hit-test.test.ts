import { describe, expect, it } from 'vitest';
import type { FrameSetItems, LiveUpdate, ThreadItems } from '../../protocol/view/types.js';
import { hitTest, nearestMessage, tooltipLines, type Hit } from './hit-test.js';
import { FRAME_BARS_H, FRAME_LANE_H, MSG_LANE_H, ROW_H, layoutTracks, rowTop } from './layout.js';

const f64 = (a: number[]) => Float64Array.from(a);
const i32 = (a: number[]) => Int32Array.from(a);

const thread: ThreadItems = {
  thread: 7,
  name: 'main',
  depths: [
    // depth 0: a zone [100, 200], a merged run of 40 zones [300, 320], a zone [400, 500]
    { depth: 0, startNs: f64([100, 300, 400]), endNs: f64([200, 320, 500]), srcloc: i32([2, -1, 3]), count: i32([1, 40, 1]), row: i32([10, -1, 11]) },
    { depth: 1, startNs: f64([120]), endNs: f64([150]), srcloc: i32([4]), count: i32([1]), row: i32([0]) },
  ],
  open: [{ startNs: 900, srcloc: 5, depth: 0 }],
  evictedBeforeNs: 50,
};

const frames: FrameSetItems[] = [
  { name: '', continuous: true, count: 3, startNs: f64([0, 100, 300]), endNs: f64([100, 300, 600]), evictedBeforeNs: 0, firstIndex: 41 },
  { name: 'Load', continuous: false, count: 2, startNs: f64([200, 220]), endNs: f64([400, 260]), evictedBeforeNs: 0, firstIndex: 1 },
];

const data = {
  type: 'update',
  lastNs: 1000,
  threads: [thread],
  frames,
  messages: [
    { timeNs: 150, thread: 7, color: -1, metadata: 0, text: 'hello' },
    { timeNs: 152, thread: 9, color: 0xff0000, metadata: 0, text: 'other thread' },
    { timeNs: 600, thread: 7, color: -1, metadata: 0, text: 'later' },
  ],
} as unknown as LiveUpdate;

const layout = layoutTracks([{ thread: 7, rows: 2 }], new Set(), 1);
const track = layout.tracks[1]!;
const row = (d: number) => rowTop(track, d) + ROW_H / 2;

describe('hitTest', () => {
  it('finds a single zone under the pointer with its row for GET /zone', () => {
    expect(hitTest(data, layout, row(0), 150, 0, '')).toEqual({ kind: 'zone', thread: 7, depth: 0, row: 10, srcloc: 2, count: 1, startNs: 100, endNs: 200 });
    expect(hitTest(data, layout, row(1), 130, 0, '')).toMatchObject({ kind: 'zone', depth: 1, srcloc: 4, row: 0 });
  });

  it('prefers the zone under the pointer to a nearer edge, and uses the tolerance in gaps', () => {
    expect(hitTest(data, layout, row(0), 210, 5, '')).toBeNull();
    expect(hitTest(data, layout, row(0), 210, 15, '')).toMatchObject({ kind: 'zone', row: 10 });
    expect(hitTest(data, layout, row(1), 200, 5, '')).toBeNull();
  });

  it('reports merged runs with their count', () => {
    expect(hitTest(data, layout, row(0), 310, 0, '')).toMatchObject({ kind: 'zone', count: 40, srcloc: -1, row: -1, startNs: 300, endNs: 320 });
  });

  it('finds open zones, which run until the session time', () => {
    expect(hitTest(data, layout, row(0), 950, 0, '')).toEqual({ kind: 'open', thread: 7, depth: 0, srcloc: 5, startNs: 900, endNs: 1000 });
  });

  it('finds the evicted range where no zone is left', () => {
    expect(hitTest(data, layout, row(1), 20, 0, '')).toEqual({ kind: 'evicted', thread: 7, beforeNs: 50 });
  });

  it("finds messages on the thread's message lane, not another thread's", () => {
    const h = hitTest(data, layout, track.top + MSG_LANE_H / 2, 151, 5, '');
    expect(h).toMatchObject({ kind: 'message', message: { text: 'hello' } });
    expect(nearestMessage(data.messages, 9, 151, 5)?.text).toBe('other thread');
    expect(nearestMessage(data.messages, 7, 400, 5)).toBeNull();
  });

  it('finds frames of the picked set in the bars and spans of discontinuous sets in their lanes', () => {
    const frameTrack = layout.tracks[0]!;
    expect(hitTest(data, layout, frameTrack.top + FRAME_BARS_H / 2, 150, 0, '')).toMatchObject({ kind: 'frame', index: 1, startNs: 100, endNs: 300 });
    // nested spans: the shortest one around the time
    const lane = frameTrack.top + FRAME_BARS_H + FRAME_LANE_H / 2;
    expect(hitTest(data, layout, lane, 230, 0, '')).toMatchObject({ kind: 'frame', index: 1, startNs: 220 });
    expect(hitTest(data, layout, lane, 300, 0, '')).toMatchObject({ kind: 'frame', index: 0, startNs: 200 });
    // picking the discontinuous set shows it in the bars too
    expect(hitTest(data, layout, frameTrack.top + 5, 300, 0, 'Load')).toMatchObject({ kind: 'frame', set: { name: 'Load' } });
  });

  it('finds nothing above the first track or below the last', () => {
    expect(hitTest(data, layout, -5, 150, 0, '')).toBeNull();
    expect(hitTest(data, layout, layout.height + 5, 150, 0, '')).toBeNull();
  });

  it('treats a collapsed track as its depth 0', () => {
    const collapsed = layoutTracks([{ thread: 7, rows: 2 }], new Set([7]), 1);
    const t = collapsed.tracks[1]!;
    expect(hitTest(data, collapsed, t.top + t.height / 2, 450, 0, '')).toMatchObject({ kind: 'zone', row: 11 });
  });
});

describe('tooltipLines', () => {
  const name = (s: number) => `zone${s}`;
  const threadName = (t: number) => `thread ${t}`;

  it('describes a zone by name and duration, and adds its text once loaded', () => {
    const hit = hitTest(data, layout, row(0), 150, 0, '') as Hit;
    expect(tooltipLines(hit, name, threadName)).toEqual(['zone2', '100 ns', 'start 0.000 000 100 s']);
    const lines = tooltipLines(hit, name, threadName, { name: 'custom', text: 'iter=3', file: 'a.cpp', line: 4, function: 'f', selfNs: 70 } as never);
    expect(lines[0]).toBe('custom');
    expect(lines).toContain('iter=3');
    expect(lines).toContain('f  a.cpp:4');
  });

  it('describes merged runs, open zones, frames and messages', () => {
    expect(tooltipLines(hitTest(data, layout, row(0), 310, 0, '')!, name, threadName)[0]).toBe('40 zones');
    // frames carry their number in the set: the window's first frame is firstIndex
    const frameTrack = layout.tracks[0]!;
    expect(tooltipLines(hitTest(data, layout, frameTrack.top + FRAME_BARS_H / 2, 150, 0, '')!, name, threadName)[0]).toBe('Frame 42');
    expect(tooltipLines(hitTest(data, layout, frameTrack.top + FRAME_BARS_H + FRAME_LANE_H / 2, 300, 0, '')!, name, threadName)[0]).toBe('Load 1');
    expect(tooltipLines(hitTest(data, layout, row(0), 950, 0, '')!, name, threadName)[0]).toBe('zone5 (running)');
    const frame = tooltipLines(hitTest(data, layout, 5, 150, 0, '')!, name, threadName);
    expect(frame[0]).toBe('Frame 42'); // the second frame of a window whose first is 41
    expect(frame[1]).toContain('200 ns');
    expect(tooltipLines({ kind: 'message', message: data.messages[0]! }, name, threadName)[0]).toBe('hello');
  });
});
