/**
 * CPU samples from V8's profiler (node:inspector, in-process Session) streamed as Tracy
 * CallstackSample items (docs/client.md "Profiling").
 *
 * Why stop + start every cpuChunkMs: the inspector's Profiler domain has no way to read samples
 * while a profile runs. Profiler.stop is the only call that returns them (takePreciseCoverage
 * returns coverage counts, not samples; consoleProfileFinished is console.profileEnd's copy of
 * a stopped profile). So each chunk is a profile of its own: stop (returns the chunk's node
 * tree, samples and time deltas), start again at once, then convert. The restart gap (tens of
 * us) loses no more than a sample per chunk. An addon (e.g. a native CpuProfiler binding) could
 * stream without restarts, but would need a compiler at install time and ABI builds per Node
 * release; the measured cost of this one (docs/PERFORMANCE.md) is inside the 5 % target.
 *
 * Times: V8's profile timestamps are microseconds of its monotonic clock, which on Linux and
 * macOS is the clock libuv's hrtime (and so performance.now(), the SDK's clock) reads. The shift
 * between the two is measured once; a chunk whose end lands later than "now" or more than 10 s
 * before it (another clock) is shifted to end now instead (counted in `clockFixes`).
 *
 * Bounded: at most 4x the expected samples of a chunk are sent (at least 64); the rest, and
 * samples that do not fit the client's buffer, are counted in stats.profileDropped. Samples in
 * V8's "(idle)" node (the thread waiting in the event loop) are not sent: Tracy's samples show
 * where a running thread spends time.
 */
import { Session } from 'node:inspector';
import { nowNs } from './clock.js';
import { FrameTable, ProfileTree, type V8CallFrame } from './callstacks.js';
import type { Recorder } from './recorder.js';
import type { TracyClient } from './types.js';

/** What Profiler.stop returns (the parts used). */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: V8CallFrame; children?: number[] }>;
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Bytes one sample takes at most: payload header, MAX_STACK_DEPTH addresses, the sample item. */
const SAMPLE_BYTES = 11 + 8 * 128 + 13;
/** A chunk's end this far before "now" means V8's clock is not ours. */
const CLOCK_SLACK_NS = 10e9;

export class CpuSampler {
  /** Chunks whose times were shifted because V8's clock did not match ours. */
  clockFixes = 0;
  private readonly session = new Session();
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly shiftNs: number;
  private readonly maxPerChunk: number;
  private running = true;
  private pending: Promise<void> = Promise.resolve();

  /**
   * Starts sampling at once.
   * @param intervalUs sampling interval, us
   * @param chunkMs how often samples are taken out and sent, ms
   */
  constructor(
    private readonly rec: Recorder,
    private readonly tracy: TracyClient,
    private readonly frames: FrameTable,
    intervalUs: number,
    chunkMs: number,
  ) {
    this.maxPerChunk = Math.max(64, Math.ceil((4 * chunkMs * 1000) / intervalUs));
    this.shiftNs = nowNs() - Number(process.hrtime.bigint());
    this.session.connect();
    this.session.post('Profiler.enable');
    this.session.post('Profiler.setSamplingInterval', { interval: intervalUs });
    this.session.post('Profiler.start');
    this.timer = setInterval(() => void this.chunk(true), chunkMs);
    this.timer.unref();
  }

  /** Sends the samples taken so far and stops the profiler (idempotent). */
  stop(): Promise<void> {
    if (!this.running) return this.pending;
    this.running = false;
    clearInterval(this.timer);
    const last = this.chunk(false).finally(() => this.session.disconnect());
    this.pending = last;
    return last;
  }

  /** Stops the running profile, restarts it when `restart`, and writes the stopped one's samples. */
  private chunk(restart: boolean): Promise<void> {
    const done = new Promise<void>((resolve) => {
      this.session.post('Profiler.stop', (err, result) => {
        if (err === null && result !== undefined) this.write(result.profile as unknown as CpuProfile);
        resolve();
      });
    });
    if (restart) this.session.post('Profiler.start');
    return done;
  }

  private write(p: CpuProfile): void {
    const rec = this.rec;
    const samples = p.samples ?? [];
    const deltas = p.timeDeltas ?? [];
    const live = this.tracy.state === 'connected' || this.tracy.state === 'waiting';
    // Nodes list their children; the tree wants parents.
    const parentOf = new Map<number, number>();
    let root = -1;
    for (const n of p.nodes) {
      if (root < 0 && n.callFrame.functionName === '(root)') root = n.id;
      for (const c of n.children ?? []) parentOf.set(c, n.id);
    }
    const tree = new ProfileTree(this.frames, root);
    for (const n of p.nodes) tree.node(n.id, n.callFrame, parentOf.get(n.id) ?? -1);
    let shift = this.shiftNs;
    const now = nowNs();
    const endNs = p.endTime * 1000 + shift;
    if (endNs > now + 1e6 || endNs < now - CLOCK_SLACK_NS) {
      shift = now - p.endTime * 1000;
      this.clockFixes++;
    }
    const tid = rec.thread.tid;
    let t = p.startTime;
    let sent = 0;
    for (let i = 0; i < samples.length; i++) {
      t += deltas[i] ?? 0;
      const id = samples[i]!;
      if (id === root || tree.functionName(id) === '(idle)') continue;
      if (!live || sent >= this.maxPerChunk || !rec.canRecord(SAMPLE_BYTES)) {
        rec.profileDropped++;
        continue;
      }
      const stack = tree.stack(id);
      if (stack.length === 0) continue;
      rec.w.callstackSample(tid, Math.round(t * 1000 + shift), stack, stack.length);
      rec.profileSamples++;
      sent++;
    }
  }
}
