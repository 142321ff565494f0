import { decode, encode } from '@msgpack/msgpack';
import type { WebSocket } from 'ws';
import type { SessionRegistry } from '../session/session-registry.js';
import type { Session } from '../session/session.js';
import { toMsgpack } from './encode.js';
import { buildLiveUpdate, buildSqlLiveUpdate, LIVE_UPDATE_MAX_BYTES, LIVE_UPDATE_MIN_BYTES, type BuiltUpdate, type LiveViewport } from './live-update.js';
import { sessionList } from './session-view.js';
import { log } from '../log.js';

/** Updates per second at most, per viewer (the tick). */
const RATE_HZ = 30;
/**
 * Bytes a viewer may have unsent before the hub stops sending it anything but its one update
 * in flight: session lists and error replies past it are skipped and counted (a session list is
 * sent again at the next tick that finds room, so nothing is lost but intermediate states).
 */
export const LIVE_CONTROL_MAX_BYTES = 256 * 1024;
/** Largest message a viewer may send (bytes): requests are a few hundred bytes; larger ones close the socket (1009). */
export const LIVE_MAX_MESSAGE_BYTES = 64 * 1024;
/** Default maximum number of /api/live connections (--max-viewers). */
export const DEFAULT_MAX_VIEWERS = 64;
/** WebSocket close code for a viewer refused because of --max-viewers (1013 "Try Again Later"). */
export const LIVE_REFUSED_CLOSE_CODE = 1013;
/** A refused viewer that does not answer the close handshake is cut off after this (ms). */
const REFUSED_LINGER_MS = 2000;

export interface LiveHubOptions {
  /** /api/live connections at most; the next ones are closed with 1013 (default 64). */
  maxViewers?: number;
  /** Byte cap of one update, msgpack-encoded (default LIVE_UPDATE_MAX_BYTES, 2 MiB; at least 16 KiB). */
  maxUpdateBytes?: number;
}

/** Counters of the hub since it started (for /metrics). */
export interface LiveHubCounters {
  viewers: number;
  maxViewers: number;
  /** Connections closed with 1013 because maxViewers were connected. */
  refused: number;
  /** Updates sent. */
  updates: number;
  /** Subscribe/viewport requests folded into a later update (one was in flight, or sent this tick). */
  coalesced: number;
  /** Ticks or messages that found a viewer's socket still busy, so nothing was sent. */
  skipped: number;
  /** Updates made coarser or cut to fit maxUpdateBytes. */
  reduced: number;
  /** Updates sent from a build another viewer with the same viewport of the same session version started (built and encoded once). */
  shared: number;
  /** Ticks of the hub's timer. */
  ticks: number;
  /** Builds held for sharing now: under way, or finished and kept (at most SHARED_KEEP of those). */
  sharedBuilds: number;
}

/** An update built and encoded once for every viewer with its viewport while the session is at `version`. */
interface SharedBuild {
  session: string;
  version: number;
  done: Promise<{ bytes: Uint8Array; reduced: boolean }>;
  /** built (or failed): it holds its bytes only for viewers that ask the same later */
  settled: boolean;
}

/**
 * Finished builds kept for viewers that ask for the same viewport of the same version later (a
 * session that no longer changes keeps its version): at most this many, the oldest dropped first,
 * so they hold at most 4 x the update cap (8 MiB by default) besides the builds under way.
 */
const SHARED_KEEP = 4;

interface Viewer extends LiveViewport {
  ws: WebSocket;
  session: string | null;
  sentVersion: number;
  sentSessions: number;
  /** an update is written but its send has not completed: the next one waits */
  inFlight: boolean;
  /** a request arrived (or data changed) while one was in flight or sent this tick */
  wanted: boolean;
  /** the tick number of the last update sent */
  sentTick: number;
  /** subscribe/viewport requests received */
  requests: number;
  updates: number;
  coalesced: number;
  skipped: number;
  largestUpdateBytes: number;
  /** the subscribed session is still being read from a catalog (--data, --clickhouse): no update until it is */
  loading: boolean;
}

