import { FrameMarkKind, PlotKind, QueueType, type QueueWriter, type WelcomeMessage } from '../../protocol/tracy/index.js';

/**
 * A synthetic app workload written with our encoder, shaped like the real stress recording
 * (../shared/fixtures/tracy/README.md): worker threads running bursts of small nested zones
 * once per millisecond, a main thread with a Tick zone, a frame mark and two plots per
 * millisecond. Deltas between zone events are tens to thousands of ticks, so the 16-bit
 * ZoneBegin16/ZoneEnd16 forms dominate as in real Tracy streams; a rare long leaf and the
 * 1 ms gap between bursts give 32-bit forms, and every ThreadContext a 64-bit one.
 *
 * The real client drains each thread's queue in batches (stress: ~2,400 zones per thread
 * switch), so the stream holds CHUNK_MS milliseconds of one thread before switching.
 *
 * It carries the answers to every query a receiver sends (source locations, their strings,
 * thread and plot names) right after the first chunk. The benchmarks encode it into a client
 * stream (bench/synthetic-stream.ts); the server walks a small one at start to warm up its
 * decoder (warm-up.ts).
 */

/** Nanoseconds per tick, as on the machine that recorded the fixtures (invariant TSC). */
const TIMER_MUL = 0.476;
const TICKS_PER_MS = Math.round(1e6 / TIMER_MUL);
const INIT_BEGIN = 500_000_000_000;
const CHUNK_MS = 8;
const ITERATIONS_PER_BURST = 100;

const MAIN = 1000;
const WORKERS = [1001, 1002, 1003];

/** Static source locations: pointers the app answers SourceLocation queries for. */
const SRCLOC_BASE = 0x5555_0000_1000;
const STRING_BASE = 0x5555_0010_0000;
const FILE_PTR = STRING_BASE;
const FN_WORKER_PTR = STRING_BASE + 0x40;
const FN_MAIN_PTR = STRING_BASE + 0x80;
const PLOT_INT_PTR = STRING_BASE + 0x100;
const PLOT_DOUBLE_PTR = STRING_BASE + 0x140;

interface Srcloc {
  ptr: number;
  name: string;
  namePtr: number;
  fnPtr: number;
  line: number;
  rgb: number;
}

const SRCLOCS: Srcloc[] = ['S0', 'S1', 'S2', 'S3', 'S4', 'Tick', 'Update'].map((name, i) => ({
  ptr: SRCLOC_BASE + i * 32,
  name,
  namePtr: STRING_BASE + 0x1000 + i * 0x20,
  fnPtr: i < 5 ? FN_WORKER_PTR : FN_MAIN_PTR,
  line: 10 + i,
  rgb: 0,
}));
const [S0, S1, S2, S3, S4, TICK, UPDATE] = SRCLOCS.map((s) => s.ptr) as [number, number, number, number, number, number, number];

const STRINGS = new Map<number, string>([
  [FILE_PTR, 'bench/synthetic_app.cpp'],
  [FN_WORKER_PTR, 'WorkerLoop'],
  [FN_MAIN_PTR, 'main'],
  ...SRCLOCS.map((s) => [s.namePtr, s.name] as [number, string]),
]);

/** mulberry32: a tiny seeded PRNG, so the stream is the same on every run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The welcome of the synthetic app. */
export function syntheticWelcome(): WelcomeMessage {
  return {
    timerMul: TIMER_MUL,
    initBegin: BigInt(INIT_BEGIN),
    initEnd: BigInt(INIT_BEGIN + 1000),
    resolution: 10n,
    epoch: 1_780_000_000n,
    exectime: 1_780_000_000n,
    pid: 4242n,
    samplingPeriod: 0n,
    flags: 0,
    cpuArch: 2,
    cpuManufacturer: 'Bench',
    cpuId: 0,
    programName: 'synthetic_app',
    hostInfo: 'zonescope bench: synthetic stream',
  };
}

/** What a workload wrote. */
export interface WorkloadCounts {
  /** Zones begun (every one ends). */
  zones: number;
  threads: number;
  frameMarks: number;
  plotPoints: number;
  /** Milliseconds of app time covered. */
  appMs: number;
}

/**
 * Writes at least `targetZones` zones into `q`, in whole chunks of CHUNK_MS milliseconds (so
 * every thread has data up to the end), with the query answers after the first chunk.
 */
