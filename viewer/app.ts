import type { LiveMessage, LiveUpdate, SessionSummary, SourceLocationInfo } from '../protocol/view/types.js';
import { Api, LiveSocket } from './api.js';
import { readUrlState, writeUrlState } from './url-state.js';

export interface TimeRange {
  t0: number;
  t1: number;
}

/** A single stored zone, as /zones returns it and GET /zone takes it. */
export interface ZoneRef {
  thread: number;
  depth: number;
  row: number;
}

/**
 * Events:
 * - sessions: the session list changed
 * - session: another session was picked (data and srclocs were reset)
 * - data: a live update for the current session arrived (app.data)
 * - viewport: the visible range changed (app.viewport)
 * - follow: follow-live was switched
 * - selection: the range selection changed (app.selection)
 * - zone: the selected zone changed (app.selectedZone)
 * - highlight: the highlighted source location changed (app.highlight)
 * - srclocs: source-location names and colours were (re)loaded
 */
export type AppEvent = 'sessions' | 'session' | 'data' | 'viewport' | 'follow' | 'selection' | 'zone' | 'highlight' | 'srclocs' | 'connection';

/** The shortest visible span, ns (zooming in stops here). */
export const MIN_SPAN_NS = 100;
/** The span follow-live shows when nothing else says (URL, earlier view). */
export const DEFAULT_FOLLOW_SPAN_NS = 1e9;

/**
 * The viewer's state and its one data path: the live WebSocket. The timeline, plots and panels
 * read state from here and change it through the methods; every change emits an event.
 *
 * Data: the viewer asks the server for its viewport at its resolution, with one viewport of
 * margin on each side (so panning draws from data already here) at three times the width in
 * pixels. A new request goes out when the view leaves the loaded range or its resolution moves
 * away from the loaded one by more than 1.5x; one request is in flight at a time, the latest
 * wanted one waits. In follow mode the server picks the window ([lastNs - span, lastNs]) and
 * pushes it as the session grows, at most 30 times a second.
 */
export class App {
  readonly api = new Api();
  readonly live: LiveSocket;
  sessions: SessionSummary[] = [];
  sessionId: string | null = null;
  /** the latest update for the current session (null until the first arrives) */
  data: LiveUpdate | null = null;
  /** source locations of the current session, by index */
  srclocs: SourceLocationInfo[] = [];
  /** the visible range, ns since the session's start */
  viewport: TimeRange = { t0: 0, t1: DEFAULT_FOLLOW_SPAN_NS };
  /** the timeline's drawing width, CSS px (set by the timeline on layout) */
  widthPx = 1000;
  follow = true;
  selection: TimeRange | null = null;
  selectedZone: ZoneRef | null = null;
  /** a zone to select once an update shows it (jumpTo a match that has no row) */
  private pendingZone: { thread: number; depth: number; startNs: number } | null = null;
  highlight: number | null = null;
  connected = false;

  private readonly listeners = new Map<AppEvent, Set<() => void>>();
  private pendingRequest = false;
  private inFlight: { t0: number; t1: number; at: number } | null = null;
  private srclocLoad: Promise<void> | null = null;
  private urlTimer: ReturnType<typeof setTimeout> | null = null;
  private urlExtra: Readonly<Record<string, string | null>> = {};
  private readonly urlSession: string | null;
  private fitOnFirstData = false;

  constructor(liveUrl = defaultLiveUrl()) {
    const url = readUrlState(location.search);
    this.urlSession = url.session;
    if (url.t0 !== null && url.t1 !== null && url.t1 > url.t0) {
      this.viewport = { t0: url.t0, t1: url.t1 };
      this.follow = false;
    } else if (url.span !== null) {
      this.viewport = { t0: 0, t1: url.span };
    }
    if (url.follow !== null) this.follow = url.follow;
    this.live = new LiveSocket(liveUrl, (m) => this.onLive(m), (c) => {
      this.connected = c;
      this.emit('connection');
    });
  }

