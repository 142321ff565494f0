import { describe, expect, it } from 'vitest';
import { formatTickOffset, formatTickTime, minorDivisions, niceStepAtLeast, nextNiceStep, rulerTicks } from './ruler.js';

const isNice = (step: number): boolean => {
  const p = 10 ** Math.floor(Math.log10(step) + 1e-9);
  const m = Math.round(step / p);
  return [1, 2, 5].includes(m) && Math.abs(m * p - step) < 1e-9 * step;
};

describe('nice steps', () => {
  it('picks the smallest 1/2/5 x 10^k step at least as large as asked', () => {
    expect(niceStepAtLeast(0.3)).toBe(1);
    expect(niceStepAtLeast(1)).toBe(1);
    expect(niceStepAtLeast(1.1)).toBe(2);
    expect(niceStepAtLeast(3)).toBe(5);
    expect(niceStepAtLeast(7)).toBe(10);
    expect(niceStepAtLeast(1000)).toBe(1000);
    expect(niceStepAtLeast(1001)).toBe(2000);
    expect(niceStepAtLeast(2.4e8)).toBe(5e8);
  });

  it('walks 1 -> 2 -> 5 -> 10', () => {
    expect(nextNiceStep(1)).toBe(2);
    expect(nextNiceStep(2)).toBe(5);
    expect(nextNiceStep(5)).toBe(10);
    expect(nextNiceStep(500_000)).toBe(1_000_000);
  });

  it('divides 1 and 5 steps in five minor ticks and 2 steps in four', () => {
    expect(minorDivisions(1000)).toBe(5);
    expect(minorDivisions(5000)).toBe(5);
    expect(minorDivisions(2e6)).toBe(4);
  });
});

describe('tick labels', () => {
  it('uses the largest unit not above the value and as many decimals as the step needs', () => {
    expect(formatTickTime(1_500_000, 500_000)).toBe('1.5 ms');
    expect(formatTickTime(1_234_500_000, 100_000)).toBe('1.2345 s');
    expect(formatTickTime(750, 50)).toBe('750 ns');
    expect(formatTickTime(3_000, 500)).toBe('3 us');
    expect(formatTickTime(0, 2e6)).toBe('0 ms');
    expect(formatTickTime(-2e6, 1e6)).toBe('-2 ms');
    expect(formatTickTime(125e9, 1e9)).toBe('125 s');
  });

  it('writes offsets with a plus sign', () => {
    expect(formatTickOffset(250_000, 50_000)).toBe('+250 us');
    expect(formatTickOffset(1_500, 500)).toBe('+1.5 us');
    expect(formatTickOffset(1_000, 500)).toBe('+1 us');
  });
});

describe('rulerTicks', () => {
  it('has no ticks for an empty or degenerate view', () => {
    expect(rulerTicks(10, 10, 1000).major).toEqual([]);
    expect(rulerTicks(0, 100, 0).major).toEqual([]);
    expect(rulerTicks(0, Infinity, 1000).major).toEqual([]);
  });

  it('labels the first tick absolutely and the others as offsets from it', () => {
    const t = rulerTicks(1_000_000, 2_000_000, 1000);
    expect(t.major.length).toBeGreaterThan(2);
    expect(t.major[0]!.label).not.toMatch(/^\+/);
    for (const tick of t.major.slice(1)) expect(tick.label).toMatch(/^\+/);
    expect(t.major[0]!.label).toBe('1 ms');
    expect(t.major[1]!.label).toBe(formatTickOffset(t.stepNs, t.stepNs));
  });

  it('places ticks on multiples of a nice step, inside the view, at their pixel', () => {
    const t0 = 123_456_789;
    const t1 = t0 + 7_777_777;
    const w = 1234;
    const t = rulerTicks(t0, t1, w);
    expect(isNice(t.stepNs)).toBe(true);
    for (const tick of t.major) {
      expect(tick.ns % t.stepNs).toBe(0);
      expect(tick.ns).toBeGreaterThanOrEqual(t0);
      expect(tick.ns).toBeLessThanOrEqual(t1);
      expect(tick.x).toBeCloseTo(((tick.ns - t0) / (t1 - t0)) * w, 6);
    }
    for (let i = 1; i < t.major.length; i++) expect(t.major[i]!.ns - t.major[i - 1]!.ns).toBe(t.stepNs);
  });

  it('keeps labels from overlapping at every zoom level, with the smallest step that allows it', () => {
    const measure = (s: string) => s.length * 7;
    for (let span = 150; span < 1e13; span *= 3.7) {
      for (const w of [300, 1000, 2500]) {
        const t0 = 987_654_321_012 % (span * 5);
        const t = rulerTicks(t0, t0 + span, w, { measure, gapPx: 10 });
        const stepPx = (t.stepNs / span) * w;
        for (const tick of t.major) expect(measure(tick.label) + 10).toBeLessThanOrEqual(stepPx + 1e-6);
        // the next smaller nice step was tried (it is >= 60 px) and its labels did not fit
        const m = Math.round(t.stepNs / 10 ** Math.floor(Math.log10(t.stepNs) + 1e-9));
        const smaller = t.stepNs / (m === 5 ? 2.5 : 2);
        const smallerPx = (smaller / span) * w;
        if (smaller >= 1 && smallerPx >= 60) {
          const from = rulerTicks(t0, t0 + span, w, { measure, gapPx: 10, minStepPx: smallerPx * (1 - 1e-9) });
          expect(from.stepNs).toBe(t.stepNs);
        }
        expect(isNice(t.stepNs)).toBe(true);
      }
    }
  });

  it('never steps below 1 ns when zoomed to a few nanoseconds', () => {
    const t = rulerTicks(1000, 1010, 2000);
    expect(t.stepNs).toBeGreaterThanOrEqual(1);
    expect(t.major.map((m) => m.label)[0]).toBe('1 us');
    expect(t.major[1]!.label).toBe('+1 ns');
  });

  it('adds minor ticks between major ones only when they are at least 4 px apart', () => {
    const t = rulerTicks(0, 1e6, 1000);
    expect(t.minorX.length).toBeGreaterThan(0);
    for (const x of t.minorX) expect(t.major.some((m) => Math.abs(m.x - x) < 1e-6)).toBe(false);
    const sparse = rulerTicks(0, 1e6, 1000, { minStepPx: 10, measure: () => 0, gapPx: 0 });
    const minorPx = (sparse.minorStepNs / 1e6) * 1000;
    expect(minorPx < 4 ? sparse.minorX.length === 0 : true).toBe(true);
  });
});
