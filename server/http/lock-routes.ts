import type { Hono } from 'hono';
import { lockSummariesSliced } from '../query/lock-summary.js';
import { MAX_LOCK_ITEMS, queryLockTracks } from '../query/lock-tracks.js';
import type { QueryGate } from '../query/query-gate.js';
import type { SliceOptions } from '../query/query-slicer.js';
import type { SessionRegistry } from '../session/session-registry.js';
import { streamedResponse } from './encode.js';
import { limitParam, nsPerPxParam, runHeavyQuery } from './query-params.js';
import { rangeOf, sessionOf } from './session-routes.js';

/**
 * Lock routes under /api/sessions (docs/server.md "Locks"):
 * - GET /:id/locks?t0&t1: every lock's figures over the acquisitions starting in the range,
 *   computed in slices through the heavy-query gate like /stats;
 * - GET /:id/locks/intervals?t0&t1&px|nsPerPx[&limit]: the lock zones of a viewport at the
 *   zones' level of detail, at most `limit` items (default and maximum MAX_LOCK_ITEMS): the
 *   REST twin of the live update's `locks`. Its cost is bounded by the limit (and pixels x log
 *   rows per track), so it runs at once.
 */
export function mountLockRoutes(api: Hono, registry: SessionRegistry, o: { gate: QueryGate; slice: SliceOptions }): void {
  api.get('/:id/locks', async (c) => {
    const s = sessionOf(registry, c);
    const { t0, t1 } = rangeOf(c, s);
    const locks = await runHeavyQuery(c, registry, s, o.gate, o.slice, (sl) => lockSummariesSliced(s.store, t0, t1, sl));
    return streamedResponse(c, { t0, t1, locks, unknownLockEvents: s.store.lockLog.unknownLockEvents });
  });

  api.get('/:id/locks/intervals', (c) => {
    const s = sessionOf(registry, c);
    const { t0, t1 } = rangeOf(c, s);
    const nsPerPx = nsPerPxParam(c, t0, t1);
    const limit = limitParam(c, 'limit', MAX_LOCK_ITEMS, MAX_LOCK_ITEMS, 1);
    const r = queryLockTracks(s.store, t0, t1, nsPerPx, limit);
    return streamedResponse(c, { t0, t1, nsPerPx, locks: r.locks, items: r.items, cut: r.cut });
  });
}
