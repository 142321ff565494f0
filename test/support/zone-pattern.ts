/**
 * A steady, nested zone pattern for synthetic streams, with its ground truth computable from
 * the iteration number alone (nothing to remember while sending tens of millions of zones).
 * Times are ticks with timerMul 1 and initBegin 0, so ticks are the session's nanoseconds.
 *
 * One iteration k of a thread, at B = k * PERIOD_NS:
 *   depth 0  A  [B +   0, B + 900)
 *   depth 1  B1 [B + 100, B + 400)   B2 [B + 500, B + 800)
 *   depth 2  C  [B + 150, B + 350)
 */
import type { QueueWriter } from '../../protocol/tracy/index.js';
import type { SyntheticNames } from './synthetic-client.js';

export const PERIOD_NS = 1000;
export const ZONES_PER_ITERATION = 4;
export const SRCLOC = { A: 0x1000, B1: 0x1001, C: 0x1002, B2: 0x1003 } as const;

export function declarePatternNames(names: SyntheticNames, threads: readonly number[]): void {
  names.srcloc(SRCLOC.A, 'A', 'tick', 'pattern.cpp', 10);
  names.srcloc(SRCLOC.B1, 'B1', 'update', 'pattern.cpp', 20);
  names.srcloc(SRCLOC.C, 'C', 'inner', 'pattern.cpp', 30);
  names.srcloc(SRCLOC.B2, 'B2', 'render', 'pattern.cpp', 40);
  for (const t of threads) names.threads.set(t, `worker-${t}`);
}

/** Writes iterations [from, to) of `thread`. */
export function writeIterations(q: QueueWriter, thread: number, from: number, to: number): void {
  for (let k = from; k < to; k++) {
    const b = k * PERIOD_NS;
    q.zoneBegin(thread, b, SRCLOC.A);
    q.zoneBegin(thread, b + 100, SRCLOC.B1);
    q.zoneBegin(thread, b + 150, SRCLOC.C);
    q.zoneEnd(thread, b + 350);
    q.zoneEnd(thread, b + 400);
    q.zoneBegin(thread, b + 500, SRCLOC.B2);
    q.zoneEnd(thread, b + 800);
    q.zoneEnd(thread, b + 900);
  }
}

export interface ExpectedZone {
  depth: number;
  startNs: number;
  endNs: number;
  name: string;
}

/** The zones of iterations [from, to), sorted by depth then start. */
export function expectedZones(from: number, to: number): ExpectedZone[] {
  const out: ExpectedZone[] = [];
  for (let k = from; k < to; k++) {
    const b = k * PERIOD_NS;
    out.push({ depth: 0, startNs: b, endNs: b + 900, name: 'A' });
    out.push({ depth: 1, startNs: b + 100, endNs: b + 400, name: 'B1' });
    out.push({ depth: 1, startNs: b + 500, endNs: b + 800, name: 'B2' });
    out.push({ depth: 2, startNs: b + 150, endNs: b + 350, name: 'C' });
  }
  return out.sort((x, y) => x.depth - y.depth || x.startNs - y.startNs);
}
