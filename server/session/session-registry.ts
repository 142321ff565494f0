import { MemoryBudget } from '../store/memory-budget.js';
import { Session, type SessionTransport } from './session.js';

export interface RegistryOptions {
  /** Memory budget of all sessions' stores, in bytes (default 1 GiB). */
  memoryBytes?: number;
  /** Ended sessions kept listed before the oldest are dropped (default 200). */
  maxEndedSessions?: number;
  queryCredit?: number;
}

/** 'forgotten': a stored session (never loaded) was deleted from the list. */
export type RegistryEvent = { type: 'added' | 'ended' | 'deleted'; session: Session } | { type: 'forgotten'; id: string };

/** A session kept on disk and not in memory: what the list shows of it until it is opened. */
export interface StoredSession {
  id: string;
  app: string;
  pid: number;
  host: string;
  /** Epoch ms the original session started. */
  startedAt: number;
  path: string;
  fileBytes: number;
}

/**
 * Sessions kept outside memory (the --data spool, server/capture/spool.ts): listed without
 * being loaded, loaded into the registry on first use.
 */
export interface SessionCatalog {
  /** True when `id` belongs to a stored capture (listed, loaded or deleted): never used for a new session. */
  has(id: string): boolean;
  /** Stored sessions that are not in memory, oldest first. */
  stored(): StoredSession[];
  /** Starts loading stored session `id` into `registry` (create() with that id); undefined when there is none. */
  load(id: string, registry: SessionRegistry): Session | undefined;
  /** Resolves once session `id` has been read to its end (at once when it is not loading). Never rejects. */
  ready(id: string): Promise<void>;
  /**
   * The registry dropped `id` from memory (forget = DELETE; otherwise trimmed or evicted, and
   * listed as stored again), or asks to forget a stored one.
   * @returns true when `id` was a stored (not loaded) session
   */
  removed(id: string, forget: boolean): boolean;
}

export interface CreateOptions {
  /** The session's id (a stored capture's); default the next free number. */
  id?: string;
  /** Epoch ms the session started (default now). */
  startedAt?: number;
}

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
  private catalog: SessionCatalog | null = null;
  /** Sessions that ended with a protocol error, ever (for /metrics). */
  protocolErrors = 0;

  constructor(options: RegistryOptions = {}) {
    this.budget = new MemoryBudget(options.memoryBytes ?? 2 ** 30);
    this.maxEnded = options.maxEndedSessions ?? 200;
    this.queryCredit = options.queryCredit;
  }

  /** Lists and loads stored sessions through `catalog` (see SessionCatalog). */
  useCatalog(catalog: SessionCatalog): void {
    this.catalog = catalog;
  }

  /**
   * Creates a session for a new connection; the caller starts it and feeds it bytes.
   * @throws Error when `options.id` is already in memory
   */
  create(transport: SessionTransport, source: string, remote: string, options: CreateOptions = {}): Session {
    let id = options.id;
    if (id !== undefined && this.sessions.has(id)) throw new Error(`session ${id} already exists`);
    if (id === undefined) {
      // new ids skip those of stored captures, so a restarted server never reuses a file's id
      do id = String(this.nextId++);
      while (this.sessions.has(id) || this.catalog?.has(id));
    }
    const session = new Session({
      id,
      budget: this.budget,
      transport,
      source,
      remote,
      ...(this.queryCredit !== undefined ? { queryCredit: this.queryCredit } : {}),
      ...(options.startedAt !== undefined ? { startedAt: options.startedAt } : {}),
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

  /** A session in memory; a stored one (the catalog's) starts loading and is returned at once. */
  get(id: string): Session | undefined {
    return this.sessions.get(id) ?? this.catalog?.load(id, this);
  }

  /** As get(), but waits until a stored session has been loaded to its end. */
  async ready(id: string): Promise<Session | undefined> {
    const session = this.get(id);
    if (session && this.catalog) await this.catalog.ready(id);
    return session;
  }

  /** Sessions in memory, oldest first. */
  list(): Session[] {
    this.dropFullyEvicted();
    return [...this.sessions.values()];
  }

  /** Stored sessions not in memory (listed as ended, loaded on first use), oldest first. */
  stored(): StoredSession[] {
    return this.catalog?.stored() ?? [];
  }

  /** Ends (if live) and forgets a session, releasing its memory; a stored one is no longer listed (its file stays). */
  delete(id: string): boolean {
    if (this.remove(id, true)) return true;
    if (!this.catalog?.removed(id, true)) return false;
    this.emit({ type: 'forgotten', id });
    return true;
  }

  /** Drops a session from memory; `forget` false: a stored capture's stays listed as stored. */
  private remove(id: string, forget: boolean): boolean {
    const session = this.sessions.get(id);
    if (!session) return false;
    session.stop('deleted');
    session.store.release();
    this.sessions.delete(id);
    this.catalog?.removed(id, forget);
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
    for (let i = 0; i < ended.length - this.maxEnded; i++) this.remove(ended[i]!.id, false);
  }

  /** An ended session whose every zone was evicted has nothing left to show. */
  private dropFullyEvicted(): void {
    for (const s of this.sessions.values()) {
      if (!s.ended || s.store.zonesEnded === 0) continue;
      let stored = 0;
      for (const t of s.store.threads.values()) stored += t.storedZones;
      if (stored === 0) this.remove(s.id, false);
    }
  }
}
