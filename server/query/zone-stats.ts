import type { SessionStore } from '../store/session-store.js';
import { F64List } from './growable.js';
import { walkThreadZones } from './zone-walk.js';
import type { SrclocStats } from '../../protocol/view/types.js';

/** Statistics of one source location over a range, times in ns (the shape the viewer receives: protocol/view/types.ts). */
export type { SrclocStats };

export interface RangeOptions {
  t0?: number;
  t1?: number;
  /** only these app thread ids */
  threads?: number[];
}

/** Every source location's statistics over zones that start in [t0, t1] (default: all). */
export function zoneStatistics(store: SessionStore, options: RangeOptions = {}): SrclocStats[] {
  const t0 = options.t0 ?? -Infinity;
  const t1 = options.t1 ?? Infinity;
  const durations = new Map<number, F64List>();
  const self = new Map<number, number>();
  for (const thread of store.threads.values()) {
    if (options.threads && !options.threads.includes(thread.id)) continue;
    walkThreadZones(thread, t0, t1, (_d, _r, _s, dur, selfNs, srcloc) => {
      let list = durations.get(srcloc);
      if (!list) {
        list = new F64List(64);
        durations.set(srcloc, list);
      }
      list.push(dur);
      self.set(srcloc, (self.get(srcloc) ?? 0) + selfNs);
    });
  }
  const out: SrclocStats[] = [];
  for (const [srcloc, list] of durations) {
    const d = list.view().slice().sort();
    let total = 0;
    for (let i = 0; i < d.length; i++) total += d[i]!;
    const n = d.length;
    out.push({
      srcloc,
      name: store.srclocs.displayName(srcloc, store.names.strings),
      function: store.srclocs.functionName(srcloc, store.names.strings),
      file: store.srclocs.fileName(srcloc, store.names.strings),
      line: store.srclocs.line[srcloc] ?? 0,
      color: store.srclocs.color[srcloc] ?? 0,
      count: n,
      totalNs: total,
      selfNs: self.get(srcloc) ?? 0,
      minNs: d[0]!,
      meanNs: total / n,
      medianNs: n % 2 ? d[n >> 1]! : (d[(n >> 1) - 1]! + d[n >> 1]!) / 2,
      p90Ns: percentile(d, 0.9),
      p99Ns: percentile(d, 0.99),
      maxNs: d[n - 1]!,
    });
  }
  out.sort((a, b) => b.totalNs - a.totalNs);
  return out;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1]!;
}
