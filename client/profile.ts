/**
 * `profile: { cpu, heap }`: starts V8's CPU and sampling heap profilers for a client and streams
 * them as Tracy callstacks (profile-cpu.ts, profile-heap.ts; frames via callstacks.ts, answered
 * through the client's id tables). Node.js main thread only: the frame queries are answered by
 * the main thread's client, which cannot see a worker's frames.
 */
import { FrameTable } from './callstacks.js';
import { CpuSampler } from './profile-cpu.js';
import { HeapSampler } from './profile-heap.js';
import type { ProfileSettings, TracyClient } from './types.js';
import { recorderOf } from './virtual-thread.js';

export { HEAP_POOL } from './profile-heap.js';

interface Resolved {
  cpu: boolean;
  heap: boolean;
  cpuIntervalUs: number;
  heapIntervalBytes: number;
  cpuChunkMs: number;
  heapPollMs: number;
  maxHeapSamples: number;
}

/** @throws TypeError naming the option that is out of range */
export function resolveProfileSettings(o: ProfileSettings): Resolved {
  const r: Resolved = {
    cpu: o.cpu === true,
    heap: o.heap === true,
    cpuIntervalUs: o.cpuIntervalUs ?? 1000,
    heapIntervalBytes: o.heapIntervalBytes ?? 524288,
    cpuChunkMs: o.cpuChunkMs ?? 1000,
    heapPollMs: o.heapPollMs ?? 2000,
    maxHeapSamples: o.maxHeapSamples ?? 100_000,
  };
  const check = (name: keyof Resolved, lo: number, hi: number) => {
    const v = r[name] as number;
    if (!Number.isInteger(v) || v < lo || v > hi) throw new TypeError(`profile.${name} must be an integer in [${lo}, ${hi}], not ${v}`);
  };
  check('cpuIntervalUs', 100, 100_000);
  check('heapIntervalBytes', 1024, 2 ** 30);
  check('cpuChunkMs', 20, 10_000);
  check('heapPollMs', 50, 60_000);
  check('maxHeapSamples', 1, 1_000_000);
  return r;
}

/**
 * Starts the profilers `settings` asks for, writing into `tracy` (an SDK-made client).
 * @returns stop(): sends what was sampled since the last chunk/poll and stops (idempotent);
 *   null when nothing was started (both off, or a client the SDK did not make)
 * @throws TypeError for settings out of range
 */
export function startProfiling(tracy: TracyClient, settings: ProfileSettings): (() => Promise<void>) | null {
  const o = resolveProfileSettings(settings);
  const rec = recorderOf(tracy);
  if (rec === null || (!o.cpu && !o.heap)) return null;
  const frames = (rec.ids.callstackFrames ??= new FrameTable());
  const cpu = o.cpu ? new CpuSampler(rec, tracy, frames, o.cpuIntervalUs, o.cpuChunkMs) : null;
  const heap = o.heap ? new HeapSampler(rec, tracy, frames, o.heapIntervalBytes, o.heapPollMs, o.maxHeapSamples) : null;
  return async () => {
    await Promise.all([cpu?.stop(), heap?.stop()]);
  };
}
