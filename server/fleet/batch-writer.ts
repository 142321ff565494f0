import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { log } from '../log.js';

/** Where a BatchWriter's batches go (one ClickHouse table, one InfluxDB database). */
export interface BatchTarget {
  /** for logs, file names and /metrics: [a-z0-9_.-] */
  readonly name: string;
  /**
   * Sends one batch (whole lines of the target's text format). Resolves when the target has
   * it; rejects to have it retried later; rejects with a RejectedBatch when retrying cannot
   * help (the target refused the data itself): the batch is then counted failed and dropped.
   */
  send(body: Buffer, rows: number): Promise<void>;
}

/** The target refused a batch for its content (HTTP 400): retrying the same bytes cannot help. */
export class RejectedBatch extends Error {}

export interface BatchWriterOptions {
  /** a batch is sealed at this many bytes (default 4 MiB) */
  maxBatchBytes?: number;
  /** sealed batches kept in memory (default 64 MiB); past it they spill to `spoolDir` */
  maxBufferedBytes?: number;
  /** a partly filled batch is sealed and sent after this long (default 1000 ms) */
  flushMs?: number;
  /** folder for batches that do not fit in memory (and for those found there at start); null: none */
  spoolDir?: string | null;
  /** bytes of batch files in spoolDir at most (default 1 GiB); past it rows are dropped, counted */
  maxSpoolBytes?: number;
  /**
   * sends in flight at once (default 1): 2 lets a database that takes each insert on one core
   * (ClickHouse) use two
   */
  concurrency?: number;
  /** first retry delay after a failed send (default 250 ms), doubled up to backoffMaxMs (default 30 s) */
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

export interface BatchWriterCounters {
  /** rows handed to add() */
  queuedRows: number;
  /** rows the target accepted */
  writtenRows: number;
  /** sends that failed and were retried later */
  retriedSends: number;
  /** rows in batches the target refused (RejectedBatch): dropped */
  failedRows: number;
  /** rows dropped because memory and spool were full */
  droppedRows: number;
  /** rows written to spool files (they are sent from there later) */
  spilledRows: number;
  /** bytes of sealed and open batches in memory now */
  bufferedBytes: number;
  /** bytes of batch files in the spool now */
  spooledBytes: number;
  /** the last send's error, or null after a success */
  lastError: string | null;
}

interface Batch {
  body: Buffer;
  rows: number;
  /** the spool file it came from, deleted once sent */
  file: string | null;
  /** its bytes as counted in spooledBytes (spool files) */
  spooledBytes: number;
}

const FILE_PATTERN = /^(\d{16})-(\d+)\.batch$/;

/**
 * Turns rows into batches and delivers them to a target that may be slow or down, without ever
 * holding more than its limits (docs/fleet.md, "Delivery"):
 *
 * - add() appends whole lines to the open batch; at maxBatchBytes (or flushMs after its first
 *   row) it is sealed and queued. One send is in flight at a time, oldest batch first.
 * - A failed send is retried after a backoff (250 ms doubling to 30 s); meanwhile batches
 *   queue in memory up to maxBufferedBytes, then go to spool files (one file per batch, written
 *   whole before it counts), up to maxSpoolBytes; past that, rows are dropped and counted.
 * - Spool files found at start are sent first, so batches spilled before a restart are not lost.
 * - hasRoom() says whether another batch would be kept (in memory or spool): callers that can
 *   wait (the store feed) stop taking rows from the store instead of dropping them.
 */
export class BatchWriter {
  readonly counters: BatchWriterCounters = {
    queuedRows: 0,
    writtenRows: 0,
    retriedSends: 0,
    failedRows: 0,
    droppedRows: 0,
    spilledRows: 0,
    bufferedBytes: 0,
    spooledBytes: 0,
    lastError: null,
  };
  private readonly maxBatchBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly flushMs: number;
  private readonly spoolDir: string | null;
  private readonly maxSpoolBytes: number;
  private readonly backoffMinMs: number;
  private readonly backoffMaxMs: number;
  private open: (string | Uint8Array)[] = [];
  private openBytes = 0;
  private openRows = 0;
  private openTimer: NodeJS.Timeout | null = null;
  private readonly memory: Batch[] = [];
  private memoryBytes = 0;
  /** spool files, oldest first, with their byte and row counts */
  private readonly spooled: { file: string; bytes: number; rows: number }[] = [];
  private seq = 0;
  /** sends in flight (at most `concurrency`) */
  private inFlight = 0;
  private readonly concurrency: number;
  private retryTimer: NodeJS.Timeout | null = null;
  private backoffMs: number;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly target: BatchTarget,
    options: BatchWriterOptions = {},
  ) {
    this.maxBatchBytes = options.maxBatchBytes ?? 4 * 1024 * 1024;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 64 * 1024 * 1024;
    this.flushMs = options.flushMs ?? 1000;
    this.spoolDir = options.spoolDir ? join(options.spoolDir, target.name) : null;
    this.maxSpoolBytes = options.maxSpoolBytes ?? 1024 * 1024 * 1024;
    this.backoffMinMs = options.backoffMinMs ?? 250;
    this.backoffMaxMs = options.backoffMaxMs ?? 30_000;
    this.backoffMs = this.backoffMinMs;
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    if (this.spoolDir) this.scanSpool();
  }

