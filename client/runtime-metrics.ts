/**
 * Runtime metrics for Node.js, the twin of Go's MemStats dashboards (Node.js only: perf_hooks,
 * process.memoryUsage, node:v8):
 *
 *   memory plots                      bytes (memory format), every intervalMs, all points of a
 *                                     sample at one time: rss, heapTotal, heapUsed, external,
 *                                     arrayBuffers, "v8 <space> size"/"used" per V8 heap space,
 *                                     "v8 heap available", "v8 malloced" and the derived
 *                                     "rss - heapTotal - external" (memory-anatomy.ts)
 *   plot "event loop delay (ms)"      the longest event-loop delay in each interval, milliseconds
 *                                     (how late a 10 ms timer ran: see LoopDelay)
 *   zones on thread "GC"              one per GC pause (PerformanceObserver 'gc' entries), named
 *                                     "GC minor", "GC major", "GC incremental" or "GC weakcb"
 *                                     after detail.kind; the text lists detail.flags if any
 *
 * Usage: `const stop = startRuntimeMetrics(tracy)` after connect(); stop() ends the sampling
 * (it also ends on its own when the session ends). Sampling runs on unreferenced timers: it
 * never keeps the process alive. Cost per interval: 10-30 us of sampling (mostly
 * memoryUsage()) and 26 plot points (~650 bytes before compression; memory-anatomy.ts has the
 * figures), plus a timer callback every 10 ms and ~40 bytes per GC pause.
 *
 * GC pauses are reported after they end, with their start time, so they go on a virtual thread
 * of their own (virtual-thread.ts) where zones can carry explicit times. In a worker thread the
 * plots are prefixed "worker N " and the GC thread is "GC worker N" (each thread has its own
 * heap, event loop and collector; rss is the process's).
 */
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import { nowNs } from './clock.js';
import { MemorySampler } from './memory-anatomy.js';
import type { RuntimeMetricsSettings, TracyClient } from './types.js';
import { recorderOf, VirtualThread } from './virtual-thread.js';

/** The options (documented with the type in types.ts, so connect() can take them too). */
export type RuntimeMetricsOptions = RuntimeMetricsSettings;

export { HEAP_AVAILABLE_PLOT, heapSpacePlots, MALLOCED_PLOT, MEMORY_PLOTS, UNEXPLAINED_RSS_PLOT } from './memory-anatomy.js';
export const EVENT_LOOP_DELAY_PLOT = 'event loop delay (ms)';

/** perf_hooks GC kinds (detail.kind) -> zone name and colour (0xRRGGBB). */
const GC_KINDS: ReadonlyArray<[kind: number, name: string, color: number]> = [
  [constants.NODE_PERFORMANCE_GC_MINOR, 'GC minor', 0xe0c040],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'GC major', 0xe04030],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'GC incremental', 0xe08030],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'GC weakcb', 0xa060c0],
];

/** perf_hooks GC flags (detail.flags), as the zone text lists them. */
const GC_FLAGS: ReadonlyArray<[flag: number, text: string]> = [
  [constants.NODE_PERFORMANCE_GC_FLAGS_CONSTRUCT_RETAINED, 'construct retained'],
  [constants.NODE_PERFORMANCE_GC_FLAGS_FORCED, 'forced'],
  [constants.NODE_PERFORMANCE_GC_FLAGS_SYNCHRONOUS_PHANTOM_PROCESSING, 'synchronous phantom processing'],
  [constants.NODE_PERFORMANCE_GC_FLAGS_ALL_AVAILABLE_GARBAGE, 'all available garbage'],
  [constants.NODE_PERFORMANCE_GC_FLAGS_ALL_EXTERNAL_MEMORY, 'all external memory'],
  [constants.NODE_PERFORMANCE_GC_FLAGS_SCHEDULE_IDLE, 'schedule idle'],
];

/** Period of the event-loop delay timer, ms (monitorEventLoopDelay's default resolution). */
const LOOP_RESOLUTION_MS = 10;

/**
 * Event-loop delay the way perf_hooks.monitorEventLoopDelay measures it (a repeating timer of
 * LOOP_RESOLUTION_MS; the delay is how much longer than that the gap between two of its runs
 * was), but with the maximum kept per sampling interval in JS. monitorEventLoopDelay cannot give
 * a per-interval maximum without reset(), and reset() forgets the time of its last tick, so the
 * gap spanning the reset is never recorded: a stall that starts right after a sample (an app's
 * timer firing in the same timers phase as ours) would never show (measured on Node 20.20).
 * Cost: one timer callback every 10 ms.
 */
