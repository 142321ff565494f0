import type { ClientState } from './types.js';

/** How often the exit wait looks whether a receiver has taken everything, ms. */
export const EXIT_POLL_MS = 25;

/** What the exit wait needs of a client. */
export interface ExitWaitClient {
  readonly state: ClientState;
  /** Frames and hands over what is held now. */
  flushNow(): void;
  /** A receiver is streaming and everything recorded so far was handed to the connection. */
  readonly allSent: boolean;
  readonly stats: { readonly bufferedBytes: number };
  close(): Promise<void>;
}

/**
 * `waitAtExit` / ZONESCOPE_NO_EXIT=1 (Node.js 'beforeExit'): like Tracy's TRACY_NO_EXIT, hold
 * the process until a receiver has connected and taken everything recorded (framed, handed to
 * the socket and gone from its buffer), or until `waitMs` passed, then close() as usual
 * (Terminate, and the receiver's answer within closeTimeoutMs). Says so once on stderr when it
 * has to wait. The poll timer is referenced: it is what keeps the event loop alive meanwhile.
 * @param waitMs > 0; Infinity: no limit (ZONESCOPE_NO_EXIT=1)
 * @param why what asked for it, for the stderr line
 * @param say where the line goes (process.stderr)
 */
export function closeWhenTaken(client: ExitWaitClient, waitMs: number, why: string, say: (line: string) => void): Promise<void> {
  client.flushNow();
  if (client.state === 'closing' || client.state === 'closed' || client.allSent) return client.close();
  const limit = waitMs === Infinity ? 'no time limit' : `at most ${formatMs(waitMs)}`;
  say(`zonescope: waiting for a profiler to take ${formatBytes(client.stats.bufferedBytes)} of events (${why}; ${limit})...\n`);
  const start = performance.now();
  return new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      client.flushNow();
      const over = waitMs !== Infinity && performance.now() - start >= waitMs;
      if (!client.allSent && !over && client.state !== 'closed' && client.state !== 'closing') return;
      clearInterval(poll);
      resolve(client.close());
    }, EXIT_POLL_MS);
  });
}

/**
 * The wait at exit asked for: ZONESCOPE_NO_EXIT=1 (no limit, like TRACY_NO_EXIT=1) wins over the
 * option; otherwise `waitAtExit` (ms, 0 = none).
 * @returns [ms, what asked for it]
 */
export function exitWaitOf(option: number, env: string | undefined): [number, string] {
  if (env === '1') return [Infinity, 'ZONESCOPE_NO_EXIT=1'];
  return [option, 'waitAtExit'];
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
