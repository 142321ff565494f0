import { MemoryBudget } from '../store/memory-budget.js';
import { Session, type SessionTransport } from './session.js';

export interface RegistryOptions {
  /** Memory budget of all sessions' stores, in bytes (default 1 GiB). */
  memoryBytes?: number;
  /** Ended sessions kept listed before the oldest are dropped (default 200). */
  maxEndedSessions?: number;
  queryCredit?: number;
}

export type RegistryEvent = { type: 'added' | 'ended' | 'deleted'; session: Session };

/**
 * Every session of this server: live ones and ended ones (listed with why they ended until
 * deleted, dropped because too many ended ones are kept, or until all their data was evicted).
 */
export class SessionRegistry {
  readonly budget: MemoryBudget;
  private readonly sessions = new Map<string, Session>();
  private nextId = 1;
  private readonly maxEnded: number;
  private readonly queryCredit: number | undefined;
  private readonly listeners = new Set<(e: RegistryEvent) => void>();
  /** Sessions that ended with a protocol error, ever (for /metrics). */
  protocolErrors = 0;

  constructor(options: RegistryOptions = {}) {
    this.budget = new MemoryBudget(options.memoryBytes ?? 2 ** 30);
    this.maxEnded = options.maxEndedSessions ?? 200;
    this.queryCredit = options.queryCredit;
  }

  /** Creates a session for a new connection; the caller starts it and feeds it bytes. */
  create(transport: SessionTransport, source: string, remote: string): Session {
    const id = String(this.nextId++);
    const session = new Session({
      id,
      budget: this.budget,
      transport,
      source,
      remote,
      ...(this.queryCredit !== undefined ? { queryCredit: this.queryCredit } : {}),
    });
    session.onEnd = (s) => {
      if (s.endReason === 'protocol-error') this.protocolErrors++;
      this.emit({ type: 'ended', session: s });
      this.trimEnded();
    };
    this.sessions.set(id, session);
    this.emit({ type: 'added', session });
    return session;
  }

  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  /** Sessions, oldest first. */
  list(): Session[] {
    this.dropFullyEvicted();
    return [...this.sessions.values()];
  }

  /** Ends (if live) and forgets a session, releasing its memory. */
  delete(id: string): boolean {
    const session = this.sessions.get(id);
    if (!session) return false;
    session.stop('deleted');
    session.store.release();
    this.sessions.delete(id);
    this.emit({ type: 'deleted', session });
    return true;
  }

  /** Stops every live session (server shutdown). */
  stopAll(): void {
    for (const s of this.sessions.values()) s.stop('server-closed');
  }

  subscribe(fn: (e: RegistryEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(e: RegistryEvent): void {
    for (const fn of this.listeners) fn(e);
  }

  private trimEnded(): void {
    const ended = [...this.sessions.values()].filter((s) => s.ended);
    for (let i = 0; i < ended.length - this.maxEnded; i++) this.delete(ended[i]!.id);
  }

  /** An ended session whose every zone was evicted has nothing left to show. */
  private dropFullyEvicted(): void {
    for (const s of this.sessions.values()) {
      if (!s.ended || s.store.zonesEnded === 0) continue;
      let stored = 0;
      for (const t of s.store.threads.values()) stored += t.storedZones;
      if (stored === 0) this.delete(s.id);
    }
  }
}
