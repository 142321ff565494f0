/**
 * Zone search on the real recordings against a brute-force filter of every stored zone.
 */
import { describe, expect, it } from 'vitest';
import { decodeFixtureStore } from '../../test/support/fixture-store.js';
import { FIXTURES_PRESENT } from '../../test/support/inspect-fixtures.js';
import type { SessionStore } from '../store/session-store.js';
import { SEGMENT_ROWS } from '../store/zone-columns.js';
import { searchZones, type ZoneSearchResult } from './zone-search.js';
import { zoneStatistics } from './zone-stats.js';

if (!FIXTURES_PRESENT) console.warn('zone-search.test: ../shared/fixtures/tracy is absent; the real-recording tests are skipped');

interface RefZone {
  thread: number;
  depth: number;
  row: number;
  start: number;
  dur: number;
  srcloc: number;
}

function allZones(store: SessionStore): RefZone[] {
  const out: RefZone[] = [];
  for (const thread of store.threads.values()) {
    thread.depths.forEach((cols, depth) => {
      for (let r = cols.firstRow; r < cols.count; r++) {
        const seg = cols.segmentOf(r)!;
        const slot = r % SEGMENT_ROWS;
        out.push({ thread: thread.id, depth, row: r, start: seg.startAt(slot), dur: seg.durationAt(slot), srcloc: seg.srcloc[slot]! });
      }
    });
  }
  return out;
}

function expectedMatches(store: SessionStore, zones: readonly RefZone[], query: string, t0 = -Infinity, t1 = Infinity): RefZone[] {
  const q = query.toLowerCase();
  return zones.filter((z) => z.start >= t0 && z.start <= t1 && store.srclocs.displayName(z.srcloc, store.names.strings).toLowerCase().includes(q));
}

function checkResult(result: ZoneSearchResult, want: readonly RefZone[], limit: number): void {
  expect(result.total).toBe(want.length);
  // per source location counts
  const perSrcloc = new Map<number, number>();
  for (const z of want) perSrcloc.set(z.srcloc, (perSrcloc.get(z.srcloc) ?? 0) + 1);
  for (const s of result.srclocs) expect(s.count, s.name).toBe(perSrcloc.get(s.srcloc) ?? 0);
  expect(result.srclocs.reduce((n, s) => n + s.count, 0)).toBe(want.length);
  // the first `limit` matches by start time, each one a real zone
  expect(result.matches.length).toBe(Math.min(limit, want.length));
  const sorted = want.map((z) => z.start).sort((a, b) => a - b);
  expect(result.matches.map((m) => m.startNs)).toEqual(sorted.slice(0, limit));
  const byKey = new Map(want.map((z) => [`${z.thread}/${z.depth}/${z.row}`, z]));
  for (const m of result.matches) {
    const z = byKey.get(`${m.thread}/${m.depth}/${m.row}`);
    if (!z || z.start !== m.startNs || z.dur !== m.durNs || z.srcloc !== m.srcloc) expect(m).toEqual(z);
  }
  // the histogram holds every match, on ascending edges that span the durations
  const h = result.histogram;
  expect(h.counts.reduce((a, c) => a + c, 0)).toBe(want.length);
  if (want.length > 0) {
    expect(h.edgesNs.length).toBe(h.counts.length + 1);
    for (let i = 1; i < h.edgesNs.length; i++) expect(h.edgesNs[i]!).toBeGreaterThan(h.edgesNs[i - 1]!);
    const min = want.reduce((m, z) => Math.min(m, z.dur), Infinity);
    const max = want.reduce((m, z) => Math.max(m, z.dur), -Infinity);
    expect(h.edgesNs[0]!).toBeLessThanOrEqual(Math.max(1, min) * (1 + 1e-9));
    expect(h.edgesNs[h.edgesNs.length - 1]!).toBeGreaterThan(max);
  }
}

describe.skipIf(!FIXTURES_PRESENT).each(['small', 'medium'])('searchZones on the %s recording', (name) => {
  const store = FIXTURES_PRESENT ? decodeFixtureStore(name) : (null as unknown as SessionStore);
  const zones = FIXTURES_PRESENT ? allZones(store) : [];

  it('finds exactly the zones whose source location name contains the query, in any case', () => {
    for (const query of ['update', 'UPDATE', 'Update/In', 'zone', 'physics', 'allocZONE-', 'k', 'no such zone']) {
      const result = searchZones(store, query, { limit: 50 });
      checkResult(result, expectedMatches(store, zones, query), 50);
    }
    expect(searchZones(store, 'physics').srclocs.map((s) => s.name)).toEqual(['PhysicsStep']);
    expect(searchZones(store, 'no such zone')).toMatchObject({ total: 0, srclocs: [], matches: [], histogram: { edgesNs: [], counts: [] } });
  });

  it('counts as many zones per source location as the statistics', () => {
    const stats = new Map(zoneStatistics(store).map((s) => [s.srcloc, s.count]));
    const result = searchZones(store, 'o', { limit: 0 });
    expect(result.srclocs.length).toBeGreaterThan(5);
    for (const s of result.srclocs) expect(s.count, s.name).toBe(stats.get(s.srcloc) ?? 0);
    expect(result.matches).toEqual([]);
  });

  it('restricts to the zones that start in [t0, t1]', () => {
    const starts = zones.map((z) => z.start).sort((a, b) => a - b);
    const t0 = starts[Math.floor(starts.length * 0.2)]!;
    const t1 = starts[Math.floor(starts.length * 0.45)]!;
    for (const query of ['e', 'WorkerJob']) {
      const result = searchZones(store, query, { t0, t1, limit: 100_000, buckets: 16 });
      expect(result.histogram.counts.length).toBe(16);
      checkResult(result, expectedMatches(store, zones, query, t0, t1), 100_000);
    }
  });
});
