/**
 * GET /api/sessions/:id/zones followed page by page (its `cursor`) and put back together into
 * one answer of the same shape: every thread once, every depth once with its columns joined
 * in row order. For tests that look at every zone of a session larger than one page.
 */
import type { ServerHandle } from '../../server/serve.js';
import { getJson, type Json } from './server-api.js';

/** Every page of `/zones?QUERY` (QUERY without cursor), merged; `pages` counts the requests made. */
export async function getAllZones(server: ServerHandle | number, id: string, query = 'nsPerPx=0'): Promise<Json> {
  const threads = new Map<number, Json>();
  let cursor: string | null = null;
  let first: Json = null;
  let pages = 0;
  do {
    const page: Json = await getJson(server, `/api/sessions/${id}/zones?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    first ??= page;
    pages++;
    for (const t of page.threads) {
      const merged = threads.get(t.thread);
      if (!merged) {
        threads.set(t.thread, { ...t, depths: t.depths.map((d: Json) => ({ ...d })) });
        continue;
      }
      for (const d of t.depths) {
        const into = merged.depths.find((x: Json) => x.depth === d.depth);
        if (!into) {
          merged.depths.push({ ...d });
          continue;
        }
        for (const key of ['startNs', 'endNs', 'srcloc', 'count', 'row']) into[key] = [...into[key], ...d[key]];
      }
    }
    cursor = page.cursor;
  } while (cursor);
  return { t0: first.t0, t1: first.t1, nsPerPx: first.nsPerPx, threads: [...threads.values()], cursor: null, pages };
}
