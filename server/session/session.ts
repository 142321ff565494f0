import type { ClickHouseViews } from '../fleet/clickhouse-views.js';
import {
  encodeHandshake,
  ProtocolError,
  SERVER_QUERY_PACKET_SIZE,
  ServerQuery,
  type OnDemandPayload,
  type StreamReaderHooks,
  type WelcomeMessage,
} from '../../protocol/tracy/index.js';
import { RECLAIM_WIRE_BYTES, reclaimSoon, reclaimYoungSoon } from '../store/array-pool.js';
import { BudgetAccount, type MemoryBudget } from '../store/memory-budget.js';
import { SessionStore, useDecoderTables } from '../store/session-store.js';
import { ZoneCountingStore } from '../store/zone-counting-store.js';
import type { InflatePool } from '../ingest/inflate-pool.js';
import { SyncDecodeSource, WorkerDecodeSource, type DecodeSource, type SessionReader } from './decode-source.js';
import { log } from '../log.js';

/**
 * The byte sink towards the app and the flow control of the byte source. Each transport (TCP
 * socket, WebSocket, a test's in-memory pair) provides one.
 */
export interface SessionTransport {
  /** Sends bytes to the app (handshake, query packets). */
  write(bytes: Uint8Array): void;
  /** Ends the connection. */
  close(): void;
  /** Stop delivering bytes until resume() (backpressure while the decoder is behind). */
  pause(): void;
  resume(): void;
}

export type SessionState = 'handshake' | 'live' | 'ended';
/**
 * How a session ended: the app said Terminate; the connection closed; its bytes were invalid;
 * no valid welcome within the handshake timeout; nothing received within the idle timeout; ...
 */
export type EndReason =
  | 'terminated'
  | 'disconnected'
  | 'protocol-error'
  | 'handshake-rejected'
  | 'handshake-timeout'
  | 'idle-timeout'
  | 'store-error'
  | 'server-closed'
  | 'deleted';

export interface SessionError {
  code: string;
  message: string;
  /** byte offset in the app's stream */
  offset: number;
  /** queue type, or -1 */
  queueType: number;
}

export interface SessionOptions {
  id: string;
  budget: MemoryBudget;
  transport: SessionTransport;
  /** 'tcp' (app dialed in), 'ws' (WebSocket ingest), 'connect' (we dialed a Tracy client), 'replay' */
  source: string;
  /** remote address, for the session list */
  remote: string;
  /** query packets allowed in flight (Tracy: min(SO_SNDBUF / 13, 8192) - 4; ~1000 is its fallback) */
  queryCredit?: number;
  /** how long to wait for query answers after Terminate before closing anyway (ms) */
  terminateGraceMs?: number;
  /** epoch ms the session started (default now; a session loaded from a capture keeps the original's) */
  startedAt?: number;
  /** ms from start() until the welcome must have been read, else the session ends 'handshake-timeout'; 0 or absent = none */
  handshakeTimeoutMs?: number;
  /** ms without a byte from a live app (and nothing left to decode) before it ends 'idle-timeout'; 0 or absent = none */
  idleTimeoutMs?: number;
  /** Ingest workers to decompress this stream on (absent: everything on the main thread). */
  inflatePool?: InflatePool | null;
  /** Count zones instead of keeping them (ZoneCountingStore: `zonescope capture`); default false. */
  countZonesOnly?: boolean;
  /** Wire bytes between two young-generation GCs it asks for (array-pool.ts reclaimYoungSoon); default RECLAIM_WIRE_BYTES. */
  reclaimEveryBytes?: number;
  /** Wire bytes after which its end asks for a full GC (array-pool.ts reclaimSoon); default RECLAIM_AFTER_BYTES. */
  reclaimAtEndBytes?: number;
}

/** Bytes decoded per event-loop turn: bounded so one busy app never stalls the others. */
const SLICE_BYTES = 128 * 1024;
/**
 * Milliseconds of decoding per event-loop turn. The byte bound above is not enough on its own:
 * LZ4 turns 128 KiB of wire into up to ~32 MiB of items, seconds of work. Input is fed in
 * steps of STEP_BYTES and the clock is read between steps, so a slice overshoots by at most
 * the frames one step completes (a frame of 256 KiB of items takes at least ~1 KiB of wire).
 * 3 ms, not 8: in one event-loop turn an HTTP request can wait for this turn's receive-time
 * decoding, a slice per busy session and a live viewer's build slice, plus a GC pause; with
 * 8 + 4 + 3 ms that stacked past 20 ms for about one request in 100 during a stress intake.
 * Smaller slices cost nothing measurable in intake (a slice is ~50,000 items).
 */
