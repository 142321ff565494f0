/**
 * Bounds how many heavy queries (statistics, flame graph, search, filtered messages) compute at
 * once, so their working memory (up to ~16 bytes per zone in range each) has a ceiling too:
 * `maxRunning` run, up to `maxWaiting` more wait in arrival order, and any beyond are refused
 * at once. Slicing already keeps the event loop free; this keeps the heap bounded.
 */
export class QueryBusyError extends Error {
  readonly code = 'ZS_QUERY_BUSY';
  constructor(running: number, waiting: number) {
    super(`too many heavy queries: ${running} running and ${waiting} waiting (the most); retry later`);
  }
}

/** Heavy queries computed at once by default, and queued behind them at most. */
export const MAX_RUNNING_QUERIES = 2;
export const MAX_WAITING_QUERIES = 32;

export class QueryGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly maxRunning = MAX_RUNNING_QUERIES,
    readonly maxWaiting = MAX_WAITING_QUERIES,
  ) {
    if (!(maxRunning >= 1) || !(maxWaiting >= 0)) throw new TypeError(`QueryGate: maxRunning (${maxRunning}) must be >= 1 and maxWaiting (${maxWaiting}) >= 0`);
  }

  /** Queries computing now / waiting for a turn (for /metrics and tests). */
  get active(): number {
    return this.running;
  }
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs `work` when a turn is free.
   * @throws QueryBusyError at once when maxRunning run and maxWaiting wait already
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxRunning) {
      if (this.waiting.length >= this.maxWaiting) throw new QueryBusyError(this.running, this.waiting.length);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      // hand the turn straight to the next waiter (running stays counted), or free it
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
