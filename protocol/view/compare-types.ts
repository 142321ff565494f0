/**
 * What GET /api/compare, /api/compare/histogram and /api/compare/flame answer (docs/server.md,
 * "Comparing two captures"), shared by the server, the CLI's --json and the viewer. A is the
 * baseline, B the capture compared with it: every change is B - A, and a percentage is
 * (B - A) / A x 100. Times are nanoseconds.
 */

/** One zone name's figures on one side, over that side's range. */
export interface CompareSideStats {
  count: number;
  totalNs: number;
  meanNs: number;
  /** the middle duration (the mean of the two middle ones for an even count) */
  medianNs: number;
  /** nearest-rank 99th percentile: the ceil(0.99 x count)-th shortest duration */
  p99Ns: number;
}

/** B - A, and the same as a percentage of A (null when A is 0 and B is not: no finite ratio). */
export interface CompareChange {
  abs: number;
  pct: number | null;
}

export interface CompareChanges {
  count: CompareChange;
  totalNs: CompareChange;
  meanNs: CompareChange;
  medianNs: CompareChange;
  p99Ns: CompareChange;
}

/** A zone name: its figures on both sides (null on the side that has none) and their change. */
export interface CompareRow {
  name: string;
  a: CompareSideStats | null;
  b: CompareSideStats | null;
  /** null when the name is on one side only */
  change: CompareChanges | null;
}

export interface CompareSideInfo {
  id: string;
  app: string | null;
  t0: number;
  t1: number;
  /** zones that started in [t0, t1] and were counted */
  zones: number;
  /** distinct zone names among them */
  names: number;
  /** zones left out because their name would have passed MAX_COMPARE_NAMES distinct names */
  droppedZones: number;
}

export interface CompareResult {
  a: CompareSideInfo;
  b: CompareSideInfo;
  sort: string;
  order: 'asc' | 'desc';
  filter: string;
  /** rows matching the filter (before the limit), and how many of them are on one side only */
  total: number;
  onlyA: number;
  onlyB: number;
  /** the first `limit` rows in the asked order */
  rows: CompareRow[];
}

/**
 * One zone name's duration histograms, A and B over the same log-spaced buckets: bucket i
 * covers [edgesNs[i], edgesNs[i + 1]) (the last one includes its upper edge).
 */
export interface CompareHistogram {
  name: string;
  edgesNs: number[];
  a: { count: number; counts: number[] };
  b: { count: number; counts: number[] };
}

export interface CompareFlameFigures {
  count: number;
  totalNs: number;
  selfNs: number;
}

/** A call path (merged by zone name from the root) with its figures on each side. */
export interface CompareFlameNode {
  id: number;
  parent: number;
  name: string;
  children: number[];
  a: CompareFlameFigures | null;
  b: CompareFlameFigures | null;
}

export interface CompareFlame {
  nodes: CompareFlameNode[];
  /** zones left out by either side's flame graph node cap */
  droppedZones: { a: number; b: number };
  /** call paths left out because the merged tree reached its node cap (with their subtrees) */
  droppedNodes: number;
}