const SLICE_MS = 3;
/**
 * Milliseconds of decoding that receive() does as bytes arrive, all sessions together, per
 * event-loop turn. libuv hands a socket's data over in up to 32 reads of 64 KiB per turn, and a
 * decoder that keeps up with them would otherwise decode all of them (~2 MiB of wire, ~35 ms
 * for a Tracy stream) before the loop gets to an HTTP request or a live viewer's tick. Past it,
 * the session pauses its transport (the rest waits in the kernel) and decodes in the next
 * turns' slices instead. 3 ms, like a slice, for the reason SLICE_MS gives.
 */
const RECEIVE_TURN_MS = 3;
let receiveTurnEnd = 0;
let receiveTurnOpen = false;
/**
 * Slices scheduled (setImmediate) and not run yet, all sessions together. While any session
 * waits for one, receive() decodes nothing itself: every busy session then decodes in slices of
 * the same size, one per turn each, instead of the one whose socket libuv reads first also
 * taking the turn's receive-time decoding (8 stress streams at once ended up to 907 ms apart
 * that way, within 70 ms with this rule).
 */
let slicesScheduled = 0;

/** The deadline of this turn's decoding in receive(); the first call in a turn opens it. */
function receiveTurnDeadline(): number {
  if (!receiveTurnOpen) {
    receiveTurnOpen = true;
    receiveTurnEnd = performance.now() + RECEIVE_TURN_MS;
    setImmediate(() => (receiveTurnOpen = false));
  }
  return receiveTurnEnd;
}
const MAX_PACKETS_PER_WRITE = 4096;
/** Wire bytes after which a session's end runs a GC (array-pool.ts reclaimSoon): one per large stream, none per small one. */
const RECLAIM_AFTER_BYTES = 16 * 2 ** 20;
const HANDSHAKE_REJECTIONS: ReadonlySet<string> = new Set(['ZS_PROTOCOL_HANDSHAKE_REJECTED', 'ZS_PROTOCOL_BAD_WELCOME']);
/**
 * What a session keeps besides its store's segments and tables, charged to the budget once its
 * welcome is read: this object, its reader and decoder (counters, welcome, histogram, empty
 * tables) and its store's records. Measured: an ended session with a welcome and no frame
 * retains 9.6 KiB (heap and arrays) plus the native records of its few typed arrays.
 */
export const SESSION_BYTES = 12 * 1024;

/**
 * One connected app: the Tracy conversation from the receiver's side (tracy-protocol.md 1.3,
 * 3, 1.7), over any transport. It speaks first (handshake), decodes what arrives in bounded
 * slices, feeds the store, asks for every unknown pointer with the server's query-credit
 * flow control, and ends on Terminate, on close (keeping everything decoded) or on the first
 * protocol error (with the reason, offset and queue type).
 */
export class Session {
  readonly id: string;
  readonly source: string;
  readonly remote: string;
  readonly store: SessionStore;
  readonly reader: SessionReader;
  readonly startedAt: number;
  state: SessionState = 'handshake';
  endReason: EndReason | null = null;
  endedAt: number | null = null;
  error: SessionError | null = null;
  /** Set when the stream stopped inside a frame or header: what was cut. */
  truncation: string | null = null;
  welcome: WelcomeMessage | null = null;
  onDemand: OnDemandPayload | null = null;
  queriesSent = 0;
  /**
   * A session stored in ClickHouse: its zones and messages stay there and its views are answered
   * from SQL (server/fleet/clickhouse-views.ts); its store holds frames and plots. Null otherwise.
   */
  sqlViews: ClickHouseViews | null = null;
  /** Called once when the session ends. */
  onEnd: ((session: Session) => void) | null = null;
  /** Byte tap: every chunk receive() accepts, as it arrives, before decoding (the --data spool). */
  onBytes: ((chunk: Uint8Array) => void) | null = null;
  /**
   * Called once when the handshake is over: the welcome was read (the session is live), or the
   * app refused or sent an unusable welcome (called just before the session ends). Not called
   * when the connection closed or timed out first.
   */
  onHandshake: ((session: Session) => void) | null = null;

