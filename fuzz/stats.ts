/**
 * What a fuzz run counts: streams per phase and path, how each ended (by error code, or by end
 * reason when there was no error), crashes and hangs with the stream that caused them, the
 * slowest stream, and the process's peak memory.
 */

/** How one stream ended, as the fuzzer judges it. */
export type Outcome =
  /** A coded error or a normal end: `key` is the error code, else the end reason. */
  | { type: 'ok'; key: string }
  /** An uncoded exception escaped, or a session ended with ZS_SESSION_INTERNAL: a bug. */
  | { type: 'crash'; what: string; stack?: string }
  /** The stream was not done within the per-stream bound. */
  | { type: 'hang'; what: string };

export interface Failure {
  /** Which stream: phase, index, kind, base, mutations (enough to replay it with the seed). */
  stream: string;
  what: string;
  stack?: string;
}

/** Failures kept with their details (all are counted). */
const KEEP_FAILURES = 20;

export class FuzzStats {
  inProcess = 0;
  /** Streams over sockets, by path: tcp, ws, import. */
  readonly sockets = new Map<string, number>();
  /** Bytes of mutated streams sent into the decoders. */
  bytes = 0;
  crashes = 0;
  hangs = 0;
  readonly failures: Failure[] = [];
  readonly codes = new Map<string, number>();
  controlsPassed = 0;
  controlsRun = 0;
  slowestMs = 0;
  slowest = '';
  /** Bytes evicted from the in-process shared budget and from the server's budget. */
  evictedInProcess = 0;
  evictedServer = 0;
  /** Peak RSS when the in-process phase ended (before the server started). */
  inProcessPeakRssBytes = 0;
  /** Why the run stopped early ('time'), or null when every stream asked for ran. */
  stoppedBy: string | null = null;

  get socketStreams(): number {
    let n = 0;
    for (const v of this.sockets.values()) n += v;
    return n;
  }

  /** Counts one stream's outcome. */
  record(stream: string, outcome: Outcome, ms: number, bytes: number): void {
    this.bytes += bytes;
    if (ms > this.slowestMs) {
      this.slowestMs = ms;
      this.slowest = stream;
    }
    if (outcome.type === 'ok') {
      this.codes.set(outcome.key, (this.codes.get(outcome.key) ?? 0) + 1);
      return;
    }
    if (outcome.type === 'crash') this.crashes++;
    else this.hangs++;
    this.fail(stream, `${outcome.type}: ${outcome.what}`, outcome.type === 'crash' ? outcome.stack : undefined);
  }

  /** A failure not tied to one stream's outcome (a harmed control session, a dead server). */
  fail(stream: string, what: string, stack?: string): void {
    if (this.failures.length < KEEP_FAILURES) this.failures.push(stack ? { stream, what, stack } : { stream, what });
  }
}

/** Peak RSS and JS heap of this process, sampled on a timer and at the fuzzer's checkpoints. */
export class MemoryPeaks {
  rssBytes = 0;
  heapUsedBytes = 0;
  arrayBuffersBytes = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  sample(): void {
    const m = process.memoryUsage();
    if (m.rss > this.rssBytes) this.rssBytes = m.rss;
    if (m.heapUsed > this.heapUsedBytes) this.heapUsedBytes = m.heapUsed;
    if (m.arrayBuffers > this.arrayBuffersBytes) this.arrayBuffersBytes = m.arrayBuffers;
  }

  /** Samples every `everyMs` until stop() (the timer does not keep the process alive). */
  start(everyMs = 100): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
  }
}

const MiB = 2 ** 20;

/** The one summary line a run ends with. */
export function summaryLine(seed: number, stats: FuzzStats, memory: MemoryPeaks, elapsedMs: number): string {
  const paths = [...stats.sockets].map(([k, v]) => `${k} ${v}`).join(', ');
  const codes = [...stats.codes].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join(' ');
  return [
    `fuzz: seed ${seed}`,
    `${stats.inProcess} streams in-process, ${stats.socketStreams} over sockets (${paths || 'none'})`,
    `${(stats.bytes / 1e6).toFixed(0)} MB`,
    `${stats.crashes} crashes, ${stats.hangs} hangs`,
    `controls ${stats.controlsPassed}/${stats.controlsRun} intact`,
    `evicted ${(stats.evictedInProcess / 1e6).toFixed(0)} MB in process, ${(stats.evictedServer / 1e6).toFixed(0)} MB in the server`,
    `codes: ${codes || 'none'}`,
    `slowest stream ${stats.slowestMs.toFixed(0)} ms`,
    `peak RSS ${(memory.rssBytes / MiB).toFixed(0)} MiB (${(stats.inProcessPeakRssBytes / MiB).toFixed(0)} MiB before the socket phase), heap ${(memory.heapUsedBytes / MiB).toFixed(0)} MiB, array buffers ${(memory.arrayBuffersBytes / MiB).toFixed(0)} MiB`,
    `${(elapsedMs / 1000).toFixed(1)} s${stats.stoppedBy ? ` (stopped by the ${stats.stoppedBy} limit)` : ''}`,
  ].join('; ');
}
