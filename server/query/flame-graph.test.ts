/**
 * The flame graph of the real recordings against a brute-force call tree built from the store
 * (zones sorted by start and depth; a zone's parent is the latest zone one level up).
 */
import { describe, expect, it } from 'vitest';
import { decodeFixtureStore } from '../../test/support/fixture-store.js';
import { FIXTURES_PRESENT } from '../../test/support/inspect-fixtures.js';
import { BudgetAccount, MemoryBudget } from '../store/memory-budget.js';
import { SessionStore } from '../store/session-store.js';
import type { ThreadTimeline } from '../store/thread-timeline.js';
import { SEGMENT_ROWS } from '../store/zone-columns.js';
import { flameGraph, type FlameNode } from './flame-graph.js';
import { zoneStatistics } from './zone-stats.js';

if (!FIXTURES_PRESENT) console.warn('flame-graph.test: ../shared/fixtures/tracy is absent; the real-recording tests are skipped');

interface RefZone {
  start: number;
  dur: number;
  self: number;
  srcloc: number;
  depth: number;
  /** source locations from the top-level zone down to this one */
  path: string;
  /** start of the top-level zone of this zone's tree */
  rootStart: number;
}

function referenceZones(store: SessionStore): RefZone[] {
  const out: RefZone[] = [];
  for (const thread of store.threads.values()) {
    const zones: RefZone[] = [];
    thread.depths.forEach((cols, depth) => {
      for (let r = cols.firstRow; r < cols.count; r++) {
        const seg = cols.segmentOf(r)!;
        const slot = r % SEGMENT_ROWS;
        const dur = seg.durationAt(slot);
        zones.push({ start: seg.startAt(slot), dur, self: dur, srcloc: seg.srcloc[slot]!, depth, path: '', rootStart: NaN });
      }
    });
    zones.sort((a, b) => a.start - b.start || a.depth - b.depth);
    const lastAt: RefZone[] = [];
    for (const z of zones) {
      const parent = z.depth > 0 ? lastAt[z.depth - 1] : undefined;
      if (parent) parent.self -= z.dur;
      z.path = parent ? `${parent.path}/${z.srcloc}` : `${z.srcloc}`;
      z.rootStart = parent ? parent.rootStart : z.start;
      lastAt[z.depth] = z;
      out.push(z);
    }
  }
  return out;
}

/** Node path (srclocs from the root's child down) -> node. */
function byPath(nodes: readonly FlameNode[]): Map<string, FlameNode> {
  const paths = new Map<string, FlameNode>();
  const pathOf = (n: FlameNode): string => (n.parent <= 0 ? `${n.srcloc}` : `${pathOf(nodes[n.parent]!)}/${n.srcloc}`);
  for (const n of nodes.slice(1)) {
    const p = pathOf(n);
    expect(paths.has(p), `path ${p} appears twice`).toBe(false);
    paths.set(p, n);
  }
  return paths;
}

function checkAgainstReference(nodes: readonly FlameNode[], zones: readonly RefZone[]): void {
  const want = new Map<string, { count: number; total: number; self: number }>();
  for (const z of zones) {
    const w = want.get(z.path) ?? { count: 0, total: 0, self: 0 };
    w.count++;
    w.total += z.dur;
    w.self += z.self;
    want.set(z.path, w);
  }
  const got = byPath(nodes);
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [p, w] of want) {
    const n = got.get(p)!;
    if (n.count !== w.count || n.totalNs !== w.total || n.selfNs !== w.self) expect({ count: n.count, total: n.totalNs, self: n.selfNs }, `${n.name} at ${p}`).toEqual(w);
  }
}