  private readonly transport: SessionTransport;
  /** Decode-buffer bytes charged to the budget (chargeDecodeBuffers). */
  private decodeCharged = 0;
  private readonly credit: number;
  private readonly terminateGraceMs: number;
  /** Where the bytes are decoded (this thread, or an ingest worker + this thread). */
  private readonly decode: DecodeSource;
  private scheduled = false;
  private paused = false;
  /** The transport closed; the session ends once what arrived before is decoded. */
  private closed = false;
  private terminateSent = false;
  private graceTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly handshakeTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  /** The handshake timer, then the idle timer (one at a time). */
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** performance.now() of the last chunk received. */
  private lastReceiveMs = 0;
  /** Wire bytes since this session last asked for a young-generation GC (array-pool.ts reclaimYoungSoon). */
  private wireSinceReclaim = 0;
  private readonly reclaimEveryBytes: number;
  private readonly reclaimAtEndBytes: number;

  constructor(options: SessionOptions) {
    this.id = options.id;
    this.source = options.source;
    this.remote = options.remote;
    this.transport = options.transport;
    this.credit = options.queryCredit ?? 1000;
    this.terminateGraceMs = options.terminateGraceMs ?? 10_000;
    this.startedAt = options.startedAt ?? Date.now();
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 0;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 0;
    this.reclaimEveryBytes = options.reclaimEveryBytes ?? RECLAIM_WIRE_BYTES;
    this.reclaimAtEndBytes = options.reclaimAtEndBytes ?? RECLAIM_AFTER_BYTES;
    const account = new BudgetAccount(options.budget);
    this.store = options.countZonesOnly === true ? new ZoneCountingStore(account) : new SessionStore(account);
    const hooks: StreamReaderHooks = {
      onWelcome: (welcome, onDemand) => {
        // a budget that cannot hold it ends the session store-error (the charge throws BudgetError)
        this.store.budget.charge(SESSION_BYTES);
        this.welcome = welcome;
        this.onDemand = onDemand;
        this.state = 'live';
        log('session %s: %s pid %s via %s from %s', this.id, welcome.programName, String(welcome.pid), this.source, this.remote);
        this.clearTimer();
        if (this.idleTimeoutMs > 0) {
          this.lastReceiveMs = performance.now();
          this.armIdle(this.idleTimeoutMs);
        }
        this.onHandshake?.(this);
      },
      onFrame: () => {
        this.store.version++;
        this.chargeDecodeBuffers();
        this.sendQueries();
      },
    };
    this.decode = options.inflatePool
      ? new WorkerDecodeSource(options.inflatePool, this.store, hooks, () => this.wake())
      : new SyncDecodeSource(this.store, hooks);
    this.reader = this.decode.reader;
    // the store resolves names through the reader's tables (source locations, strings, threads)
    useDecoderTables(this.store, this.reader.decoder);
  }

  /** Speaks first: the 12-byte handshake; the handshake timeout starts now. */
  start(): void {
    if (this.handshakeTimeoutMs > 0 && this.state === 'handshake' && this.timer === null) {
      this.timer = setTimeout(() => this.handshakeTimedOut(), this.handshakeTimeoutMs);
      this.timer.unref?.();
    }
    this.transport.write(encodeHandshake());
  }

  /** Bytes from the app. Decoding happens in slices; the transport is paused while behind. */
  receive(chunk: Uint8Array): void {
    if (this.state === 'ended' || this.closed || chunk.length === 0) return;
    this.lastReceiveMs = performance.now();
    this.wireSinceReclaim += chunk.length;
    if (this.wireSinceReclaim >= this.reclaimEveryBytes) {
      this.wireSinceReclaim = 0;
      reclaimYoungSoon();
    }
    this.onBytes?.(chunk);
    this.decode.receive(chunk);
    if (!this.scheduled && this.decode.ready) {
      const deadline = slicesScheduled === 0 ? receiveTurnDeadline() : 0;
      if (performance.now() < deadline) this.drain(deadline);
      else {
        // this turn's receive-time decoding is spent, or other sessions wait for their slices:
        // the next turns decode, and read, the rest
        this.pauseTransport();
        this.scheduleSlice();
      }
    } else if (!this.paused && this.decode.behind) this.pauseTransport();
  }

