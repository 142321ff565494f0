import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { log } from '../log.js';
import type { FromInflater, ToInflater } from './inflate-messages.js';

/** Input bytes collected before they are posted to the worker (one post per event-loop turn at most otherwise). */
const INPUT_BATCH = 256 * 1024;
/** Most ingest workers a pool starts (each serves any number of streams). */
export const MAX_INFLATE_WORKERS = 4;

/**
 * Ingest workers when none are asked for: one per core beyond the first (at most
 * MAX_INFLATE_WORKERS), and none on a machine of one or two cores. Why none there: a worker only
 * decompresses (the walk and the store stay with the session on the main thread), and since LZ4
 * runs in WebAssembly that is ~37 ms of a stress session's ~220 ms of decoding, less than what
 * handing its output over costs (one copy of every decompressed frame into a batch, the
 * messages, the other core's caches) when the second core is also the app's or the system's.
 * Measured on 2 cores with the app on the same machine (docs/PERFORMANCE.md, issue 12): a
 * fresh server's first stress session 317-360 ms without a worker against 389-430 with one,
 * later sessions 247-302 against 281-350, 20% less CPU, ~25 MiB less memory.
 */
export function defaultIngestWorkers(cores = availableParallelism()): number {
  return cores <= 2 ? 0 : Math.min(MAX_INFLATE_WORKERS, cores - 1);
}

/** Receives one stream's messages from its worker, in order. */
export type InflateHandler = (message: FromInflater) => void;

/**
 * Where the compiled worker is: beside this module when running from dist/, else (the tests
 * run the TypeScript sources) in dist/ of the same checkout, which `npm test` builds first.
 */
export function inflateWorkerUrl(): URL | null {
  const here = new URL('./inflate-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'dist', 'server', 'ingest', 'inflate-worker.js');
    if (existsSync(join(dir, 'package.json'))) return existsSync(candidate) ? pathToFileURL(candidate) : null;
    dir = dirname(dir);
  }
  return null;
}

class InflateWorker {
  readonly worker: Worker;
  readonly handlers = new Map<number, InflateHandler>();
  dead = false;

  constructor(url: URL, onDeath: (w: InflateWorker) => void) {
    this.worker = new Worker(url);
    this.worker.unref();
    this.worker.on('message', (m: FromInflater) => {
      if (m.t === 'notice') log('ingest worker: %s', m.message);
      else this.handlers.get(m.id)?.(m);
    });
    const die = (why: string) => {
      if (this.dead) return;
      this.dead = true;
      log('ingest worker failed: %s; its %d streams end', why, this.handlers.size);
      for (const [id, handler] of this.handlers) {
        handler({ t: 'error', id, code: 'ZS_INGEST_WORKER_FAILED', message: `the ingest worker failed: ${why}`, offset: 0, queueType: -1, itemOffset: -1 });
      }
      this.handlers.clear();
      onDeath(this);
    };
    this.worker.on('error', (err) => die(err.message));
    this.worker.on('exit', (code) => die(`it exited with status ${code}`));
  }

  post(message: ToInflater, transfer: ArrayBuffer[] = []): void {
    if (!this.dead) this.worker.postMessage(message, transfer);
  }

  /** A worker with streams keeps the process alive until they are answered (a capture's last frames). */
  add(id: number, handler: InflateHandler): void {
    if (this.handlers.size === 0) this.worker.ref();
    this.handlers.set(id, handler);
  }

  remove(id: number): void {
    if (this.handlers.delete(id) && this.handlers.size === 0) this.worker.unref();
  }
}

/**
 * One stream's side of the main thread: posts the app's bytes to its worker (copied into
 * batches: a socket's Buffers may share a pooled ArrayBuffer and cannot be transferred) and
 * hands the worker's answers to its handler.
 */