  /** Another sealed batch would be kept (memory or spool) rather than dropped. */
  hasRoom(): boolean {
    if (this.memoryBytes + this.openBytes + this.maxBatchBytes <= this.maxBufferedBytes) return true;
    return this.spoolDir !== null && this.counters.spooledBytes + this.maxBatchBytes <= this.maxSpoolBytes;
  }

  /** Nothing is waiting to be sent (no open rows, no queued or spooled batch, no send in flight). */
  get idle(): boolean {
    return this.openRows === 0 && this.memory.length === 0 && this.spooled.length === 0 && this.inFlight === 0;
  }

  /**
   * Appends `rows` complete rows: text lines (ending with a newline) or bytes of a binary format
   * (RowBinary). A Uint8Array is kept, not copied: the caller must not reuse it.
   */
  add(chunk: string | Uint8Array, rows: number): void {
    if (this.closed) {
      this.counters.droppedRows += rows;
      return;
    }
    this.counters.queuedRows += rows;
    this.open.push(chunk);
    this.openBytes += chunk.length;
    this.openRows += rows;
    this.counters.bufferedBytes = this.memoryBytes + this.openBytes;
    if (this.openBytes >= this.maxBatchBytes) this.seal();
    else if (!this.openTimer) {
      this.openTimer = setTimeout(() => this.seal(), this.flushMs);
      this.openTimer.unref();
    }
  }

  /** Seals the open batch and resolves when everything queued so far was sent, or `timeoutMs` passed (then false). */
  async flush(timeoutMs = 30_000): Promise<boolean> {
    this.seal();
    if (this.idle) return true;
    if (this.retryTimer) {
      // try now rather than after the backoff
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.pump();
    }
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }

