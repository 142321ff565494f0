import { log } from '../log.js';

export interface ConnectionLimits {
  /** Ingest connections (TCP + /ingest WebSocket) open at once (default 128). */
  maxConnections?: number;
  /** Ingest connections open at once from one remote address (default 64). */
  maxConnectionsPerAddress?: number;
}

export const DEFAULT_MAX_CONNECTIONS = 128;
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 64;

/**
 * Why a connection was closed before it became a listed session: refused at once by a limit, or
 * closed in its handshake (no valid welcome before the timeout, or the peer went away first).
 */
export type RejectReason = 'max-connections' | 'max-connections-per-address' | 'handshake-timeout' | 'handshake-closed';

/** A refused ingest connection: a stable code and a sentence for the close reason or HTTP body. */
export interface ConnectionRefusal {
  reason: 'max-connections' | 'max-connections-per-address';
  code: 'ZS_INGEST_TOO_MANY_CONNECTIONS' | 'ZS_INGEST_TOO_MANY_FROM_ADDRESS';
  message: string;
}

/**
 * Counts the open ingest connections, in total and per remote address, against their limits,
 * and the connections rejected, by reason. Connections the server dials itself (--connect,
 * --discover) are not counted: their number is what the operator configured.
 *
 * Each open connection can hold up to ~1 MiB of decode buffers while it streams (LZ4 window
 * 576 KiB, split-frame buffer up to 257 KiB, string staging up to 128 KiB), so the limit bounds
 * that part of the process's memory: 128 connections, ~128 MiB at most.
 */
export class ConnectionGate {
  readonly maxConnections: number;
  readonly maxPerAddress: number;
  private open = 0;
  private readonly byAddress = new Map<string, number>();
  /** Connections rejected, by reason, ever (for /metrics). */
  readonly rejectedByReason = new Map<RejectReason, number>();

  /** @throws TypeError when a limit is not a positive integer */
  constructor(limits: ConnectionLimits = {}) {
    this.maxConnections = positiveInteger('maxConnections', limits.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
    this.maxPerAddress = positiveInteger('maxConnectionsPerAddress', limits.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS);
  }

  /** Ingest connections open now. */
  get openConnections(): number {
    return this.open;
  }

  /** Ingest connections open now from `address`. */
  openFrom(address: string): number {
    return this.byAddress.get(address) ?? 0;
  }

  /**
   * @returns null when one more connection from `address` fits the limits, else the refusal
   *   (counted and logged here)
   */
  admit(address: string): ConnectionRefusal | null {
    let refusal: ConnectionRefusal | null = null;
    if (this.open >= this.maxConnections) {
      refusal = {
        reason: 'max-connections',
        code: 'ZS_INGEST_TOO_MANY_CONNECTIONS',
        message: `${this.open} ingest connections are open, the limit is ${this.maxConnections} (--max-connections)`,
      };
    } else if (this.openFrom(address) >= this.maxPerAddress) {
      refusal = {
        reason: 'max-connections-per-address',
        code: 'ZS_INGEST_TOO_MANY_FROM_ADDRESS',
        message: `${this.openFrom(address)} ingest connections are open from ${address}, the limit is ${this.maxPerAddress} (--max-connections-per-address)`,
      };
    }
    if (refusal !== null) {
      this.rejected(refusal.reason);
      log('ingest: refused a connection from %s: %s', address, refusal.message);
    }
    return refusal;
  }

  /** A connection that admit() let in became a session. */
  opened(address: string): void {
    this.open++;
    this.byAddress.set(address, this.openFrom(address) + 1);
  }

  /** Its session ended (the connection is closing). */
  closed(address: string): void {
    this.open--;
    const n = this.openFrom(address) - 1;
    if (n > 0) this.byAddress.set(address, n);
    else this.byAddress.delete(address);
  }

  /** Counts a rejected connection. */
  rejected(reason: RejectReason): void {
    this.rejectedByReason.set(reason, (this.rejectedByReason.get(reason) ?? 0) + 1);
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`${name} must be a positive integer, got ${value}`);
  return value;
}
