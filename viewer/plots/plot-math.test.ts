import { describe, expect, it } from 'vitest';
import { byteSplits, decimalIncrs, holdToEnd, niceStepAtLeast, lastAtOrBefore, noSamplesInView, panBy, samplesInView, wheelPx, wheelZoomFactor, xToTime, yRange, zoomAt } from './plot-math.js';

describe('lastAtOrBefore', () => {
  const times = new Float64Array([10, 20, 20, 30]);

  it('finds the last sample at or before a time', () => {
    expect(lastAtOrBefore(times, 25)).toBe(2);
    expect(lastAtOrBefore(times, 20)).toBe(2);
    expect(lastAtOrBefore(times, 30)).toBe(3);
    expect(lastAtOrBefore(times, 1e9)).toBe(3);
  });

  it('returns -1 before the first sample and for no samples', () => {
    expect(lastAtOrBefore(times, 9)).toBe(-1);
    expect(lastAtOrBefore(new Float64Array(0), 5)).toBe(-1);
  });
});

describe('yRange', () => {
  const t = new Float64Array([0, 10, 20, 30, 40]);
  const v = new Float64Array([100, 5, 7, 6, -50]);

  it('spans the samples in view plus the ones just outside, padded', () => {
    // view [12, 28]: samples at 20 inside; 10 (5) before and 30 (6) after count too
    const [min, max] = yRange(t, v, 12, 28, 0.1);
    expect(min).toBeCloseTo(5 - 0.2);
    expect(max).toBeCloseTo(7 + 0.2);
  });

  it('is not padded below zero when the data is not negative', () => {
    expect(yRange(new Float64Array([0, 1]), new Float64Array([0, 1000]), 0, 1)[0]).toBe(0);
  });

  it('gives a flat line a band around it', () => {
    expect(yRange(new Float64Array([0, 1]), new Float64Array([50, 50]), 0, 1)).toEqual([45, 55]);
    expect(yRange(new Float64Array([0]), new Float64Array([0]), 0, 1)).toEqual([0, 1]);
  });

  it('gives [0, 1] without samples and skips values that are not finite', () => {
    expect(yRange(new Float64Array(0), new Float64Array(0), 0, 1)).toEqual([0, 1]);
    expect(yRange(new Float64Array([0, 1]), new Float64Array([NaN, 4]), 0, 1)).toEqual([3.6, 4.4]);
  });

  it('uses the last sample when the view is after every sample', () => {
    expect(yRange(t, v, 100, 200)).toEqual([-55, -45]);
  });
});

describe('tick increments', () => {
  it('are 1-2-5 steps for numbers', () => {
    const incrs = decimalIncrs();
    expect(incrs).toContain(0.5);
    expect(incrs).toContain(20);
    expect(incrs).toContain(5e6);
    expect([...incrs].sort((a, b) => a - b)).toEqual(incrs);
  });

  it('pick the smallest 1-2-5 step at or above a size', () => {
    expect(niceStepAtLeast(0.7)).toBe(1);
    expect(niceStepAtLeast(1)).toBe(1);
    expect(niceStepAtLeast(1.1)).toBe(2);
    expect(niceStepAtLeast(3)).toBe(5);
    expect(niceStepAtLeast(0.03)).toBeCloseTo(0.05);
    expect(niceStepAtLeast(600)).toBe(1000);
  });

  it('are round in the unit the byte labels use', () => {
    const MiB = 1024 ** 2;
    const ticks = byteSplits(1.21 * MiB, 1.45 * MiB, 3);
    expect(ticks.map((t) => Math.round((t / MiB) * 1000) / 1000)).toEqual([1.3, 1.4]);
    expect(byteSplits(0, 100 * MiB, 2)).toEqual([0, 50 * MiB, 100 * MiB]);
    expect(byteSplits(0, 3 * 1024 ** 3, 3)).toEqual([0, 1024 ** 3, 2 * 1024 ** 3, 3 * 1024 ** 3]);
  });

  it('are whole bytes at least, and none for an empty range', () => {
    expect(byteSplits(0, 2, 10)).toEqual([0, 1, 2]);
    expect(byteSplits(5, 5, 3)).toEqual([]);
  });
});