class LoopDelay {
  private lastMs = performance.now();
  private maxMs = 0;
  private readonly timer = setInterval(() => this.tick(), LOOP_RESOLUTION_MS);

  constructor() {
    this.timer.unref();
  }

  /** The longest delay since the last call, ms (0 when the loop ran on time). */
  take(): number {
    const max = this.maxMs;
    this.maxMs = 0;
    return max;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = performance.now();
    const delay = now - this.lastMs - LOOP_RESOLUTION_MS;
    if (delay > this.maxMs) this.maxMs = delay;
    this.lastMs = now;
  }
}

/**
 * Starts sampling runtime metrics into `tracy`: memory plots and event-loop delay every
 * intervalMs (the first sample right away), GC pauses as zones on the "GC" thread.
 * @returns stop(): ends the sampling (idempotent)
 * @throws TypeError for an intervalMs out of range
 */
export function startRuntimeMetrics(tracy: TracyClient, options: RuntimeMetricsOptions = {}): () => void {
  const intervalMs = options.intervalMs ?? 100;
  if (!(intervalMs >= 10 && intervalMs <= 60_000)) throw new TypeError(`runtimeMetrics intervalMs must be in [10, 60000], not ${intervalMs}`);
  const prefix = options.plotPrefix ?? (threadId === 0 ? '' : `worker ${threadId} `);
  const memory = options.memory === false ? null : new MemorySampler(tracy, { prefix, heapSpaces: options.heapSpaces !== false });
  const loopName = prefix + EVENT_LOOP_DELAY_PLOT;

  let loop: LoopDelay | null = null;
  let firstSample = true;
  if (options.eventLoopDelay !== false) {
    loop = new LoopDelay();
    tracy.plotConfig(loopName, { format: 'number' });
  }
  const gc = options.gc === false ? null : observeGc(tracy, options.gcThreadName ?? (threadId === 0 ? 'GC' : `GC worker ${threadId}`));

  let stopped = false;
  const live = () => !stopped && (tracy.state === 'connected' || tracy.state === 'waiting');
  const sample = () => {
    if (!live()) return;
    memory?.sample();
    // The first sample comes before the delay timer ever ran: it would say 0 for no reason.
    if (loop !== null && !firstSample) tracy.plot(loopName, loop.take());
    firstSample = false;
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  sample();

  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    loop?.stop();
    gc?.disconnect();
  };
  void tracy.closed.then(stop);
  return stop;
}

/**
 * Writes every GC pause as a zone on a virtual thread. PerformanceEntry times are
 * performance.now() milliseconds; the SDK's clock is the same reading in ns plus this thread's
 * offset to the main thread's time line (workers), taken once here.
 * @returns the observer, or null when the client has no recorder to write through
 */
function observeGc(tracy: TracyClient, threadName: string): PerformanceObserver | null {
  const rec = recorderOf(tracy);
  if (rec === null) return null;
  const thread = new VirtualThread(rec, tracy, threadName);
  const srclocs = new Map<number, number>();
  for (const [kind, name, color] of GC_KINDS) srclocs.set(kind, thread.sourceLocation(name, 'V8 garbage collector', 'v8', color));
  const other = thread.sourceLocation('GC', 'V8 garbage collector', 'v8', 0xe0a040);
  const offsetNs = nowNs() - Math.round(performance.now() * 1e6);

  const observer = new PerformanceObserver((list) => {
    if (tracy.state !== 'connected' && tracy.state !== 'waiting') return;
    for (const entry of list.getEntries()) {
      const { kind, flags } = gcDetail(entry);
      const startNs = Math.round(entry.startTime * 1e6) + offsetNs;
      thread.zone(srclocs.get(kind) ?? other, startNs, startNs + Math.round(entry.duration * 1e6), flagsText(flags));
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return observer;
}

function gcDetail(entry: PerformanceEntry): { kind: number; flags: number } {
  const d = entry.detail as { kind?: unknown; flags?: unknown } | null | undefined;
  const kind = typeof d?.kind === 'number' ? d.kind : 0;
  const flags = typeof d?.flags === 'number' ? d.flags : 0;
  return { kind, flags };
}

/** "forced, all available garbage", or undefined when no flag is set. */
function flagsText(flags: number): string | undefined {
  if (flags === 0) return undefined;
  const names: string[] = [];
  for (const [flag, text] of GC_FLAGS) if ((flags & flag) !== 0) names.push(text);
  return names.length > 0 ? names.join(', ') : `flags ${flags}`;
}
