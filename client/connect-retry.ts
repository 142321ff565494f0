import type { Client } from './client.js';
import { MAX_TIMER_MS } from './receiver-wait.js';
import { ClientError, ClientErrorCode, type ClientTransport } from './transport.js';
import type { RetryEvent, RetryOptions } from './types.js';

/** connect()'s retry, defaults applied and validated. */
export interface ResolvedRetry {
  timeoutMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
  onRetry: ((event: RetryEvent) => void) | null;
}

/**
 * Applies the documented defaults (timeoutMs 30000, initialDelayMs 100, maxDelayMs 2000).
 * @returns null when `retry` is absent or false
 * @throws TypeError naming the option that is out of range
 */
export function resolveRetry(retry: boolean | RetryOptions | undefined): ResolvedRetry | null {
  if (retry === undefined || retry === false) return null;
  const r: RetryOptions = retry === true ? {} : retry;
  const timeoutMs = r.timeoutMs ?? 30_000;
  if (!(timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS)) throw new TypeError(`retry.timeoutMs must be in (0, ${MAX_TIMER_MS}], not ${timeoutMs}`);
  const initialDelayMs = r.initialDelayMs ?? 100;
  if (!(initialDelayMs >= 1 && initialDelayMs <= 60_000)) throw new TypeError(`retry.initialDelayMs must be in [1, 60000], not ${initialDelayMs}`);
  const maxDelayMs = r.maxDelayMs ?? Math.max(2000, initialDelayMs);
  if (!(maxDelayMs >= initialDelayMs && maxDelayMs <= 60_000)) throw new TypeError(`retry.maxDelayMs must be in [initialDelayMs, 60000], not ${maxDelayMs}`);
  if (r.onRetry !== undefined && typeof r.onRetry !== 'function') throw new TypeError('retry.onRetry must be a function');
  return { timeoutMs, initialDelayMs, maxDelayMs, onRetry: r.onRetry ?? null };
}

/**
 * Failures worth another attempt: nobody listens yet (refused, unreachable), the connection
 * closed or timed out before the handshake, or a WebSocket upgrade answered 5xx (a server at
 * capacity). Not: a receiver that is not Tracy, another protocol version, or a 4xx upgrade
 * (a missing token does not appear by waiting).
 */
function retryable(err: unknown): boolean {
  if (!(err instanceof ClientError)) return false;
  if (err.code !== ClientErrorCode.Connect && err.code !== ClientErrorCode.Closed && err.code !== ClientErrorCode.Timeout) return false;
  return !/Unexpected server response: 4\d\d/.test(err.message);
}

/**
 * Dials until a receiver answers the handshake: attempt, then wait initialDelayMs, doubling up
 * to maxDelayMs, until retry.timeoutMs have passed since the first attempt. One attempt is in
 * flight at a time (each bounded by connectTimeoutMs and by the time left), so retrying holds
 * one socket at most. The wait between attempts is a referenced timer: a process whose only
 * work is waiting for its server stays up until it connects or gives up.
 * @param target "host:port" or the URL, for messages
 * @throws ClientError ZS_CLIENT_NO_RECEIVER after timeoutMs (cause: the last failure); the
 *   failure itself when it is not worth retrying (ZS_CLIENT_BAD_HANDSHAKE...)
 */
export async function attachWithRetry(client: Client, dial: () => ClientTransport, connectTimeoutMs: number, retry: ResolvedRetry, target: string): Promise<void> {
  const start = performance.now();
  let delay = retry.initialDelayMs;
  for (let attempt = 1; ; attempt++) {
    const left = retry.timeoutMs - (performance.now() - start);
    const conv = client.attach(dial(), Math.max(1, Math.min(connectTimeoutMs, left)));
    try {
      await conv.ready;
      return;
    } catch (err) {
      if (!retryable(err)) throw err;
      const leftNow = retry.timeoutMs - (performance.now() - start);
      if (leftNow <= 0) {
        throw new ClientError(ClientErrorCode.NoReceiver, `no receiver at ${target} within ${retry.timeoutMs} ms (${attempt} attempt${attempt === 1 ? '' : 's'}; last: ${(err as Error).message})`, { cause: err });
      }
      const delayMs = Math.min(delay, leftNow);
      retry.onRetry?.({ attempt, delayMs, error: err as ClientError });
      // A macrotask at least: the failed conversation is released (client.canAttach) before the next attach.
      await new Promise<void>((resolve) => setTimeout(resolve, delayMs));
      delay = Math.min(delay * 2, retry.maxDelayMs);
    }
  }
}