/**
 * The viewer WebSocket (/api/live): msgpack both ways. A viewer subscribes to a session and a
 * viewport; at most 30 times a second it gets what changed in its viewport (zones at its level
 * of detail, frames, plots) with numeric columns as typed-array bytes.
 *
 * Bounds (docs/server.md, "Live viewers"):
 * - at most `maxViewers` connections; the next one is closed with 1013 and a reason that names
 *   the limit and --max-viewers (cut off after 2 s if it does not answer the close);
 * - an update is at most `maxUpdateBytes` encoded: coarser, then cut (`cut: 1`) to fit
 *   (live-update.ts);
 * - at most one update in flight per viewer (written, its send not completed) and at most one
 *   per tick: subscribe/viewport requests that come meanwhile are coalesced, the newest wins,
 *   and the next tick sends one update for it. Session lists and error replies are sent only
 *   while the viewer has at most LIVE_CONTROL_MAX_BYTES unsent, else skipped (and counted).
 * So one viewer holds at most maxUpdateBytes + LIVE_CONTROL_MAX_BYTES + one session list
 * unsent, and all of them maxViewers times that.
 *
 * viewer -> server: { type: 'subscribe', session, t0?, t1?, px?, follow?, span? }
 *                   { type: 'viewport', t0, t1, px, follow?, span? }   { type: 'unsubscribe' }
 * server -> viewer: { type: 'sessions', sessions } (on connect and on change)
 *                   { type: 'update', session, version, lastNs, t0, t1, nsPerPx, threads, frames, plots, messages, messagesCut, cut, summary }
 * (types: protocol/view/types.ts)
 *                   { type: 'error', error, code }
 */
export class LiveHub {
  readonly maxViewers: number;
  readonly maxUpdateBytes: number;
  private readonly viewers = new Set<Viewer>();
  private sessionsVersion = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly unsubscribe: () => void;
  private readonly counters = { refused: 0, updates: 0, coalesced: 0, skipped: 0, reduced: 0, shared: 0, ticks: 0 };
  /**
   * Builds under way or done, by session and viewport (sharedKey), for that session's current
   * version only: viewers that follow one session with the same span and width (several tabs,
   * several people) get the bytes of one build. Entries of older versions or gone sessions are
   * dropped whenever one is added, finished ones past SHARED_KEEP when one finishes: there are
   * at most as many under way as viewers.
   */
  private readonly builds = new Map<string, SharedBuild>();

