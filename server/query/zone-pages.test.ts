/**
 * GET /zones pages on the medium recording: small pages followed by their cursors cover every
 * zone exactly once, at every level of detail, and a page never holds more than its limit.
 */
import { describe, expect, it } from 'vitest';
import { decodeFixtureStore } from '../../test/support/fixture-store.js';
import { FIXTURES_PRESENT } from '../../test/support/inspect-fixtures.js';
import type { SessionStore } from '../store/session-store.js';
import { queryThreadZones } from './zone-lod.js';
import { runInSlices } from './query-slicer.js';
import { formatZoneCursor, MAX_ZONE_PAGE_ITEMS, parseZoneCursor, queryZonePage, ZonePageQuery, type ZonePage } from './zone-pages.js';

if (!FIXTURES_PRESENT) console.warn('zone-pages.test: ../shared/fixtures/tracy is absent; the real-recording tests are skipped');

/** Every page from the start; checks each against `limit`. */
function allPages(store: SessionStore, t0: number, t1: number, nsPerPx: number, limit: number): ZonePage[] {
  const pages: ZonePage[] = [];
  let cursor: string | null = null;
  do {
    const page = queryZonePage(store, { t0, t1, nsPerPx, limit, cursor: cursor ? parseZoneCursor(cursor) : null });
    expect(page.items).toBeLessThanOrEqual(limit);
    pages.push(page);
    cursor = page.cursor;
  } while (cursor !== null && pages.length < 10_000);
  return pages;
}

describe('zone cursors', () => {
  it('reads back what it writes and refuses anything else', () => {
    expect(parseZoneCursor(formatZoneCursor({ thread: 4_000_000_000, depth: 3, row: 123_456_789 }))).toEqual({ thread: 4_000_000_000, depth: 3, row: 123_456_789 });
    for (const bad of ['', '1.2', '1.2.3.4', '-1.0.0', '1.0.x', '1e3.0.0', ' 1.0.0']) expect(parseZoneCursor(bad), bad).toBeNull();
  });
});

describe.skipIf(!FIXTURES_PRESENT)('queryZonePage on the medium recording', () => {
  const store = FIXTURES_PRESENT ? decodeFixtureStore('medium') : (null as unknown as SessionStore);

  it('returns every zone exactly once over pages of 997 items (nsPerPx 0)', () => {
    const t1 = store.lastNs;
    const pages = allPages(store, 0, t1, 0, 997);
    const seen = new Set<string>();
    let items = 0;
    let twice = 0;
    for (const page of pages) {
      for (const t of page.threads) {
        for (const d of t.depths) {
          for (let i = 0; i < d.row.length; i++) {
            const key = `${t.thread}/${d.depth}/${d.row[i]}`;
            if (seen.has(key)) twice++;
            seen.add(key);
            items++;
          }
        }
      }
    }
    expect(twice).toBe(0);
    expect(items).toBe(store.zonesEnded);
    expect(pages.length).toBe(Math.ceil(store.zonesEnded / 997));
    // the same zones as one unbounded query
    let all = 0;
    for (const t of store.threadList()) for (const d of queryThreadZones(t, 0, t1, 0).depths) all += d.row.length;
    expect(all).toBe(items);
  });

  it('covers every zone of a range once at a level of detail too (merged runs counted)', () => {
    const t0 = store.lastNs * 0.25;
    const t1 = store.lastNs * 0.75;
    const nsPerPx = (t1 - t0) / 3000;
    let want = 0;
    for (const t of store.threadList()) for (const d of queryThreadZones(t, t0, t1, 0).depths) want += d.row.length;
    const pages = allPages(store, t0, t1, nsPerPx, 500);
    let covered = 0;
    for (const page of pages) for (const t of page.threads) for (const d of t.depths) covered += d.count.reduce((a, c) => a + c, 0);
    expect(pages.length).toBeGreaterThan(2);
    expect(covered).toBe(want);
  });

  it('lists the same items, merged runs included, in steps of 100 as the viewport query does at once', async () => {
    const t0 = store.lastNs * 0.1;
    const t1 = store.lastNs * 0.6;
    const nsPerPx = (t1 - t0) / 2000;
    const page = await runInSlices(new ZonePageQuery(store, { t0, t1, nsPerPx }), { sliceUnits: 100 });
    expect(page.cursor).toBeNull();
    const once = store.threadList().map((t) => ({ ...queryThreadZones(t, t0, t1, nsPerPx), name: t.name }));
    expect(page.threads).toEqual(once);
  });

  it('holds at most MAX_ZONE_PAGE_ITEMS items, however many are asked for', () => {
    const page = queryZonePage(store, { t0: 0, t1: store.lastNs, nsPerPx: 0, limit: 10 ** 9 });
    expect(page.items).toBe(Math.min(MAX_ZONE_PAGE_ITEMS, store.zonesEnded));
    expect(page.cursor).not.toBeNull();
  });
});
