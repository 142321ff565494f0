/**
 * Catches the hang a timer cannot: a decoder stuck in a synchronous loop blocks the event loop,
 * so no timeout of ours would ever fire. The fuzzer bumps a counter in shared memory before
 * each stream and on a timer; a worker thread watches it, and when it stands still for
 * `stallMs` it prints which stream was running and kills the process, so a run always stops by
 * itself with a non-zero status (SIGKILL: 137) and names the culprit.
 */
import { Worker } from 'node:worker_threads';

/** Bytes of the current stream's label kept for the report (longer labels are cut). */
const LABEL_BYTES = 2048;

// Plain JavaScript, run with `eval: true` so the same code works from fuzz/*.ts under vitest
// and from dist/fuzz/*.js.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const state = new Int32Array(workerData.state);
const label = new Uint8Array(workerData.label);
let last = Atomics.load(state, 0);
let since = Date.now();
setInterval(() => {
  const now = Date.now();
  const beat = Atomics.load(state, 0);
  if (beat !== last) { last = beat; since = now; return; }
  if (now - since < workerData.stallMs) return;
  const text = new TextDecoder().decode(label.subarray(0, Atomics.load(state, 1)));
  writeSync(2, '\\nfuzz: HANG: the event loop has been blocked for ' + (now - since) + ' ms (limit ' + workerData.stallMs + ' ms) in ' + text + '\\n' +
    'fuzz: 1 hang; killing the process (seed and stream above replay it)\\n');
  process.kill(process.pid, 'SIGKILL');
}, 200);
`;

export class Watchdog {
  private readonly state = new Int32Array(new SharedArrayBuffer(8));
  private readonly label = new Uint8Array(new SharedArrayBuffer(LABEL_BYTES));
  private readonly encoder = new TextEncoder();
  private worker: Worker | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  /** @param stallMs how long the event loop may stay blocked before the process is killed */
  constructor(private readonly stallMs: number) {}

  start(): void {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { state: this.state.buffer, label: this.label.buffer, stallMs: this.stallMs },
    });
    this.worker.unref();
    // an idle but responsive event loop (waiting on sockets) beats too
    this.timer = setInterval(() => Atomics.add(this.state, 0, 1), 250);
    this.timer.unref();
  }

  /** Called before each stream: names it for the report and proves the loop is alive. */
  stream(label: string): void {
    const { written } = this.encoder.encodeInto(label, this.label);
    Atomics.store(this.state, 1, written);
    Atomics.add(this.state, 0, 1);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.worker?.terminate();
    this.worker = null;
  }
}