  /**
   * The connection closed (the app exited, crashed or the network broke). Whatever already
   * arrived is decoded first, in slices like the rest (a closed socket can leave a chunk that
   * decompresses to many MiB of items), and then the session ends with how the stream ended.
   */
  connectionClosed(): void {
    if (this.state === 'ended' || this.closed) return;
    this.closed = true;
    this.decode.close();
    if (!this.scheduled) this.drain();
  }

  /** Ends the session from the server's side (shutdown, delete): tells the app and closes. */
  stop(reason: EndReason = 'server-closed'): void {
    if (this.state === 'ended') return;
    this.sendTerminate();
    this.end(reason);
  }

  /** Bytes received from the app so far (status byte onwards). */
  get bytesReceived(): number {
    return this.reader.bytes;
  }

  /**
   * Bytes this session holds outside its store: decode buffers and chunks waiting to be decoded.
   * 0 once ended (what it keeps then is its store, charged to the budget, and its tables).
   */
  get retainedBytes(): number {
    return this.decode.retainedBytes;
  }

  /**
   * Keeps the budget's charge for this session's decode buffers (LZ4 window, split-frame buffer,
   * decoder scratch: up to ~0.9 MiB while it streams) equal to what the reader holds, so live
   * connections count against the memory budget like stored data: with 50 apps streaming, ~45
   * MiB of store is evicted to pay for them instead of the process growing past budget + its
   * fixed overhead. The charge evicts segments to make room; when even that cannot (the budget
   * is smaller than the live connections' buffers), it is retried after the next frame and the
   * buffers stay bounded by --max-connections. They are not the store's bytes: the session's
   * storeBytes leave them out, the budget's used bytes (zonescope_store_bytes) include them.
   */
  private chargeDecodeBuffers(): void {
    const held = this.reader.retainedBytes;
    if (held !== this.decodeCharged && this.store.budget.budget.chargeBuffers(held - this.decodeCharged)) this.decodeCharged = held;
  }

  /** Read through a method so TypeScript does not narrow it across calls that change it. */
  get ended(): boolean {
    return this.state === 'ended';
  }

  /**
   * The ingest worker answered: decode in the next turn unless a slice is already scheduled.
   * Not at once: worker messages arrive back to back, and a slice per message would run many
   * slices in one event-loop turn, starving HTTP requests and live viewers.
   */
  private wake(): void {
    if (this.scheduled || this.ended) return;
    this.scheduleSlice();
  }

  /** Decode a slice in a later turn (setImmediate), counted in slicesScheduled until it runs. */
  private scheduleSlice(): void {
    this.scheduled = true;
    slicesScheduled++;
    setImmediate(() => this.drain());
  }

  private pauseTransport(): void {
    if (this.paused || this.closed) return;
    this.paused = true;
    this.transport.pause();
  }

