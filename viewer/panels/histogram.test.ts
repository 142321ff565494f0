import { describe, expect, it } from 'vitest';
import { formatDuration } from '../format.js';
import { axisLabels, barHeights } from './histogram.js';

describe('find zone histogram', () => {
  it('scales bars linearly to the tallest bucket', () => {
    expect(barHeights([0, 5, 10], 100, false)).toEqual([0, 50, 100]);
  });

  it('keeps a non-empty bucket at least one pixel high', () => {
    expect(barHeights([1, 100000], 50, false)).toEqual([1, 50]);
  });

  it('compresses large counts on a log scale', () => {
    const [a, b] = barHeights([9, 99], 100, true);
    expect(b).toBe(100);
    expect(a).toBe(50); // log10(10) / log10(100)
  });

  it('draws nothing for empty histograms', () => {
    expect(barHeights([0, 0], 100, false)).toEqual([0, 0]);
    expect(barHeights([], 100, true)).toEqual([]);
  });

  it('labels the first and last edge and spreads the others evenly', () => {
    const edges = [100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10];
    const labels = axisLabels(edges, 5);
    expect(labels.map((l) => l.index)).toEqual([0, 2, 4, 6, 8]);
    expect(labels[0]!.text).toBe('100 ns');
    expect(labels[4]!.text).toBe(formatDuration(1e10));
  });

  it('never repeats an edge when there are fewer edges than labels', () => {
    expect(axisLabels([10, 20], 5).map((l) => l.index)).toEqual([0, 1]);
    expect(axisLabels([], 5)).toEqual([]);
  });
});
