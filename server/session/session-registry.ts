import type { InflatePool } from '../ingest/inflate-pool.js';
import { log } from '../log.js';
import { MemoryBudget } from '../store/memory-budget.js';
import { ConnectionGate, type ConnectionLimits, type ConnectionRefusal } from './connection-gate.js';
import { Session, type EndReason, type SessionTransport } from './session.js';

export type { ConnectionRefusal } from './connection-gate.js';

export interface RegistryOptions extends ConnectionLimits {
  /** Memory budget of all sessions' stores, in bytes (default 1 GiB). */
  memoryBytes?: number;
  /**
   * Ended sessions kept listed (default 200). Past it, ended sessions that never delivered a
   * frame go first, then those whose data has all left the budget; one whose data is still in
   * the budget is never dropped by this count (the budget bounds those).
   */
  maxEndedSessions?: number;
  queryCredit?: number;
  /** ms a network session (tcp, ws, connect) has to deliver a valid welcome (default 5000; 0 = no limit). */
  handshakeTimeoutMs?: number;
  /** ms of silence after which a live network session is closed (default 60000; 0 = never). */
  idleTimeoutMs?: number;
  /**
   * Ingest workers that decompress network sessions' streams (tcp, ws, connect) off the main
   * thread; absent or null: they are decoded on the main thread like imports and captures.
   */
  inflatePool?: InflatePool | null;
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000;
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/**
 * Sources whose sessions arrive over the network: they get the handshake and idle timeouts
 * and are listed only once their handshake is over. Imports, captures and replays are fed by
 * the server itself and are listed at once.
 */
const NETWORK_SOURCES: ReadonlySet<string> = new Set(['tcp', 'ws', 'connect']);

/**
 * 'added': a session was created (a network one is not listed yet: `listed` follows once its
 * handshake is over; one that closes or times out first only gets 'ended' and is never listed).
 * 'forgotten': a stored session (never loaded) was deleted from the list.
 */
export type RegistryEvent = { type: 'added' | 'listed' | 'ended' | 'deleted'; session: Session } | { type: 'forgotten'; id: string };

/** Why an ended session left the list without a DELETE (counted in /metrics). */
export type DropReason = 'empty' | 'evicted' | 'fully-evicted';

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
  /** 'capture' (a --data file, the default) or 'clickhouse' */
  source?: string;
  /** zones, when the catalog knows them before loading (ClickHouse) */
  zones?: number;
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
  /**
   * The peer's address (no port) of an ingest connection (source tcp or ws) that admit()
   * let in: counted against the connection limits until the session ends.
   */
  address?: string;
  /** Count the session's zones instead of keeping them (SessionOptions.countZonesOnly). */
  countZonesOnly?: boolean;
}

/**
 * Every session of this server: live ones and ended ones (listed with why they ended until
 * deleted, dropped because too many ended ones are kept, or until all their data was evicted).
 * A network session is listed once its handshake is over (welcome read, or refused with a
 * reason); until then it is pending: not listed, not found by get(), closed after the
 * handshake timeout.
 */
export class SessionRegistry {
  readonly budget: MemoryBudget;
  /** Open ingest connections and their limits (admit()). */
  readonly gate: ConnectionGate;
  private readonly sessions = new Map<string, Session>();
  /** Network sessions whose handshake is not over: never listed. */
  private readonly pending = new Map<string, Session>();
  private nextId = 1;
  private readonly maxEnded: number;
  private readonly queryCredit: number | undefined;
  private readonly handshakeTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  /** Where network sessions decompress their streams (null: on this thread). */
  readonly inflatePool: InflatePool | null;
  private readonly listeners = new Set<(e: RegistryEvent) => void>();
  private catalog: SessionCatalog | null = null;
  /** Sessions that ended with a protocol error, ever (for /metrics). */
  protocolErrors = 0;
  /** Listed sessions that ended, by reason, ever (for /metrics). */
  readonly endedByReason = new Map<EndReason, number>();
  /** Ended sessions dropped from the list without a DELETE, by reason, ever (for /metrics). */
  readonly dropped = new Map<DropReason, number>();