  /** @throws TypeError when maxViewers is not a positive integer or maxUpdateBytes is below 16 KiB */
  constructor(
    private readonly registry: SessionRegistry,
    options: LiveHubOptions = {},
  ) {
    this.maxViewers = options.maxViewers ?? DEFAULT_MAX_VIEWERS;
    this.maxUpdateBytes = options.maxUpdateBytes ?? LIVE_UPDATE_MAX_BYTES;
    if (!(Number.isSafeInteger(this.maxViewers) && this.maxViewers >= 1)) throw new TypeError(`maxViewers ${this.maxViewers} is not a positive integer`);
    if (!(Number.isSafeInteger(this.maxUpdateBytes) && this.maxUpdateBytes >= LIVE_UPDATE_MIN_BYTES)) {
      throw new TypeError(`maxUpdateBytes ${this.maxUpdateBytes} is not an integer >= ${LIVE_UPDATE_MIN_BYTES}`);
    }
    this.unsubscribe = registry.subscribe(() => this.sessionsVersion++);
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** The hub's counters since it started. */
  stats(): LiveHubCounters {
    return { viewers: this.viewers.size, maxViewers: this.maxViewers, ...this.counters, sharedBuilds: this.builds.size };
  }

  /**
   * Per viewer: its session, bytes queued on its socket, whether an update is in flight, and
   * its counts of subscribe/viewport requests, updates sent, requests coalesced, sends skipped,
   * and its largest update (bytes).
   */
  viewerStats(): { session: string | null; bufferedAmount: number; inFlight: boolean; requests: number; updates: number; coalesced: number; skipped: number; largestUpdateBytes: number }[] {
    return [...this.viewers].map((v) => ({
      session: v.session,
      bufferedAmount: v.ws.bufferedAmount,
      inFlight: v.inFlight,
      requests: v.requests,
      updates: v.updates,
      coalesced: v.coalesced,
      skipped: v.skipped,
      largestUpdateBytes: v.largestUpdateBytes,
    }));
  }

  /**
   * Takes a new /api/live connection, or closes it with 1013 when maxViewers are connected.
   * @returns false when it was refused
   */
  attach(ws: WebSocket): boolean {
    if (this.viewers.size >= this.maxViewers) {
      this.counters.refused++;
      ws.on('error', () => {});
      ws.close(LIVE_REFUSED_CLOSE_CODE, `too many viewers (max ${this.maxViewers}): --max-viewers raises it`);
      // a client that never answers the close must not hold the socket for ws's 30 s
      const linger = setTimeout(() => ws.terminate(), REFUSED_LINGER_MS);
      linger.unref?.();
      ws.once('close', () => clearTimeout(linger));
      return false;
    }
    const viewer: Viewer = {
      ws,
      session: null,
      t0: 0,
      t1: 0,
      px: 1000,
      follow: true,
      span: 1e9,
      sentVersion: -1,
      sentSessions: -1,
      inFlight: false,
      wanted: false,
      sentTick: -1,
      requests: 0,
      updates: 0,
      coalesced: 0,
      skipped: 0,
      largestUpdateBytes: 0,
      loading: false,
    };
    this.viewers.add(viewer);
    ws.on('message', (data, isBinary) => this.onMessage(viewer, data as Buffer, isBinary));
    ws.on('close', () => this.viewers.delete(viewer));
    ws.on('error', () => this.viewers.delete(viewer));
    this.sendSessions(viewer);
    if (this.timer === null) {
      this.timer = setInterval(() => this.tick(), 1000 / RATE_HZ);
      this.timer.unref?.();
    }
    return true;
  }

  close(): void {
    this.builds.clear();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe();
    for (const v of this.viewers) v.ws.close();
    this.viewers.clear();
  }

  private onMessage(viewer: Viewer, data: Buffer, isBinary: boolean): void {
    let msg: Record<string, unknown>;
    try {
      msg = (isBinary ? decode(data) : JSON.parse(data.toString('utf8'))) as Record<string, unknown>;
    } catch {
      this.sendError(viewer, 'ZS_LIVE_BAD_MESSAGE', 'message is neither msgpack nor JSON');
      return;
    }
    if (msg === null || typeof msg !== 'object') {
      this.sendError(viewer, 'ZS_LIVE_BAD_MESSAGE', 'message is not an object');
      return;
    }
    const num = (k: string, fallback: number) => (typeof msg[k] === 'number' && Number.isFinite(msg[k]) ? (msg[k] as number) : fallback);
    if (msg.type === 'subscribe') {
      viewer.session = String(msg.session ?? '').slice(0, 200);
      if (!this.registry.get(viewer.session)) {
        this.sendError(viewer, 'ZS_LIVE_NO_SESSION', `no session ${viewer.session}`);
        viewer.session = null;
        return;
      }
      // a stored session (a capture, a ClickHouse session) is shown once read to its end, so
      // the viewer fits its view to the whole of it rather than to what was read so far
      const id = viewer.session;
      viewer.loading = true;
      void this.registry.ready(id).then(() => {
        if (viewer.session !== id) return;
        viewer.loading = false;
        viewer.wanted = true;
        this.pushUpdate(viewer);
      });
    }
    switch (msg.type) {
      case 'subscribe': // a subscription carries a viewport
      case 'viewport':
        viewer.t0 = num('t0', viewer.t0);
        viewer.t1 = num('t1', viewer.t1);
        viewer.px = Math.max(1, num('px', viewer.px));
        viewer.follow = typeof msg.follow === 'boolean' ? msg.follow : viewer.follow;
        viewer.span = num('span', viewer.follow ? viewer.span : viewer.t1 - viewer.t0);
        viewer.sentVersion = -1;
        viewer.requests++;
        if (viewer.loading || viewer.inFlight || viewer.sentTick === this.counters.ticks) {
          // the newest viewport wins: the next tick with nothing in flight sends one update for it
          viewer.wanted = true;
          viewer.coalesced++;
          this.counters.coalesced++;
        } else this.pushUpdate(viewer);
        break;
      case 'unsubscribe':
        viewer.session = null;
        viewer.wanted = false;
        break;
      default:
        this.sendError(viewer, 'ZS_LIVE_BAD_MESSAGE', `unknown message type ${String(msg.type).slice(0, 40)}`);
    }
  }

  private tick(): void {
    this.counters.ticks++;
    for (const viewer of this.viewers) {
      if (viewer.sentSessions !== this.sessionsVersion) this.sendSessions(viewer);
      if (viewer.session === null) continue;
      if (viewer.inFlight) {
        // its last update is still being written: what changed waits for a later tick
        if (viewer.wanted || this.registry.get(viewer.session)?.store.version !== viewer.sentVersion) {
          viewer.skipped++;
          this.counters.skipped++;
        }
        continue;
      }
      this.pushUpdate(viewer);
    }
  }

  private sendSessions(viewer: Viewer): void {
    if (!this.hasControlRoom(viewer)) return; // sentSessions stays behind: a later tick sends the list
    viewer.sentSessions = this.sessionsVersion;
    viewer.ws.send(encode(toMsgpack({ type: 'sessions', sessions: sessionList(this.registry) }), { ignoreUndefined: true }), { binary: true });
  }

  private sendError(viewer: Viewer, code: string, error: string): void {
    // Error replies cannot be coalesced: to a viewer that sends bad messages but does not read
    // them, they are counted as skipped instead of queued without bound.
    if (!this.hasControlRoom(viewer)) return;
    viewer.ws.send(encode({ type: 'error', code, error }), { binary: true });
  }

  private hasControlRoom(viewer: Viewer): boolean {
    if (viewer.ws.readyState !== 1) return false;
    if (viewer.ws.bufferedAmount <= LIVE_CONTROL_MAX_BYTES) return true;
    viewer.skipped++;
    this.counters.skipped++;
    return false;
  }

  private pushUpdate(viewer: Viewer): void {
    if (viewer.session === null || viewer.loading || viewer.inFlight || viewer.ws.readyState !== 1) return;
    const session = this.registry.get(viewer.session);
    if (!session) {
      this.sendError(viewer, 'ZS_LIVE_NO_SESSION', `session ${viewer.session} is gone`);
      viewer.session = null;
      return;
    }
    const store = session.store;
    if (store.version === viewer.sentVersion && !viewer.wanted) return;
    if (session.sqlViews) {
      this.pushSqlUpdate(viewer, session);
      return;
    }
    viewer.sentVersion = store.version;
    viewer.wanted = false;
    viewer.sentTick = this.counters.ticks;
    // in flight from the first slice of the build (live-update.ts) until its bytes are written:
    // viewports that arrive meanwhile coalesce into the next update
    viewer.inFlight = true;
    const id = viewer.session;
    const key = sharedKey(id, viewer);
    let build = this.builds.get(key);
    if (build !== undefined && build.version === store.version) this.counters.shared++;
    else {
      // buildLiveUpdate reads the viewport before its first await: later changes to it do not reach this build
      const done = buildLiveUpdate(session, viewer, this.maxUpdateBytes).then((built) => ({
        bytes: encode(toMsgpack(built.message), { ignoreUndefined: true }),
        reduced: built.reduced,
      }));
      const entry: SharedBuild = { session: id, version: store.version, done, settled: false };
      const settle = () => {
        entry.settled = true;
        this.keepFewSettled();
      };
      done.then(settle, settle);
      this.pruneBuilds();
      this.builds.set(key, entry);
      build = entry;
    }
    build.done.then(
      (update) => {
        if (viewer.session !== id || viewer.ws.readyState !== 1) viewer.inFlight = false;
        else this.sendBytes(viewer, update.bytes, update.reduced);
      },
      (err: Error) => {
        // a bug, not the viewer's doing: say so to it and in the log, and let the next version try again
        viewer.inFlight = false;
        log('live update for session %s failed: %s', id, err.stack ?? err.message);
        this.sendError(viewer, 'ZS_LIVE_UPDATE_FAILED', `the update could not be built: ${err.message.slice(0, 300)}`);
      },
    );
  }

  /** Drops the oldest finished builds past SHARED_KEEP. */
  private keepFewSettled(): void {
    let settled = 0;
    for (const build of this.builds.values()) if (build.settled) settled++;
    for (const [key, build] of this.builds) {
      if (settled <= SHARED_KEEP) break;
      if (!build.settled) continue;
      this.builds.delete(key);
      settled--;
    }
  }

  /** Drops the shared builds of sessions that are gone or have moved past their version. */
  private pruneBuilds(): void {
    for (const [key, build] of this.builds) {
      if (this.registry.get(build.session)?.store.version !== build.version) this.builds.delete(key);
    }
  }

  /**
   * A ClickHouse session's update is built from SQL (buildSqlLiveUpdate): the viewer is in
   * flight from the first statement until its bytes are written, so viewports that arrive
   * meanwhile coalesce into the next update, as they do while a large update is written.
   */
  private pushSqlUpdate(viewer: Viewer, session: Session): void {
    viewer.sentVersion = session.store.version;
    viewer.wanted = false;
    viewer.sentTick = this.counters.ticks;
    viewer.inFlight = true;
    const id = viewer.session;
    buildSqlLiveUpdate(session, viewer, this.maxUpdateBytes).then(
      (built) => {
        if (viewer.session !== id || viewer.ws.readyState !== 1) viewer.inFlight = false;
        else this.send(viewer, built);
      },
      (err: Error) => {
        viewer.inFlight = false;
        this.sendError(viewer, 'ZS_CLICKHOUSE_QUERY', `ClickHouse could not answer: ${err.message.slice(0, 300)}`);
      },
    );
  }

  private send(viewer: Viewer, built: BuiltUpdate): void {
    this.sendBytes(viewer, encode(toMsgpack(built.message), { ignoreUndefined: true }), built.reduced);
  }

  private sendBytes(viewer: Viewer, bytes: Uint8Array, reduced: boolean): void {
    viewer.updates++;
    this.counters.updates++;
    if (reduced) this.counters.reduced++;
    if (bytes.length > viewer.largestUpdateBytes) viewer.largestUpdateBytes = bytes.length;
    // called once the bytes are handed to the kernel (or the socket failed)
    viewer.ws.send(bytes, { binary: true }, () => {
      viewer.inFlight = false;
    });
  }
}

/** What makes two viewers' updates the same at one session version: the session and the viewport as buildLiveUpdate reads it. */
function sharedKey(session: string, v: LiveViewport): string {
  return v.follow ? `${session}\0follow\0${v.span}\0${v.px}` : `${session}\0${v.t0}\0${v.t1}\0${v.px}`;
}