/** Invariants every flame graph keeps, whatever the range. */
function checkInvariants(nodes: readonly FlameNode[], zones: readonly RefZone[], t0: number, t1: number): void {
  const root = nodes[0]!;
  const topLevel = zones.filter((z) => z.depth === 0 && z.start >= t0 && z.start <= t1);
  expect(root.totalNs).toBe(topLevel.reduce((a, z) => a + z.dur, 0));
  expect(root.count).toBe(topLevel.length);
  for (const n of nodes) {
    const childTotal = n.children.reduce((a, c) => a + nodes[c]!.totalNs, 0);
    for (const c of n.children) expect(nodes[c]!.parent).toBe(n.id);
    if (n.id === 0) {
      expect(childTotal).toBe(n.totalNs);
      continue;
    }
    if (!(n.totalNs >= childTotal) || n.selfNs !== n.totalNs - childTotal) {
      expect({ total: n.totalNs, self: n.selfNs, children: childTotal }, `node ${n.id} ${n.name}`).toEqual({ total: n.totalNs, self: n.totalNs - childTotal, children: childTotal });
    }
  }
}

describe.skipIf(!FIXTURES_PRESENT).each(['small', 'medium'])('flameGraph on the %s recording', (name) => {
  const store = FIXTURES_PRESENT ? decodeFixtureStore(name) : (null as unknown as SessionStore);
  const zones = FIXTURES_PRESENT ? referenceZones(store) : [];
  const nodes = FIXTURES_PRESENT ? flameGraph(store) : [];

  it('builds the call tree of every zone, merged by source location path across threads', () => {
    checkAgainstReference(nodes, zones);
  });

  it('has a root whose total is the top-level time, and self = total - children in every node', () => {
    checkInvariants(nodes, zones, -Infinity, Infinity);
  });

  it('counts as many zones per source location name as the statistics', () => {
    const fromFlame: Record<string, number> = {};
    for (const n of nodes.slice(1)) fromFlame[n.name] = (fromFlame[n.name] ?? 0) + n.count;
    const fromStats: Record<string, number> = {};
    for (const s of zoneStatistics(store)) fromStats[s.name] = (fromStats[s.name] ?? 0) + s.count;
    expect(fromFlame).toEqual(fromStats);
  });

  it('over a range, holds the whole trees of the top-level zones that start in it', () => {
    const starts = zones.filter((z) => z.depth === 0).map((z) => z.start).sort((a, b) => a - b);
    // the range ends in the middle of some trees and starts in the middle of others
    const t0 = starts[Math.floor(starts.length * 0.25)]! + 1;
    const t1 = starts[Math.floor(starts.length * 0.75)]! + 1;
    const ranged = flameGraph(store, { t0, t1 });
    checkInvariants(ranged, zones, t0, t1);
    checkAgainstReference(
      ranged,
      zones.filter((z) => z.rootStart >= t0 && z.rootStart <= t1),
    );
  });
});

describe('flameGraph over a range', () => {
  /** begin/end events of one thread: [start, srcloc] opens, a bare number closes */
  function play(thread: ThreadTimeline, events: (number | [number, number])[]): void {
    for (const e of events) {
      if (typeof e === 'number') thread.end(e);
      else thread.begin(e[0], e[1]);
    }
  }

  it('keeps the whole trees of the top-level zones starting in it and nothing of the others', () => {
    const store = new SessionStore(new BudgetAccount(new MemoryBudget(2 ** 30)));
    // A[0,100] { B[10,20] B[50,90] { C[60,70] } }   A[200,300] { B[210,240] B[260,290] { C[270,280] } }
    play(store.thread(1), [[0, 0], [10, 1], 20, [50, 1], [60, 2], 70, 90, 100, [200, 0], [210, 1], 240, [260, 1], [270, 2], 280, 290, 300]);
    const nodes = flameGraph(store, { t0: 5, t1: 250 });
    const summary = nodes.map((n) => [n.srcloc, n.count, n.totalNs, n.selfNs]);
    expect(summary).toEqual([
      [-1, 1, 100, 0],
      [0, 1, 100, 40], // the second A
      [1, 2, 60, 50], // its two Bs, the one starting after t1 included
      [2, 1, 10, 10],
    ]);
    // from the first A's start: both trees
    expect(flameGraph(store, { t0: 0, t1: 250 })[0]!.totalNs).toBe(200);
    // a range inside the first A: none of its zones
    expect(flameGraph(store, { t0: 5, t1: 150 }).length).toBe(1);
  });
});
