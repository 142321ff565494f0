import type { CallstackTable } from '../../protocol/tracy/index.js';
import { runInSlices, type SlicedQuery, type SliceOptions } from '../query/query-slicer.js';
import { StackFrames, stackTotalsSliced, type StackTotals, type StackTotalsOptions } from '../query/stack-query.js';
import type { Session } from '../session/session.js';
import { encodePprof, type PprofStack } from './pprof.js';

/** What one pprof export holds. */
export interface SessionPprof {
  /** gzipped profile.proto */
  bytes: Uint8Array;
  stacks: number;
  /** samples or allocations */
  count: number;
  /** samples or bytes */
  value: number;
  /** samples or allocations in the range without a callstack (not in the profile) */
  withoutStack: { count: number; value: number };
}

/** The profile's stacks, built in slices (one unit per frame) from the totals, Tracy's own tip frames left out like the flame graph. */
class PprofStacksBuild implements SlicedQuery<PprofStack[]> {
  private readonly out: PprofStack[] = [];
  private readonly frames: StackFrames;
  private readonly entries: Iterator<[number, number]>;

  constructor(
    table: CallstackTable,
    private readonly totals: StackTotals,
  ) {
    this.frames = new StackFrames(table);
    this.entries = totals.value.entries();
  }

  step(units: number): boolean {
    for (let left = units; left > 0; ) {
      const next = this.entries.next();
      if (next.done) return true;
      const [cs, value] = next.value;
      const frames = this.frames.appFrames(cs);
      if (frames === null) continue;
      this.out.push({ frames, count: this.totals.count.get(cs) ?? 0, value });
      left -= 1 + frames.length;
    }
    return false;
  }

  result(): PprofStack[] {
    return this.out;
  }
}

/**
 * The pprof profile of a session's stack totals (stack-query.ts): kind cpu (samples in the
 * range; values in ns with the app's sampling period when it sent one), inuse (allocations alive
 * at t1) or alloc (made in the range). At most MAX_CALLSTACKS stacks and MAX_FRAME_ADDRESSES
 * addresses (the decoder's limits), so the profile stays within the encoder's documented bounds.
 * The stacks are gathered in slices; the encoding itself is one call (docs/captures.md, "pprof").
 */
export async function pprofOfTotals(s: Session, totals: StackTotals, slice: SliceOptions = {}): Promise<SessionPprof> {
  const stacks = await runInSlices(new PprofStacksBuild(s.store.callstacks, totals), slice);
  let count = 0;
  let value = 0;
  for (const st of stacks) {
    count += st.count;
    value += st.value;
  }
  const period = totals.kind === 'cpu' && s.welcome ? Number(s.welcome.samplingPeriod) : 0;
  const periodNs = Number.isFinite(period) && period > 0 ? period : 0;
  const comments = [`zonescope session ${s.id}${s.welcome?.programName ? ` (${s.welcome.programName})` : ''}`, `range ${totals.t0}..${totals.t1} ns`];
  if (totals.withoutStack.count > 0) comments.push(`${totals.withoutStack.count} ${totals.kind === 'cpu' ? 'samples' : 'allocations'} without a callstack left out`);
  const bytes = encodePprof({
    kind: totals.kind,
    stacks,
    timeNs: s.startedAt * 1e6 + Math.max(0, totals.t0),
    durationNs: Math.max(0, totals.t1 - totals.t0),
    periodNs,
    comments,
  });
  return { bytes, stacks: stacks.length, count, value, withoutStack: totals.withoutStack };
}

/** The totals and their profile, both in slices. */
export async function sessionPprof(s: Session, o: StackTotalsOptions, slice: SliceOptions = {}): Promise<SessionPprof> {
  return pprofOfTotals(s, await stackTotalsSliced(s.store, o, slice), slice);
}
