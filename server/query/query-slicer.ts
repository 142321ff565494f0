/**
 * Runs a heavy query (statistics, flame graph, search, messages over a large range) in bounded
 * slices, giving the event loop back between them, so one request over millions of zones never
 * stalls the session list, the ingest sockets or the live viewers.
 *
 * A query is a resumable state machine: `step(units)` does at most about `units` of work (one
 * unit ~ one zone looked at) and says whether it is finished. The same object can run to the end
 * synchronously (the in-process API, the tests' references) or sliced (the HTTP routes).
 */

/** A query that can stop after any step and carry on later from where it was. */
export interface SlicedQuery<T> {
  /** Does at most about `units` units of work; true once the result is complete. */
  step(units: number): boolean;
  /** The result; only after step() returned true. */
  result(): T;
}

export interface SliceOptions {
  /** Milliseconds of work per slice before the event loop gets a turn (default SLICE_MS). */
  sliceMs?: number;
  /**
   * Units of work per slice at most (default SLICE_UNITS), whatever the clock says: a query over
   * N units always yields at least N / sliceUnits times, on any machine.
   */
  sliceUnits?: number;
  /** Checked between slices: an aborted query throws the signal's reason (see QueryCancelledError). */
  signal?: AbortSignal;
}

/** Default milliseconds of work per slice: a few ms, so a concurrent request waits at most that long. */
export const SLICE_MS = 5;
/** Default units per slice: one zone segment's worth of rows (16,384), about 1-3 ms of work. */
export const SLICE_UNITS = 16_384;
/** Units per step between clock reads. */
const STEP_UNITS = 1024;

/** A sliced query stopped because its signal was aborted with a reason that is not an Error. */
export class QueryCancelledError extends Error {
  readonly code = 'ZS_QUERY_CANCELLED';
  constructor(reason: unknown) {
    super(`query cancelled: ${String(reason)}`);
  }
}

/** Resolves on the next turn of the event loop, after pending I/O callbacks (setImmediate). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new QueryCancelledError(signal.reason);
}

/** Runs `query` to the end at once (no yielding): for small inputs and in-process callers. */
export function runToEnd<T>(query: SlicedQuery<T>): T {
  while (!query.step(Number.MAX_SAFE_INTEGER));
  return query.result();
}

/**
 * Runs `query` in slices of at most `sliceMs` ms and `sliceUnits` units, yielding to the event
 * loop (setImmediate) between slices.
 * @throws the abort reason of `options.signal` (an Error) or QueryCancelledError, between slices
 */
export async function runInSlices<T>(query: SlicedQuery<T>, options: SliceOptions = {}): Promise<T> {
  const sliceMs = options.sliceMs ?? SLICE_MS;
  const sliceUnits = Math.max(1, options.sliceUnits ?? SLICE_UNITS);
  const step = Math.min(STEP_UNITS, sliceUnits);
  throwIfAborted(options.signal);
  for (;;) {
    const started = performance.now();
    for (let units = 0; units < sliceUnits; units += step) {
      if (query.step(step)) return query.result();
      if (performance.now() - started >= sliceMs) break;
    }
    await yieldToEventLoop();
    throwIfAborted(options.signal);
  }
}
