import { describe, expect, it } from 'vitest';
import { bucketLabel, hexAddress, memoryPools, usedBuckets } from './memory-data.js';

describe('the Memory panel data', () => {
  it('shows addresses in hex, as Tracy does', () => {
    expect(hexAddress(0x7f00_0000_0940)).toBe('0x7f0000000940');
  });

  it('labels a histogram bucket by its size range', () => {
    expect(bucketLabel(0)).toBe('0-1 B');
    expect(bucketLabel(6)).toBe('64 B-127 B');
  });

  it('draws the buckets from the first to the last non-empty one', () => {
    expect(usedBuckets([0, 0, 3, 0, 1, 0, 0])).toEqual([2, 3, 4]);
    expect(usedBuckets([0, 0])).toEqual([]);
  });

  it('offers the memory-usage series as pools, not the runtime-metric memory plots', () => {
    expect(memoryPools([{ name: 'rss' }, { name: 'Memory usage', memory: true }, { name: 'Memory usage: arena', memory: true }, { name: 'Memory usage', memory: true }])).toEqual(['Memory usage', 'Memory usage: arena']);
  });
});
