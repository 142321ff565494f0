/**
 * One fuzz run: the in-process phase, then the socket phase against a real server in this
 * process, both seeded and bounded by count and by time; uncaught exceptions and unhandled
 * rejections during the run count as crashes of the stream (or batch) running at the time.
 */
import type { SessionTransport } from '../server/session/session.js';
import { SessionRegistry } from '../server/session/session-registry.js';
import { endOf, fuzzInProcess } from './in-process.js';
import { loadInputs, type FuzzInputs } from './inputs.js';
import { fuzzOverSockets } from './over-sockets.js';
import { FuzzStats, MemoryPeaks, summaryLine } from './stats.js';
import { Watchdog } from './watchdog.js';

export interface FuzzOptions {
  /** Seed of the whole run (default 1). */
  seed?: number;
  /** In-process streams (default 100,000), starting at index `start` (default 0). */
  count?: number;
  start?: number;
  /** Streams over sockets (default 1,000), starting at index `socketStart` (default 0). */
  socketCount?: number;
  socketStart?: number;
  /**
   * Wall-clock bound of the run, seconds (default 900): no stream starts after it; the
   * in-process phase stops at 85% of it, so the socket phase gets the rest.
   */
  timeS?: number;
  /** A stream not done within this many ms is a hang (default 5000). */
  hangMs?: number;
  /** Socket streams in flight at once (default 4) and per server check (default 50). */
  concurrency?: number;
  batch?: number;
  /** Memory budget of the in-process shared registry (default 4 MiB: it evicts all the time) and of the server (default 64 MiB). */
  sharedBudgetBytes?: number;
  serverMemoryBytes?: number;
  /**
   * Kill the process when the event loop stays blocked for this many ms (a synchronous hang no
   * timer can see); default 4 x hangMs; 0 = no watchdog (tests).
   */
  stallMs?: number;
  /** Progress lines (about every 10 s). */
  progress?: (line: string) => void;
}

export interface FuzzReport {
  seed: number;
  stats: FuzzStats;
  memory: MemoryPeaks;
  elapsedMs: number;
  /** Zones the unmutated control stream decodes to. */
  controlZones: number;
  /** What was mutated, e.g. "small, medium (from DIR), 33 Chrome files". */
  inputs: string;
  /** The one-line summary. */
  summary: string;
  /** No crash and no hang. */
  ok: boolean;
}

const MiB = 2 ** 20;

/** Runs the fuzzer. @throws Error when the recordings are missing */
export async function runFuzz(options: FuzzOptions = {}): Promise<FuzzReport> {
  const seed = options.seed ?? 1;
  const hangMs = options.hangMs ?? 5000;
  const started = performance.now();
  const timeMs = (options.timeS ?? 900) * 1000;
  const deadlineMs = started + timeMs;
  const inputs = loadInputs();
  const controlZones = await decodeControl(inputs);
  const stats = new FuzzStats();
  const memory = new MemoryPeaks();
  let current = 'setup';
  const onUncaught = (err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    stats.crashes++;
    stats.fail(current, `crash: uncaught ${e.name}: ${e.message}`, e.stack);
  };
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  const stallMs = options.stallMs ?? 4 * hangMs;
  const watchdog = stallMs > 0 ? new Watchdog(stallMs) : null;
  watchdog?.start();
  memory.start();
  let lastProgress = started;
  const progress = (what: string) => {
    const now = performance.now();
    if (!options.progress || now - lastProgress < 10_000) return;
    lastProgress = now;
    options.progress(`fuzz: ${what}, ${stats.crashes} crashes, ${stats.hangs} hangs, RSS ${(process.memoryUsage.rss() / MiB).toFixed(0)} MiB, ${((now - started) / 1000).toFixed(0)} s`);
  };
  const beforeStream = (label: string) => {
    current = label;
    watchdog?.stream(label);
  };
  try {
    const count = options.count ?? 100_000;
    await fuzzInProcess(
      inputs,
      // the socket phase comes second: a time limit leaves it the last 15%
      { seed, start: options.start ?? 0, count, deadlineMs: started + 0.85 * timeMs, hangMs, sharedBudgetBytes: options.sharedBudgetBytes ?? 4 * MiB, sharedMaxEnded: 32 },
      stats,
      memory,
      { beforeStream, progress: (done) => progress(`${done}/${count} in-process`) },
    );
    stats.inProcessPeakRssBytes = memory.rssBytes;
    const socketCount = options.socketCount ?? 1000;
    if (socketCount > 0) {
      await fuzzOverSockets(
        inputs,
        {
          seed,
          start: options.socketStart ?? 0,
          count: socketCount,
          deadlineMs,
          hangMs,
          concurrency: options.concurrency ?? 4,
          batch: options.batch ?? 50,
          memoryBytes: options.serverMemoryBytes ?? 64 * MiB,
          controlZones,
        },
        stats,
        memory,
        (label) => {
          beforeStream(label);
          progress(`${stats.socketStreams}/${socketCount} over sockets`);
        },
      );
    }
    // a rejection or exception from the last streams' leftovers surfaces on a later turn
    await new Promise<void>((r) => setImmediate(r));
  } finally {
    memory.stop();
    await watchdog?.stop();
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
  }
  const elapsedMs = performance.now() - started;
  const used = `${inputs.recordings.map((r) => r.name).join(', ')} (from ${inputs.recordingDir}), ${inputs.chrome.length} Chrome JSON files`;
  return { seed, stats, memory, elapsedMs, controlZones, inputs: used, summary: summaryLine(seed, stats, memory, elapsedMs), ok: stats.crashes === 0 && stats.hangs === 0 };
}

/**
 * Zones of the unmutated small recording, decoded the way the fuzzed streams are: what the
 * socket phase's control sessions must end with.
 * @throws Error when the recording does not decode cleanly (then nothing else can be judged)
 */
async function decodeControl(inputs: FuzzInputs): Promise<number> {
  const registry = new SessionRegistry();
  const transport: SessionTransport = { write() {}, close() {}, pause() {}, resume() {} };
  const session = registry.create(transport, 'fuzz', 'control');
  session.start();
  session.receive(inputs.recordings.find((r) => r.name === 'small')!.bytes);
  session.connectionClosed();
  await endOf(registry, session);
  if (session.endReason !== 'terminated' || session.error !== null) {
    throw new Error(`fuzz: the unmutated small recording ended ${session.endReason} (${session.error?.message ?? 'no error'})`);
  }
  return session.store.zonesEnded;
}
