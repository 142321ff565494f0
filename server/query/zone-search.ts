import type { SessionStore } from '../store/session-store.js';
import { walkThreadZones } from './zone-walk.js';
import type { RangeOptions } from './zone-stats.js';
import type { ZoneMatch, ZoneSearchResult } from '../../protocol/view/types.js';

/** Zone search results (the shape the viewer receives: protocol/view/types.ts). */
export type { ZoneMatch, ZoneSearchResult };

export function searchZones(store: SessionStore, query: string, options: RangeOptions & { limit?: number; buckets?: number } = {}): ZoneSearchResult {
  const q = query.toLowerCase();
  const wanted = new Set<number>();
  for (let i = 0; i < store.srclocs.count; i++) {
    // the name the user sees, as in Tracy's Find Zone: matching the function of a named zone
    // too would make "physics" find every zone written inside PatternA_Physics()
    if (store.srclocs.displayName(i, store.names.strings).toLowerCase().includes(q)) wanted.add(i);
  }
  const limit = options.limit ?? 1000;
  const counts = new Map<number, number>();
  const matches: ZoneMatch[] = [];
  const durations: number[] = [];
  if (wanted.size > 0) {
    for (const thread of store.threads.values()) {
      if (options.threads && !options.threads.includes(thread.id)) continue;
      walkThreadZones(thread, options.t0 ?? -Infinity, options.t1 ?? Infinity, (depth, row, s, dur, _self, srcloc) => {
        if (!wanted.has(srcloc)) return;
        counts.set(srcloc, (counts.get(srcloc) ?? 0) + 1);
        durations.push(dur);
        matches.push({ thread: thread.id, depth, row, srcloc, startNs: s, durNs: dur });
      });
    }
  }
  matches.sort((a, b) => a.startNs - b.startNs);
  return {
    query,
    srclocs: [...wanted].map((srcloc) => ({ srcloc, name: store.srclocs.displayName(srcloc, store.names.strings), count: counts.get(srcloc) ?? 0 })),
    total: durations.length,
    matches: matches.slice(0, limit),
    histogram: logHistogram(durations, options.buckets ?? 40),
  };
}

function logHistogram(values: number[], buckets: number): { edgesNs: number[]; counts: number[] } {
  if (values.length === 0) return { edgesNs: [], counts: [] };
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const lo = Math.log(Math.max(1, min));
  const hi = Math.log(Math.max(2, max + 1));
  const step = (hi - lo) / buckets || 1;
  const edges: number[] = [];
  for (let i = 0; i <= buckets; i++) edges.push(Math.exp(lo + i * step));
  const counts = new Array<number>(buckets).fill(0);
  for (const v of values) {
    const i = Math.min(buckets - 1, Math.max(0, Math.floor((Math.log(Math.max(1, v)) - lo) / step)));
    counts[i]!++;
  }
  return { edgesNs: edges, counts };
}