  /** Decodes one slice (until `untilMs`, SLICE_MS by default), then schedules the next or resumes the transport. */
  private drain(untilMs = performance.now() + SLICE_MS): void {
    // called by its scheduled turn, or at once (receive, connectionClosed) when none is scheduled
    if (this.scheduled) slicesScheduled--;
    this.scheduled = false;
    try {
      this.decode.decodeSlice(untilMs, SLICE_BYTES);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (this.ended) return;
    if (this.decode.ready) {
      if (this.decode.behind) this.pauseTransport();
      this.scheduleSlice();
    } else if (this.closed) {
      if (this.decode.finished) {
        this.truncation = this.decode.truncation();
        this.end(this.store.terminated ? 'terminated' : 'disconnected');
      }
    } else if (this.paused && !this.decode.behind) {
      this.paused = false;
      this.transport.resume();
    }
  }

  private fail(err: unknown): void {
    if (err instanceof ProtocolError) {
      this.error = { code: err.code, message: err.message, offset: err.offset, queueType: err.queueType };
      log('session %s: protocol error %s at offset %d: %s', this.id, err.code, err.offset, err.message);
      this.sendTerminate();
      const rejected = HANDSHAKE_REJECTIONS.has(err.code);
      // a refused handshake is over too: the session is listed with why it was refused
      if (rejected && this.state === 'handshake') this.onHandshake?.(this);
      this.end(rejected ? 'handshake-rejected' : 'protocol-error');
    } else {
      const e = err as { code?: unknown; message?: unknown };
      this.error = {
        code: typeof e.code === 'string' ? e.code : 'ZS_SESSION_INTERNAL',
        message: typeof e.message === 'string' ? e.message : String(err),
        offset: this.reader.bytes,
        queueType: -1,
      };
      log('session %s: %s', this.id, this.error.message);
      // tables that outgrew the whole budget would keep it full for everyone: give them back
      if (this.error.code === 'ZS_STORE_BUDGET') this.store.discardAll();
      this.sendTerminate();
      this.end('store-error');
    }
  }

  /** After each frame: send what the credit allows; after Terminate, finish when answered. */
  private sendQueries(): void {
    const decoder = this.reader.decoder;
    const inFlight = this.queriesSent - decoder.repliesCounted;
    const room = Math.min(this.credit - inFlight, MAX_PACKETS_PER_WRITE);
    if (room > 0 && decoder.queries.length > 0) {
      // a new buffer per write (the transport keeps it until sent), sized to what goes out
      const packet = new Uint8Array(Math.min(room, decoder.queries.length) * SERVER_QUERY_PACKET_SIZE);
      const n = decoder.queries.drainInto(packet, 0, room);
      this.queriesSent += n;
      this.transport.write(packet);
    }
    if (decoder.terminated && !this.terminateSent) {
      const outstanding = decoder.queries.length + (this.queriesSent - decoder.repliesCounted);
      if (outstanding <= 0) {
        this.sendTerminate();
        this.end('terminated');
      } else if (this.graceTimer === null) {
        this.graceTimer = setTimeout(() => {
          log('session %s: %d queries unanswered %d ms after Terminate; closing', this.id, outstanding, this.terminateGraceMs);
          this.sendTerminate();
          this.end('terminated');
        }, this.terminateGraceMs);
        this.graceTimer.unref?.();
      }
    }
  }

  private sendTerminate(): void {
    if (this.terminateSent || this.state === 'ended') return;
    this.terminateSent = true;
    const packet = new Uint8Array(SERVER_QUERY_PACKET_SIZE);
    packet[0] = ServerQuery.Terminate;
    try {
      this.transport.write(packet);
    } catch {
      // the connection is already gone: nothing to tell
    }
  }

  private handshakeTimedOut(): void {
    this.timer = null;
    if (this.state !== 'handshake' || this.closed) return;
    log('session %s: no valid welcome from %s within %d ms; closing', this.id, this.remote, this.handshakeTimeoutMs);
    this.end('handshake-timeout');
  }

  /** The idle timer fires `delayMs` from now; it re-arms itself while bytes keep arriving. */
  private armIdle(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.state !== 'live' || this.closed) return;
      const quietMs = performance.now() - this.lastReceiveMs;
      // a session still decoding what arrived (paused: backpressure) is busy, not idle
      if (quietMs < this.idleTimeoutMs || !this.decode.idle) {
        this.armIdle(Math.max(1, this.idleTimeoutMs - quietMs));
        return;
      }
      log('session %s: nothing received for %d ms; closing', this.id, Math.round(quietMs));
      this.stop('idle-timeout');
    }, delayMs);
    this.timer.unref?.();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private end(reason: EndReason): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.endReason = reason;
    this.endedAt = Date.now();
    this.clearTimer();
    // what an ended session keeps is its store (charged to the budget) and its tables
    this.decode.release();
    this.chargeDecodeBuffers(); // gives them back
    this.store.compact();
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.store.version++;
    try {
      // A paused transport cannot read the peer's side of the close (a WebSocket's close frame,
      // a TCP FIN): the close would wait for its timeout (30 s for ws). What arrives now is
      // dropped by receive().
      if (this.paused) {
        this.paused = false;
        this.transport.resume();
      }
      this.transport.close();
    } catch {
      // already closed
    }
    // its socket reads and decode garbage, tens of MiB for a large stream, back at once
    if (this.bytesReceived >= this.reclaimAtEndBytes) reclaimSoon();
    log('session %s ended: %s%s', this.id, reason, this.truncation ? ` (${this.truncation})` : '');
    this.onEnd?.(this);
  }
}
