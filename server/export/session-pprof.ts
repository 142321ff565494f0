import type { StackFrame } from '../../protocol/view/types.js';
import type { SliceOptions } from '../query/query-slicer.js';
import { callstackFrames, isProfilerFrame, stackTotalsSliced, type StackTotals, type StackTotalsOptions } from '../query/stack-query.js';
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

/** A stack's frames for a profile: the profiler's own frames at the innermost end left out, like the flame graph. */
function appFrames(all: StackFrame[]): StackFrame[] {
  let inner = 0;
  while (inner < all.length - 1 && isProfilerFrame(all[inner]!)) inner++;
  return all.slice(inner);
}

/**
 * The pprof profile of a session's stack totals (stack-query.ts): kind cpu (samples in the
 * range; values in ns with the app's sampling period when it sent one), inuse (allocations alive
 * at t1) or alloc (made in the range). At most MAX_CALLSTACKS stacks and MAX_FRAME_ADDRESSES
 * addresses (the decoder's limits), so the profile stays within the encoder's documented bounds.
 */
export function pprofOfTotals(s: Session, totals: StackTotals): SessionPprof {
  const table = s.store.callstacks;
  const stacks: PprofStack[] = [];
  let count = 0;
  let value = 0;
  for (const [cs, v] of totals.value) {
    const frames = callstackFrames(table, cs);
    if (frames === null) continue;
    const n = totals.count.get(cs) ?? 0;
    stacks.push({ frames: appFrames(frames), count: n, value: v });
    count += n;
    value += v;
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

/** The totals (sliced) and their profile. */
export async function sessionPprof(s: Session, o: StackTotalsOptions, slice: SliceOptions = {}): Promise<SessionPprof> {
  return pprofOfTotals(s, await stackTotalsSliced(s.store, o, slice));
}
