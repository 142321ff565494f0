import { describe, expect, it } from 'vitest';
import { StreamSummary } from './stream-summary.js';

const utf8 = new TextEncoder();

function text(summary: StreamSummary, thread: number, s: string): void {
  const bytes = utf8.encode(`xx${s}`);
  summary.zoneText(thread, bytes, 2, bytes.length - 2);
}

describe('StreamSummary', () => {
  it('joins ZoneText lines and ZoneValue values of one zone with "\\n", the value as "N [0xHEX]"', () => {
    const summary = new StreamSummary();
    const zones: [number, number, number, number, string | null][] = [];
    summary.zoneSink = { zone: (thread, srcloc, start, end, t) => void zones.push([thread, srcloc, start, end, t]) };
    summary.zoneBegin(7, 100, 0);
    text(summary, 7, 'first');
    summary.zoneBegin(7, 110, 1);
    summary.zoneValue(7, 0xffffffff, 0xffffffff);
    summary.zoneEnd(7, 120);
    text(summary, 7, 'second');
    summary.zoneValue(7, 42, 0);
    summary.zoneEnd(7, 150);
    summary.zoneBegin(7, 160, 1);
    summary.zoneEnd(7, 161);
    expect(zones).toEqual([
      [7, 1, 110, 120, '18446744073709551615 [0xffffffffffffffff]'],
      [7, 0, 100, 150, 'first\nsecond\n42 [0x2a]'],
      [7, 1, 160, 161, null],
    ]);
    expect(summary.zoneTexts).toBe(2);
    expect(summary.zoneValues).toBe(2);
  });

  it('counts zones per source location with total, min and max of the ended ones, and keeps open ones apart', () => {
    const summary = new StreamSummary();
    summary.zoneBegin(1, 0, 3);
    summary.zoneBegin(1, 10, 3);
    summary.zoneEnd(1, 15);
    summary.zoneBegin(2, 20, 3);
    summary.zoneEnd(2, 40);
    summary.zoneBegin(2, 50, 300); // grows the per-location columns; never ends
    expect(summary.zoneCount[3]).toBe(3);
    expect(summary.zoneEnded[3]).toBe(2);
    expect(summary.zoneTotalNs[3]).toBe(25);
    expect(summary.zoneMinNs[3]).toBe(5);
    expect(summary.zoneMaxNs[3]).toBe(20);
    expect(summary.zoneCount[300]).toBe(1);
    expect(summary.srclocLimit).toBe(301);
    expect(summary.openZonesBySrcloc()).toEqual(new Map([[3, 1], [300, 1]]));
    expect(summary.threads.map((t) => [t.id, t.zones, t.depth])).toEqual([[1, 2, 1], [2, 2, 1]]);
  });

  it('keeps deep nesting (stack growth) and counts a ZoneEnd without an open zone as an anomaly', () => {
    const summary = new StreamSummary();
    for (let i = 0; i < 1000; i++) summary.zoneBegin(1, i, i % 5);
    for (let i = 0; i < 1000; i++) summary.zoneEnd(1, 2000 - i);
    summary.zoneEnd(1, 3000);
    expect(summary.zonesEnded).toBe(1000);
    expect(summary.unmatchedZoneEnds).toBe(1);
    // The outermost zone (begun at 0, srcloc 0) ended last, at 1001.
    expect(summary.zoneMaxNs[0]).toBe(1001);
  });

  it('counts frames per set (marks, or ends for discontinuous sets), plots with min/max, messages by severity and source', () => {
    const summary = new StreamSummary();
    summary.frameMark(0, 0, 1);
    summary.frameMark(0, 0, 2);
    summary.frameMark(1, 99, 3);
    summary.frameMark(2, 99, 4);
    summary.plot(5, 10, 2.5);
    summary.plot(5, 11, -1);
    const msg = utf8.encode('hello');
    summary.message(1, 20, msg, 0, msg.length, -1, (4 << 4) | 1);
    summary.messageLiteral(1, 21, 1234, -1, 2 << 4);
    expect(summary.frames.get(0)).toEqual({ marks: 2, starts: 0, ends: 0 });
    expect(summary.frames.get(99)).toEqual({ marks: 0, starts: 1, ends: 1 });
    expect(summary.plots.get(5)).toEqual({ count: 2, min: -1, max: 2.5 });
    expect(summary.messages).toBe(2);
    expect([...summary.messagesBySeverity.subarray(0, 6)]).toEqual([0, 0, 1, 0, 1, 0]);
    expect(summary.messagesBySource[1]).toBe(1);
    expect(summary.lastTimeNs).toBe(21);
  });
});
