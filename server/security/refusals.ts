import { log } from '../log.js';

/** Why a request or connection was refused (the `reason` label of zonescope_refused_total). */
export type RefusalReason = 'host' | 'origin' | 'token' | 'ingest-cidr';

export const REFUSAL_REASONS: readonly RefusalReason[] = ['host', 'origin', 'token', 'ingest-cidr'];

/** Log lines about refusals at most this often per reason, ms (a flood must not flood the log). */
const LOG_EVERY_MS = 10_000;

/**
 * Counts refused requests, WebSocket handshakes and ingest connections per reason (for
 * /metrics), and logs them: the first one of each reason at once, then at most one line per
 * 10 s per reason saying how many were refused since.
 */
export class RefusalCounters {
  private readonly counts = new Map<RefusalReason, number>(REFUSAL_REASONS.map((r) => [r, 0]));
  private readonly lastLogMs = new Map<RefusalReason, number>();
  private readonly unlogged = new Map<RefusalReason, number>();

  /** Counts one refusal; `detail` says what was refused and why (no secrets in it). */
  refuse(reason: RefusalReason, detail: string, nowMs = Date.now()): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    const last = this.lastLogMs.get(reason);
    if (last !== undefined && nowMs - last < LOG_EVERY_MS) {
      this.unlogged.set(reason, (this.unlogged.get(reason) ?? 0) + 1);
      return;
    }
    const more = this.unlogged.get(reason) ?? 0;
    this.unlogged.set(reason, 0);
    this.lastLogMs.set(reason, nowMs);
    log('refused (%s): %s%s', reason, detail, more > 0 ? ` (and ${more} more since the last line)` : '');
  }

  /** Refusals so far for `reason`. */
  count(reason: RefusalReason): number {
    return this.counts.get(reason) ?? 0;
  }
}