export class InflateChannel {
  /** Bytes posted (or about to be) to the worker. */
  posted = 0;
  private batch: Uint8Array | null = null;
  private batchLength = 0;
  private flushScheduled = false;
  private closed = false;

  constructor(
    private readonly owner: InflateWorker,
    readonly id: number,
  ) {}

  /** The app's bytes, in order; posted at the end of this event-loop turn or when 256 KiB are collected. */
  send(chunk: Uint8Array): void {
    if (this.closed) return;
    this.posted += chunk.length;
    let p = 0;
    while (p < chunk.length) {
      if (this.batch === null) {
        this.batch = new Uint8Array(INPUT_BATCH);
        this.batchLength = 0;
      }
      const n = Math.min(chunk.length - p, this.batch.length - this.batchLength);
      this.batch.set(chunk.subarray(p, p + n), this.batchLength);
      this.batchLength += n;
      p += n;
      if (this.batchLength === this.batch.length) this.flush();
    }
    if (this.batch !== null && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** No more bytes: the worker answers 'ended' once everything before is inflated. */
  end(): void {
    if (this.closed) return;
    this.flush();
    this.owner.post({ t: 'end', id: this.id });
  }

  /** A 'frames' batch was walked: its buffer goes back for reuse. */
  ack(buf: ArrayBuffer): void {
    if (!this.closed) this.owner.post({ t: 'ack', id: this.id, buf }, [buf]);
  }

  /** The session is over: the worker drops the stream; no message reaches the handler any more. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.batch = null;
    this.owner.remove(this.id);
    this.owner.post({ t: 'close', id: this.id });
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.batch === null || this.batchLength === 0) return;
    const buf = this.batch.buffer as ArrayBuffer;
    this.owner.post({ t: 'data', id: this.id, buf, length: this.batchLength }, [buf]);
    this.batch = null;
    this.batchLength = 0;
  }
}

/**
 * The ingest workers of a process: each stream is given to the worker with the fewest
 * streams. Started once (serve, capture) before the first connection, so a session does not
 * pay for a thread's start-up. Workers are unreferenced while idle: they never keep the
 * process alive on their own.
 */
export class InflatePool {
  private readonly workers: InflateWorker[] = [];
  private nextId = 1;

  private constructor(
    private readonly url: URL,
    readonly size: number,
  ) {
    for (let i = 0; i < size; i++) this.spawn();
  }

  /**
   * Starts `size` workers (default: defaultIngestWorkers()).
   * @returns null for 0 workers, or when the compiled worker cannot be found (then sessions
   *   inflate on the main thread)
   */
  static start(size = defaultIngestWorkers()): InflatePool | null {
    if (size === 0) return null;
    const url = inflateWorkerUrl();
    if (url === null) {
      log('ingest workers: %s not built; decoding on the main thread', 'dist/server/ingest/inflate-worker.js');
      return null;
    }
    return new InflatePool(url, size);
  }

  /** Streams open on the pool's workers now. */
  get streams(): number {
    let n = 0;
    for (const w of this.workers) n += w.handlers.size;
    return n;
  }

  /** A channel for a new stream; `handler` receives the worker's answers in order. */
  open(handler: InflateHandler): InflateChannel {
    let best = this.workers[0]!;
    for (const w of this.workers) if (w.handlers.size < best.handlers.size) best = w;
    const id = this.nextId++;
    best.add(id, handler);
    best.post({ t: 'open', id });
    return new InflateChannel(best, id);
  }

  /** Stops the workers (their streams get ZS_INGEST_WORKER_FAILED if any are left). */
  async close(): Promise<void> {
    const all = this.workers.splice(0);
    await Promise.all(all.map((w) => w.worker.terminate()));
  }

  private spawn(): void {
    this.workers.push(
      new InflateWorker(this.url, (dead) => {
        const i = this.workers.indexOf(dead);
        if (i >= 0) {
          this.workers.splice(i, 1);
          this.spawn();
        }
      }),
    );
  }
}