export function writeSyntheticWorkload(q: QueueWriter, targetZones: number, seed = 1): WorkloadCounts {
  const rand = mulberry32(seed);
  /** An integer in [lo, hi). */
  const between = (lo: number, hi: number) => lo + ((rand() * (hi - lo)) | 0);
  let zones = 0;
  let frameMarks = 0;
  let plotPoints = 0;
  let ms = 0;
  let first = true;
  const lastTicks = WORKERS.map(() => 0);
  while (zones < targetZones) {
    const chunkStart = ms;
    for (let w = 0; w < WORKERS.length; w++) {
      const thread = WORKERS[w]!;
      for (let m = chunkStart; m < chunkStart + CHUNK_MS; m++) {
        // a burst starts on its millisecond, or right after the previous one if that overran
        let t = Math.max(INIT_BEGIN + m * TICKS_PER_MS + between(1000, 20000) + w * 3000, lastTicks[w]! + 100);
        for (let i = 0; i < ITERATIONS_PER_BURST; i++) {
          // The very first iteration uses every optional zone, so every source location
          // is met in the first chunk, before the replies.
          const withS4 = (first && i === 0) || rand() < 0.25;
          const withS3 = (first && i === 0) || rand() < 0.5;
          q.zoneBegin(thread, (t += between(20, 200)), S0);
          q.zoneBegin(thread, (t += between(10, 100)), S1);
          q.zoneBegin(thread, (t += between(10, 60)), S2);
          if (withS4) {
            q.zoneBegin(thread, (t += between(5, 40)), S4);
            q.zoneEnd(thread, (t += between(30, 800)));
          }
          // one leaf in 4096 runs long: its end needs the 32-bit form
          q.zoneEnd(thread, (t += rand() < 1 / 4096 ? between(70_000, 400_000) : between(30, 1500)));
          if (withS3) {
            q.zoneBegin(thread, (t += between(10, 80)), S3);
            q.zoneEnd(thread, (t += between(30, 1500)));
          }
          q.zoneEnd(thread, (t += between(10, 100)));
          q.zoneEnd(thread, (t += between(10, 50)));
          zones += 3 + (withS4 ? 1 : 0) + (withS3 ? 1 : 0);
        }
        lastTicks[w] = t;
      }
    }
    for (let m = chunkStart; m < chunkStart + CHUNK_MS; m++) {
      const t = INIT_BEGIN + m * TICKS_PER_MS;
      q.frameMark(FrameMarkKind.Continuous, 0, t);
      frameMarks++;
      q.zoneBegin(MAIN, t + 50, TICK);
      q.zoneBegin(MAIN, t + 120, UPDATE);
      q.plot(MAIN, PLOT_INT_PTR, t + 300, m * 7, PlotKind.Int);
      q.plot(MAIN, PLOT_DOUBLE_PTR, t + 320, Math.sin(m / 100), PlotKind.Double);
      plotPoints += 2;
      q.zoneEnd(MAIN, t + 120 + between(2000, 40000));
      q.zoneEnd(MAIN, t + 50000 + between(0, 5000));
      zones += 2;
    }
    ms += CHUNK_MS;
    if (first) {
      writeReplies(q);
      first = false;
    }
  }
  return { zones, threads: WORKERS.length + 1, frameMarks, plotPoints, appMs: ms };
}

/**
 * The answers, in the order a receiver asks: SourceLocation replies match the queries FIFO
 * (the order in which the zones first used them: S0, S1, S2, S4, S3 on the first worker,
 * then Tick and Update on main); strings, thread and plot names are keyed.
 */
function writeReplies(q: QueueWriter): void {
  const firstUse = [S0, S1, S2, S4, S3, TICK, UPDATE];
  for (const ptr of firstUse) {
    const s = SRCLOCS.find((x) => x.ptr === ptr)!;
    q.sourceLocation(s.namePtr, s.fnPtr, FILE_PTR, s.line, s.rgb);
  }
  for (const [ptr, text] of STRINGS) q.stringData(QueueType.StringData, ptr, text);
  for (let w = 0; w < WORKERS.length; w++) q.threadName(WORKERS[w]!, `Worker-${w}`);
  q.threadName(MAIN, 'Main thread');
  q.stringData(QueueType.PlotName, PLOT_INT_PTR, 'synthetic_int');
  q.stringData(QueueType.PlotName, PLOT_DOUBLE_PTR, 'synthetic_double');
}
