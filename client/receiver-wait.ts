import { ClientError, ClientErrorCode } from './transport.js';

/** Longest timer Node.js and browsers take (2^31 - 1 ms, ~24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A promise that says when it is awaited: `await p`, `p.then()`, `p.catch()` and
 * `Promise.race([p])` all call its `then` (a subclass is not adopted natively), and `onAwaited`
 * runs. Derived promises are plain ones (species), so the chain stays ordinary.
 */
export class AwaitedPromise<T> extends Promise<T> {
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  onAwaited: (() => void) | null = null;

  override then<R1 = T, R2 = never>(onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null, onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null): Promise<R1 | R2> {
    this.onAwaited?.();
    return super.then(onFulfilled, onRejected);
  }
}

/**
 * Who waits for listen mode's first receiver. A pending promise does not keep Node.js alive, so
 * while anyone waits (`await tracy.connected`, `waitForReceiver()`) `keepAlive(true)` holds the
 * listening socket referenced; when the receiver comes, the client closes, or the last waiter's
 * timeout fires, `keepAlive(false)` lets the process exit on its own again.
 */
export class ReceiverWait {
  /** Resolves when a receiver took the session; rejects (ZS_CLIENT_CLOSED) when the client closed first. */
  readonly connected: AwaitedPromise<void>;

  private state: 'waiting' | 'connected' | 'closed' = 'waiting';
  private holders = 0;
  /** `connected` was awaited: it holds until it settles. */
  private awaited = false;
  private resolve!: () => void;
  private reject!: (err: Error) => void;

  constructor(private readonly keepAlive: (on: boolean) => void) {
    this.connected = new AwaitedPromise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Nobody awaiting it must not make a close() an unhandled rejection (the base `then` does
    // not count as awaiting).
    Promise.prototype.then.call(this.connected, undefined, () => {});
    this.connected.onAwaited = () => {
      if (this.awaited || this.state !== 'waiting') return;
      this.awaited = true;
      this.hold();
    };
  }

  get isWaiting(): boolean {
    return this.state === 'waiting';
  }

  /**
   * Resolves when a receiver is connected (at once if one already was); rejects with
   * ZS_CLIENT_NO_RECEIVER after `timeoutMs`, or ZS_CLIENT_CLOSED when the client closes first.
   * @param timeoutMs ms, (0, 2^31 - 1]; undefined or Infinity: no limit
   * @throws TypeError for another timeoutMs (synchronously)
   */
  wait(timeoutMs?: number): Promise<void> {
    if (timeoutMs !== undefined && timeoutMs !== Infinity && !(timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS)) {
      throw new TypeError(`timeoutMs must be in (0, ${MAX_TIMER_MS}] or Infinity, not ${timeoutMs}`);
    }
    if (this.state !== 'waiting') return Promise.prototype.then.call(this.connected) as Promise<void>;
    this.hold();
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | null = null;
      let settled = false;
      const settle = (err: unknown) => {
        if (settled) return;
        settled = true;
        if (timer !== null) clearTimeout(timer);
        this.release();
        if (err === null) resolve();
        else reject(err);
      };
      Promise.prototype.then.call(this.connected, () => settle(null), settle);
      if (timeoutMs !== undefined && timeoutMs !== Infinity) {
        timer = setTimeout(() => settle(new ClientError(ClientErrorCode.NoReceiver, `no receiver connected within ${timeoutMs} ms`)), timeoutMs);
      }
    });
  }

  /** A receiver took the session. */
  onConnected(): void {
    if (this.state !== 'waiting') return;
    this.state = 'connected';
    this.resolve();
    this.releaseAll();
  }

  /** The client closed before any receiver came. */
  onClosed(): void {
    if (this.state !== 'waiting') return;
    this.state = 'closed';
    this.reject(new ClientError(ClientErrorCode.Closed, 'the client closed before a receiver connected'));
    this.releaseAll();
  }

  private hold(): void {
    if (this.holders++ === 0) this.keepAlive(true);
  }

  private release(): void {
    if (this.holders === 0) return;
    if (--this.holders === 0) this.keepAlive(false);
  }

  private releaseAll(): void {
    if (this.holders > 0) this.keepAlive(false);
    this.holders = 0;
    this.awaited = true;
  }
}