  /**
   * Stops: the open batch and the memory queue go to the spool (when there is one) so a restart
   * sends them; without a spool they are counted dropped. Waits for the send in flight up to `graceMs`.
   */
  async close(graceMs = 5000): Promise<void> {
    const sent = await this.flush(graceMs);
    this.closed = true;
    if (this.openTimer) clearTimeout(this.openTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.openTimer = this.retryTimer = null;
    if (sent) return;
    for (const b of this.memory.splice(0)) {
      if (b.file) continue;
      if (!this.spill(b)) this.counters.droppedRows += b.rows;
    }
    this.memoryBytes = 0;
    this.counters.bufferedBytes = 0;
  }

  private seal(): void {
    if (this.openTimer) {
      clearTimeout(this.openTimer);
      this.openTimer = null;
    }
    if (this.openRows === 0) return;
    const body = Buffer.concat(this.open.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c)));
    const batch: Batch = { body, rows: this.openRows, file: null, spooledBytes: 0 };
    this.open = [];
    this.openBytes = 0;
    this.openRows = 0;
    // hasRoom() keeps a batch of headroom, so a caller that checks it between adds never loses rows here
    if (this.memoryBytes + body.length <= this.maxBufferedBytes + this.maxBatchBytes || this.memory.length === 0) {
      this.memory.push(batch);
      this.memoryBytes += body.length;
    } else if (!this.spill(batch)) {
      this.counters.droppedRows += batch.rows;
    }
    this.counters.bufferedBytes = this.memoryBytes;
    this.pump();
  }

  /** Writes a batch to its own spool file; false when there is no spool or no room in it. */
  private spill(batch: Batch): boolean {
    if (!this.spoolDir || this.counters.spooledBytes + batch.body.length > this.maxSpoolBytes) return false;
    const name = `${String(Date.now()).padStart(16, '0')}-${this.seq++}.batch`;
    const file = join(this.spoolDir, name);
    try {
      mkdirSync(this.spoolDir, { recursive: true });
      // written whole under a temporary name, then renamed: a crash never leaves half a batch listed
      const fd = openSync(`${file}.tmp`, 'w');
      try {
        writeSync(fd, `${batch.rows}\n`);
        writeSync(fd, batch.body);
      } finally {
        closeSync(fd);
      }
      renameSync(`${file}.tmp`, file);
    } catch (err) {
      log('%s: cannot spool a batch of %d rows to %s: %s', this.target.name, batch.rows, file, (err as Error).message);
      return false;
    }
    this.spooled.push({ file, bytes: batch.body.length, rows: batch.rows });
    this.counters.spooledBytes += batch.body.length;
    this.counters.spilledRows += batch.rows;
    return true;
  }

  /** Lists the batch files a previous run left (sent first, oldest first). */
  private scanSpool(): void {
    let names: string[];
    try {
      mkdirSync(this.spoolDir!, { recursive: true });
      names = readdirSync(this.spoolDir!).filter((n) => FILE_PATTERN.test(n)).sort();
    } catch (err) {
      log('%s: cannot read the spool %s: %s', this.target.name, this.spoolDir, (err as Error).message);
      return;
    }
    for (const n of names) {
      const file = join(this.spoolDir!, n);
      const { rows, body } = readSpoolFile(file);
      if (rows < 0) continue;
      this.spooled.push({ file, bytes: body.length, rows });
      this.counters.spooledBytes += body.length;
      this.seq = Math.max(this.seq, Number(FILE_PATTERN.exec(n)![2]) + 1);
    }
    if (this.spooled.length) log('%s: %d spooled batches from an earlier run will be sent first', this.target.name, this.spooled.length);
    this.pump();
  }

  /** Takes the oldest batch waiting (spool first) out of its queue; null when none. */
  private take(): Batch | null {
    for (;;) {
      const s = this.spooled.shift();
      if (!s) break;
      const { rows, body } = readSpoolFile(s.file);
      if (rows >= 0) return { body, rows, file: s.file, spooledBytes: s.bytes };
      // unreadable (truncated by a crash while written): counted lost, not retried forever
      this.counters.spooledBytes -= s.bytes;
      this.counters.droppedRows += s.rows;
    }
    return this.memory.shift() ?? null;
  }

  /** Puts a batch whose send failed back at the front of its queue (it is sent first after the backoff). */
  private putBack(batch: Batch): void {
    if (batch.file) this.spooled.unshift({ file: batch.file, bytes: batch.spooledBytes, rows: batch.rows });
    else this.memory.unshift(batch);
  }

  private pump(): void {
    while (this.inFlight < this.concurrency && !this.retryTimer && !this.closed) {
      const batch = this.take();
      if (!batch) break;
      this.inFlight++;
      this.target.send(batch.body, batch.rows).then(
        () => {
          this.counters.writtenRows += batch.rows;
          this.counters.lastError = null;
          this.backoffMs = this.backoffMinMs;
          this.done(batch);
        },
        (err: unknown) => {
          const message = err instanceof Error ? err.message : String(err);
          this.counters.lastError = message;
          if (err instanceof RejectedBatch) {
            this.counters.failedRows += batch.rows;
            log('%s: a batch of %d rows was refused and dropped: %s', this.target.name, batch.rows, message);
            this.done(batch);
            return;
          }
          this.counters.retriedSends++;
          if (this.counters.retriedSends === 1 || this.backoffMs >= this.backoffMaxMs) log('%s: send failed (%s); retrying in %d ms', this.target.name, message, this.backoffMs);
          this.inFlight--;
          this.putBack(batch);
          if (this.retryTimer) return; // another send failed first: one backoff for both
          const delay = this.backoffMs;
          this.backoffMs = Math.min(this.backoffMs * 2, this.backoffMaxMs);
          this.retryTimer = setTimeout(() => {
            this.retryTimer = null;
            this.pump();
          }, delay);
          this.retryTimer.unref();
        },
      );
    }
    if (this.idle) for (const w of this.idleWaiters.splice(0)) w();
  }

  private done(batch: Batch): void {
    if (batch.file) {
      this.counters.spooledBytes -= batch.spooledBytes;
      try {
        unlinkSync(batch.file);
      } catch {
        /* already gone */
      }
    } else {
      this.memoryBytes -= batch.body.length;
      this.counters.bufferedBytes = this.memoryBytes + this.openBytes;
    }
    this.inFlight--;
    this.pump();
  }
}

/** A spool file: "<rows>\n" then the batch; rows = -1 when the file is unreadable. */
function readSpoolFile(file: string): { rows: number; body: Buffer } {
  try {
    const data = readFileSync(file);
    const nl = data.indexOf(10);
    const rows = nl > 0 ? Number(data.subarray(0, nl).toString('latin1')) : NaN;
    if (!Number.isInteger(rows) || rows < 0) return { rows: -1, body: Buffer.alloc(0) };
    return { rows, body: data.subarray(nl + 1) };
  } catch {
    return { rows: -1, body: Buffer.alloc(0) };
  }
}