  on(event: AppEvent, fn: () => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn);
    return () => set!.delete(fn);
  }

  emit(event: AppEvent): void {
    for (const fn of this.listeners.get(event) ?? []) fn();
  }

  get session(): SessionSummary | null {
    return this.sessions.find((s) => s.id === this.sessionId) ?? null;
  }

  /** The session's latest time (ns): from the newest update, else from the list. */
  get lastNs(): number {
    return this.data?.lastNs ?? this.session?.lastNs ?? 0;
  }

  // ---- session ----

  openSession(id: string | null): void {
    if (id === this.sessionId) return;
    this.sessionId = id;
    this.data = null;
    this.srclocs = [];
    this.srclocLoad = null;
    this.selection = null;
    this.selectedZone = null;
    this.pendingZone = null;
    this.highlight = null;
    this.inFlight = null;
    this.pendingRequest = false;
    const s = this.session;
    // An ended session opens fitted unless the URL gave a view; a live one follows.
    if (s && s.state === 'ended' && this.follow) {
      this.follow = false;
      this.fitOnFirstData = true;
    }
    this.emit('session');
    this.emit('follow');
    this.emit('selection');
    this.emit('zone');
    this.emit('highlight');
    if (id !== null) {
      void this.loadSrclocs();
      this.subscribe();
    } else {
      this.live.send({ type: 'unsubscribe' });
    }
    this.scheduleUrl();
  }

  // ---- view ----

  /**
   * Shows [t0, t1]. `user` = the user moved the view (wheel, drag, keys): that ends follow-live.
   */
  setViewport(t0: number, t1: number, user = true): void {
    if (!(t1 - t0 >= MIN_SPAN_NS)) {
      const mid = (t0 + t1) / 2;
      t0 = mid - MIN_SPAN_NS / 2;
      t1 = mid + MIN_SPAN_NS / 2;
    }
    if (t0 === this.viewport.t0 && t1 === this.viewport.t1) return;
    this.viewport = { t0, t1 };
    if (user && this.follow) this.setFollow(false);
    this.emit('viewport');
    if (!this.follow) this.requestData();
    this.scheduleUrl();
  }

  setFollow(on: boolean): void {
    if (on === this.follow) return;
    this.follow = on;
    this.emit('follow');
    if (this.sessionId !== null) this.subscribe();
    this.scheduleUrl();
  }

  /** Fits the whole session (what is still stored) into the view. */
  fit(): void {
    const last = Math.max(this.lastNs, MIN_SPAN_NS);
    const first = this.firstStoredNs();
    const pad = (last - first) * 0.01;
    this.setViewport(Math.max(0, first - pad), last + pad);
  }

  /** Shows [startNs, startNs + durNs] with a margin and selects `zone` (find zone, flame graph). */
  jumpTo(startNs: number, durNs: number, zone: ZoneRef | null = null): void {
    const span = Math.max(durNs, MIN_SPAN_NS);
    this.setViewport(startNs - span * 0.25, startNs + span * 1.25);
    // a match without a row (a ClickHouse session's search) is selected when an update shows it
    if (zone && zone.row < 0) {
      this.selectZone(null);
      this.pendingZone = { thread: zone.thread, depth: zone.depth, startNs };
    } else if (zone) this.selectZone(zone);
  }

  /** Selects the pending zone (jumpTo without a row) once `msg` holds it as a single item. */
  private resolvePendingZone(msg: LiveUpdate): void {
    const p = this.pendingZone;
    if (!p) return;
    const d = msg.threads.find((t) => t.thread === p.thread)?.depths.find((x) => x.depth === p.depth);
    if (!d) return;
    for (let i = 0; i < d.startNs.length; i++) {
      if (d.startNs[i] === p.startNs && d.count[i] === 1 && d.row[i]! >= 0) {
        this.selectZone({ thread: p.thread, depth: p.depth, row: d.row[i]! });
        return;
      }
    }
  }

  setWidth(px: number): void {
    const w = Math.max(1, Math.round(px));
    if (w === this.widthPx) return;
    this.widthPx = w;
    if (this.sessionId !== null) (this.follow ? this.subscribe() : this.requestData(true));
  }

  setSelection(range: TimeRange | null): void {
    this.selection = range && range.t1 > range.t0 ? range : null;
    this.emit('selection');
  }

  selectZone(zone: ZoneRef | null): void {
    this.pendingZone = null;
    this.selectedZone = zone;
    this.emit('zone');
  }

  setHighlight(srcloc: number | null): void {
    this.highlight = this.highlight === srcloc ? null : srcloc;
    this.emit('highlight');
  }

  /** The range statistics, flame graph and find zone use: the selection, else the whole session. */
  analysisRange(): TimeRange | null {
    return this.selection;
  }

  srclocName(srcloc: number): string {
    return this.srclocs[srcloc]?.name ?? `#${srcloc}`;
  }

  // ---- data ----

  private subscribe(): void {
    if (this.sessionId === null) return;
    const span = this.viewport.t1 - this.viewport.t0;
    if (this.follow) {
      this.live.send({ type: 'subscribe', session: this.sessionId, follow: true, span: span > 0 ? span : DEFAULT_FOLLOW_SPAN_NS, px: this.widthPx });
    } else {
      const r = this.wantedRange();
      this.inFlight = { ...r, at: performance.now() };
      this.live.send({ type: 'subscribe', session: this.sessionId, follow: false, t0: r.t0, t1: r.t1, px: this.widthPx * 3 });
    }
  }

  /** The range to load around the view: one viewport of margin each side. */
  private wantedRange(): TimeRange {
    const { t0, t1 } = this.viewport;
    const span = t1 - t0;
    return { t0: Math.max(0, t0 - span), t1: t1 + span };
  }

  /** Whether the loaded data covers the view at about its resolution. */
  private covered(): boolean {
    const d = this.data;
    if (!d) return false;
    const { t0, t1 } = this.viewport;
    if (t0 < d.t0 && d.t0 > 0) return false;
    if (t1 > d.t1 && d.t1 < d.lastNs) return false;
    const want = (t1 - t0) / this.widthPx;
    const have = d.nsPerPx;
    return have <= want * 1.5 && have >= want / 1.5;
  }

  private requestData(force = false): void {
    if (this.sessionId === null || this.follow) return;
    if (!force && this.covered()) return;
    if (this.inFlight && performance.now() - this.inFlight.at < 2000) {
      this.pendingRequest = true;
      return;
    }
    const r = this.wantedRange();
    this.inFlight = { ...r, at: performance.now() };
    this.pendingRequest = false;
    this.live.send({ type: 'viewport', t0: r.t0, t1: r.t1, px: this.widthPx * 3, follow: false });
  }

  private onLive(msg: LiveMessage): void {
    switch (msg.type) {
      case 'sessions':
        this.sessions = msg.sessions;
        this.emit('sessions');
        if (this.sessionId === null || !this.session) this.openSession(this.pickSession());
        break;
      case 'update': {
        if (msg.session !== this.sessionId) return;
        this.data = msg;
        const inFlight = this.inFlight;
        if (inFlight && msg.t0 === inFlight.t0 && msg.t1 === inFlight.t1) {
          this.inFlight = null;
          if (this.pendingRequest) this.requestData();
        }
        const i = this.sessions.findIndex((s) => s.id === msg.session);
        if (i >= 0) this.sessions[i] = msg.summary;
        if (this.needsSrclocs(msg)) void this.loadSrclocs();
        this.resolvePendingZone(msg);
        if (this.follow) {
          this.viewport = { t0: msg.t0, t1: Math.max(msg.t1, msg.t0 + MIN_SPAN_NS) };
          this.emit('viewport');
        } else if (this.fitOnFirstData) {
          this.fitOnFirstData = false;
          this.fit();
        }
        this.emit('data');
        break;
      }
      case 'error':
        console.warn(`zonescope live: ${msg.code}: ${msg.error}`);
        break;
    }
  }

  /** The URL's session, else the newest live one, else the newest. */
  private pickSession(): string | null {
    if (this.urlSession && this.sessions.some((s) => s.id === this.urlSession)) return this.urlSession;
    const live = this.sessions.filter((s) => s.state !== 'ended');
    const list = live.length ? live : this.sessions;
    return list.length ? list[list.length - 1]!.id : null;
  }

  private needsSrclocs(d: LiveUpdate): boolean {
    const n = this.srclocs.length;
    for (const t of d.threads) {
      for (const depth of t.depths) for (let i = 0; i < depth.srcloc.length; i++) if (depth.srcloc[i]! >= n) return true;
      for (const o of t.open) if (o.srcloc >= n) return true;
    }
    return false;
  }

  loadSrclocs(): Promise<void> {
    if (this.srclocLoad) return this.srclocLoad;
    const id = this.sessionId;
    if (id === null) return Promise.resolve();
    this.srclocLoad = this.api
      .srclocs(id)
      .then((list) => {
        if (id !== this.sessionId) return;
        this.srclocs = list;
        this.emit('srclocs');
      })
      .catch((e) => console.warn('zonescope: source locations', e))
      .finally(() => {
        // allow a later reload when new source locations show up
        setTimeout(() => (this.srclocLoad = null), 250);
      });
    return this.srclocLoad;
  }

  private firstStoredNs(): number {
    let first = Infinity;
    for (const t of this.data?.threads ?? []) first = Math.min(first, t.evictedBeforeNs);
    return Number.isFinite(first) ? first : 0;
  }

  /** Other parts' URL keys (the timeline's track list), written with the view. */
  setUrlParams(params: Readonly<Record<string, string | null>>): void {
    this.urlExtra = { ...this.urlExtra, ...params };
    this.scheduleUrl();
  }

  private scheduleUrl(): void {
    if (this.urlTimer !== null) return;
    this.urlTimer = setTimeout(() => {
      this.urlTimer = null;
      const url = writeUrlState({ session: this.sessionId, follow: this.follow, t0: this.viewport.t0, t1: this.viewport.t1 }, this.urlExtra);
      history.replaceState(null, '', url);
    }, 200);
  }
}

function defaultLiveUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/live`;
}