  constructor(options: RegistryOptions = {}) {
    this.budget = new MemoryBudget(options.memoryBytes ?? 2 ** 30);
    this.maxEnded = options.maxEndedSessions ?? 200;
    this.queryCredit = options.queryCredit;
    this.handshakeTimeoutMs = nonNegative('handshakeTimeoutMs', options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS);
    this.idleTimeoutMs = nonNegative('idleTimeoutMs', options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
    this.gate = new ConnectionGate(options);
    this.inflatePool = options.inflatePool ?? null;
  }

  /**
   * Asks whether a new ingest connection (TCP or /ingest WebSocket) from `address` may open.
   * A refusal is counted (connections rejected, by reason) and logged; the caller closes the
   * connection at once and creates no session.
   * @returns null when it may, else why not
   */
  admit(address: string): ConnectionRefusal | null {
    return this.gate.admit(address);
  }

  /** Lists and loads stored sessions through `catalog` (see SessionCatalog). */
  useCatalog(catalog: SessionCatalog): void {
    this.catalog = this.catalog ? new CatalogChain(this.catalog, catalog) : catalog;
  }

  /**
   * Creates a session for a new connection; the caller starts it and feeds it bytes.
   * @throws Error when `options.id` is already in memory
   */
  create(transport: SessionTransport, source: string, remote: string, options: CreateOptions = {}): Session {
    let id = options.id;
    if (id !== undefined && (this.sessions.has(id) || this.pending.has(id))) throw new Error(`session ${id} already exists`);
    if (id === undefined) {
      // new ids skip those of stored captures, so a restarted server never reuses a file's id
      do id = String(this.nextId++);
      while (this.sessions.has(id) || this.pending.has(id) || this.catalog?.has(id));
    }
    const network = NETWORK_SOURCES.has(source);
    const session = new Session({
      id,
      budget: this.budget,
      transport,
      source,
      remote,
      ...(this.queryCredit !== undefined ? { queryCredit: this.queryCredit } : {}),
      ...(options.startedAt !== undefined ? { startedAt: options.startedAt } : {}),
      ...(options.countZonesOnly === true ? { countZonesOnly: true } : {}),
      ...(network ? { handshakeTimeoutMs: this.handshakeTimeoutMs, idleTimeoutMs: this.idleTimeoutMs, inflatePool: this.inflatePool } : {}),
    });
    const address = options.address;
    if (address !== undefined) this.gate.opened(address);
    session.onHandshake = (s) => {
      if (!this.pending.delete(s.id)) return;
      this.sessions.set(s.id, s);
      this.emit({ type: 'listed', session: s });
    };
    session.onEnd = (s) => {
      if (address !== undefined) this.gate.closed(address);
      if (this.pending.delete(s.id)) {
        // never listed: it closed or timed out before its welcome
        if (s.endReason !== 'server-closed') this.gate.rejected(s.endReason === 'handshake-timeout' ? 'handshake-timeout' : 'handshake-closed');
        s.store.release();
        this.emit({ type: 'ended', session: s });
        return;
      }
      if (s.endReason === 'protocol-error') this.protocolErrors++;
      if (s.endReason !== null) this.endedByReason.set(s.endReason, (this.endedByReason.get(s.endReason) ?? 0) + 1);
      this.emit({ type: 'ended', session: s });
      this.trimEnded();
    };
    (network ? this.pending : this.sessions).set(id, session);
    this.emit({ type: 'added', session });
    if (!network) this.emit({ type: 'listed', session });
    return session;
  }

  /** Network sessions whose handshake is not over (not listed). */
  get pendingCount(): number {
    return this.pending.size;
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
  private remove(id: string, forget: boolean, dropped?: DropReason): boolean {
    const session = this.sessions.get(id);
    if (!session) return false;
    session.stop('deleted');
    session.store.release();
    this.sessions.delete(id);
    this.catalog?.removed(id, forget);
    if (dropped !== undefined) {
      this.dropped.set(dropped, (this.dropped.get(dropped) ?? 0) + 1);
      log('session %s dropped from the list (%s): %s', id, session.endReason ?? '?', DROP_TEXT[dropped]);
    }
    this.emit({ type: 'deleted', session });
    return true;
  }

  /** Stops every live session, listed or pending (server shutdown). */
  stopAll(): void {
    for (const s of [...this.pending.values()]) s.stop('server-closed');
    for (const s of this.sessions.values()) s.stop('server-closed');
  }

  subscribe(fn: (e: RegistryEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(e: RegistryEvent): void {
    for (const fn of this.listeners) fn(e);
  }

  /**
   * The keep rule: past maxEnded ended sessions, drop (oldest first) those that never delivered
   * a frame, then those whose data has all left the budget. A session with data still in the
   * budget stays: a flood of empty connections can never push real data out of the list.
   */
  private trimEnded(): void {
    const ended: Session[] = [];
    for (const s of this.sessions.values()) if (s.ended) ended.push(s);
    let excess = ended.length - this.maxEnded;
    for (let i = 0; i < ended.length && excess > 0; i++) {
      const s = ended[i]!;
      if (s.reader.frames === 0 && this.remove(s.id, false, 'empty')) excess--;
    }
    for (let i = 0; i < ended.length && excess > 0; i++) {
      const s = ended[i]!;
      if (this.sessions.has(s.id) && s.store.budget.segments === 0 && this.remove(s.id, false, 'evicted')) excess--;
    }
  }

  /** An ended session whose every zone was evicted has nothing left to show. */
  private dropFullyEvicted(): void {
    for (const s of this.sessions.values()) {
      if (!s.ended || s.store.zonesEnded === 0) continue;
      let stored = 0;
      for (const t of s.store.threads.values()) stored += t.storedZones;
      if (stored === 0) this.remove(s.id, false, 'fully-evicted');
    }
  }
}

const DROP_TEXT: Record<DropReason, string> = {
  empty: 'more ended sessions than kept, and it never delivered a frame',
  evicted: 'more ended sessions than kept, and all its data had been evicted from the budget',
  'fully-evicted': 'every zone it had was evicted from the budget',
};

function nonNegative(name: string, value: number): number {
  if (!(value >= 0) || !Number.isFinite(value)) throw new TypeError(`${name} must be a non-negative number of ms, got ${value}`);
  return value;
}

/** Two catalogs as one (--data and --clickhouse): ids are the first's when both have them. */
class CatalogChain implements SessionCatalog {
  constructor(
    private readonly a: SessionCatalog,
    private readonly b: SessionCatalog,
  ) {}
  has(id: string): boolean {
    return this.a.has(id) || this.b.has(id);
  }
  stored(): StoredSession[] {
    const a = this.a.stored();
    const b = this.b.stored();
    return a.length === 0 ? b : b.length === 0 ? a : [...a, ...b].sort((x, y) => x.startedAt - y.startedAt);
  }
  load(id: string, registry: SessionRegistry): Session | undefined {
    return this.a.load(id, registry) ?? this.b.load(id, registry);
  }
  async ready(id: string): Promise<void> {
    await Promise.all([this.a.ready(id), this.b.ready(id)]);
  }
  removed(id: string, forget: boolean): boolean {
    const a = this.a.removed(id, forget);
    const b = this.b.removed(id, forget);
    return a || b;
  }
}

/** Resolves when `session` has ended (at once if it has). */
export function sessionEnded(registry: SessionRegistry, session: Session): Promise<void> {
  return new Promise<void>((resolve) => {
    if (session.ended) return resolve();
    const off = registry.subscribe((e) => {
      if (e.type === 'ended' && e.session === session) {
        off();
        resolve();
      }
    });
  });
}

/**
 * The transport of a session fed from something already recorded (a capture upload, rows read
 * from ClickHouse): what the session sends goes nowhere, and its backpressure pauses the feeder,
 * which awaits `flowing()` between chunks.
 */
export function recordedTransport(): { transport: SessionTransport; flowing(): Promise<void>; readonly closed: boolean } {
  let paused = false;
  let closed = false;
  let wake: (() => void) | null = null;
  const transport: SessionTransport = {
    write: () => {},
    close: () => {
      closed = true;
      wake?.();
    },
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
      wake?.();
    },
  };
  return {
    transport,
    flowing: async () => {
      while (paused && !closed) await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    },
    get closed() {
      return closed;
    },
  };
}