describe('wheel and drag', () => {
  it('counts wheel lines as 40 px and pages as 800 px, as the timeline does', () => {
    expect(wheelPx(120, 0)).toBe(120);
    expect(wheelPx(-3, 1)).toBe(-120);
    expect(wheelPx(1, 2)).toBe(800);
  });

  it('zooms out by about 1.35x a 120 px notch and in by its inverse, within [0.1, 10]', () => {
    expect(wheelZoomFactor(120)).toBeCloseTo(1.35, 2);
    expect(wheelZoomFactor(-120) * wheelZoomFactor(120)).toBeCloseTo(1);
    expect(wheelZoomFactor(1e6)).toBe(10);
    expect(wheelZoomFactor(-1e6)).toBe(0.1);
    // a pinch (ctrl+wheel) zooms faster per pixel
    expect(wheelZoomFactor(10, true)).toBeGreaterThan(wheelZoomFactor(10));
  });

  it('zooms around the anchor, which keeps its place', () => {
    const view = { t0: 0, t1: 1200 };
    const z = zoomAt(view, 300, 1 / 1.2);
    expect(z.t1 - z.t0).toBeCloseTo(1000);
    // the anchor stays at a quarter of the width
    expect((300 - z.t0) / (z.t1 - z.t0)).toBeCloseTo(0.25);
    const out = zoomAt(view, 300, 1.2);
    expect(out.t1 - out.t0).toBeCloseTo(1440);
  });

  it('pans the view against the drag direction by the dragged share of the width', () => {
    expect(panBy({ t0: 1000, t1: 2000 }, 100, 1000)).toEqual({ t0: 900, t1: 1900 });
    expect(panBy({ t0: 1000, t1: 2000 }, -500, 1000)).toEqual({ t0: 1500, t1: 2500 });
  });

  it('maps an x on the plot area to a time', () => {
    expect(xToTime({ t0: 100, t1: 300 }, 250, 1000)).toBe(150);
  });
});

describe('holdToEnd', () => {
  const t = new Float64Array([10, 20, 30]);
  const v = new Float64Array([1, 2, 3]);

  it('holds the last value to the end of the session', () => {
    const h = holdToEnd(t, v, 100);
    expect([...h.times]).toEqual([10, 20, 30, 100]);
    expect([...h.values]).toEqual([1, 2, 3, 3]);
    expect(h.real).toBe(3);
  });

  it('adds nothing when the last sample is at or after the end, or there are no samples', () => {
    expect([...holdToEnd(t, v, 30).times]).toEqual([10, 20, 30]);
    expect([...holdToEnd(t, v, 25).times]).toEqual([10, 20, 30]);
    expect(holdToEnd(new Float64Array(0), new Float64Array(0), 100).times.length).toBe(0);
    expect([...holdToEnd(t, v, NaN).times]).toEqual([10, 20, 30]);
  });
});

describe('samplesInView and noSamplesInView', () => {
  const t = new Float64Array([10, 20, 20, 30]);

  it('counts the samples in [t0, t1], ends included', () => {
    expect(samplesInView(t, 10, 30)).toBe(4);
    expect(samplesInView(t, 20, 20)).toBe(2);
    expect(samplesInView(t, 11, 19)).toBe(0);
    expect(samplesInView(t, 31, 40)).toBe(0);
    expect(samplesInView(new Float64Array(0), 0, 1)).toBe(0);
  });

  it('a line plot is empty without a sample in view', () => {
    expect(noSamplesInView(false, t, 11, 19, 100)).toBe(true);
    expect(noSamplesInView(false, t, 15, 25, 100)).toBe(false);
  });

  it('a step plot is empty only when no value holds in the view', () => {
    // after the last change, up to the end of the session: the held value
    expect(noSamplesInView(true, t, 40, 90, 100)).toBe(false);
    // between two samples: the earlier one holds
    expect(noSamplesInView(true, t, 11, 19, 100)).toBe(false);
    // before the first sample, or after the end of the session
    expect(noSamplesInView(true, t, 0, 5, 100)).toBe(true);
    expect(noSamplesInView(true, t, 101, 200, 100)).toBe(true);
    expect(noSamplesInView(true, new Float64Array(0), 0, 5, 100)).toBe(true);
  });
});
