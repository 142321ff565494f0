/**
 * The Memory panel's data, without DOM (unit-tested in node, memory-data.test.ts): the shapes
 * GET /memory and /memory/leaks answer (docs/server.md, "Memory window"), and how their numbers
 * are shown.
 */
import { formatBytes } from '../format.js';

export type MemoryMode = 'at' | 'range' | 'leaks';

export interface MemoryAllocation {
  row: number;
  address: number;
  size: number;
  thread: number;
  threadName: string | null;
  allocNs: number;
  freeNs: number | null;
  ageNs: number;
  srcloc: number;
  zone: string | null;
  /** the alloc callstack (GET /callstacks/:cs), 0 = none */
  callstack: number;
}

export interface MemoryGroup {
  count: number;
  bytes: number;
}

export interface MemoryAnswer {
  pool: {
    name: string;
    plot: string;
    allocs: number;
    frees: number;
    allocatedBytes: number;
    unknownFrees: number;
    usedBytes: number;
    peakBytes: number;
    records: number;
    storedRecords: number;
    evictedBeforeNs: number;
    liveEvicted: MemoryGroup;
  };
  mode: MemoryMode;
  t: number | null;
  t0: number | null;
  lastNs: number;
  active: MemoryGroup;
  window: { allocs: number; allocatedBytes: number; frees: number };
  peak: { bytes: number | null; timeNs: number | null };
  histogram: { counts: number[]; bytes: number[] };
  bySize: (MemoryGroup & { size: number })[];
  bySizeOther: MemoryGroup & { groups: number };
  byZone: (MemoryGroup & { srcloc: number; zone: string | null })[];
  byZoneOther: MemoryGroup & { groups: number };
  /** grouped by alloc callstack; `top` = its innermost function that is not Tracy's own */
  byStack: (MemoryGroup & { callstack: number; top: string })[];
  byStackOther: MemoryGroup & { groups: number };
  allocations: MemoryAllocation[];
  cursor: string | null;
}

/** Allocations kept in the panel at most (pages of MEMORY_PAGE are added with "More" up to this). */
export const MEMORY_MAX_ROWS = 10_000;
export const MEMORY_PAGE = 1_000;

/** An address as Tracy shows it: 0x hex. */
export function hexAddress(address: number): string {
  return `0x${address.toString(16)}`;
}

/** The size range of histogram bucket k: [2^k, 2^(k+1)) bytes (bucket 0 also holds 0). */
export function bucketLabel(k: number): string {
  return k === 0 ? '0-1 B' : `${formatBytes(2 ** k)}-${formatBytes(2 ** (k + 1) - 1)}`;
}

/** The buckets worth drawing: from the first to the last non-empty one (none: []). */
export function usedBuckets(counts: readonly number[]): number[] {
  let first = -1;
  let last = -1;
  counts.forEach((c, k) => {
    if (c > 0) {
      if (first < 0) first = k;
      last = k;
    }
  });
  const out: number[] = [];
  for (let k = first; first >= 0 && k <= last; k++) out.push(k);
  return out;
}

/** Names of the memory-usage series (plot rows with `memory`) of an update: the pools to pick from. */
export function memoryPools(plots: readonly { name: string; memory?: boolean }[]): string[] {
  const out: string[] = [];
  for (const p of plots) if (p.memory === true && !out.includes(p.name)) out.push(p.name);
  return out;
}
