import type { ThreadItems } from '../../protocol/view/types.js';
import type { App } from '../app.js';
import { laneSets } from './frames-painter.js';
import { STICKY_SHARE, chooseSticky, clampFirstRow, layoutTracks, type Layout, type TrackLayout } from './layout.js';
import { distinctNames, emptyPrefs, moveThread, nextMaxRows, orderThreads, readTrackPrefs, togglePin, trackPrefsParams, type TrackPrefs } from './track-prefs.js';

/**
 * Which tracks the timeline shows and how tall: one per thread of app.data, with as many zone
 * rows as the thread's deepest zone in this session (seeded from GET /threads, at most once a
 * second, then only growing: tracks do not jump while panning), collapsed or not, and a lane
 * per lock the thread was seen using in this session (also only growing).
 */
export class TrackModel {
  layout: Layout = layoutTracks([], new Set(), 0);
  trackByThread = new Map<number, TrackLayout>();
  threadById = new Map<number, ThreadItems>();
  private readonly rows = new Map<number, number>();
  /** hidden, pinned, order, collapsed, maximum heights (track-prefs.ts); kept in the URL */
  prefs: TrackPrefs;
  /** the session the prefs are for: the URL's at load, then the one they were set in */
  private prefsSession: string | null;
  private names = new Map<number, string>();
  private readonly knownDepths = new Set<number>();
  /** per thread, the lock ids of its lanes in first-seen order */
  private readonly lockLanes = new Map<number, number[]>();
  private loadAt = -Infinity;
  /** the tracks' view height (CSS px below the ruler): the pinned band takes at most STICKY_SHARE of it */
  viewHeight = Infinity;

  /** `onDepths` runs when GET /threads brought depths (the layout was updated). */
  constructor(
    private readonly app: App,
    private readonly onDepths: () => void,
  ) {
    this.prefs = readTrackPrefs(location.search);
    this.prefsSession = new URLSearchParams(location.search).get('session');
    // the URL's track list stays in the URL the app writes
    this.app.setUrlParams(trackPrefsParams(this.prefs));
  }

  /** Another session: forget rows and the track list (the URL's, for the URL's session, is kept). */
  reset(): void {
    this.rows.clear();
    if (this.app.sessionId !== this.prefsSession) {
      this.prefsSession = this.app.sessionId;
      this.setPrefs(emptyPrefs());
    }
    this.knownDepths.clear();
    this.lockLanes.clear();
    this.loadAt = -Infinity;
  }

  toggle(thread: number): void {
    const collapsed = new Set(this.prefs.collapsed);
    if (collapsed.has(thread)) collapsed.delete(thread);
    else collapsed.add(thread);
    this.setPrefs({ ...this.prefs, collapsed });
  }

  hide(thread: number): void {
    this.setPrefs({ ...this.prefs, hidden: new Set([...this.prefs.hidden, thread]) });
  }

  /** Shows a hidden track again (null: every hidden track). */
  show(thread: number | null): void {
    const hidden = new Set(this.prefs.hidden);
    if (thread === null) hidden.clear();
    else hidden.delete(thread);
    this.setPrefs({ ...this.prefs, hidden });
  }

  pin(thread: number): void {
    this.setPrefs(togglePin(this.prefs, thread));
  }

  /** Drags `thread` to just before `before` (null: the end). */
  move(thread: number, before: number | null): void {
    const drawn = this.layout.tracks.filter((t) => t.kind === 'thread').map((t) => t.thread);
    this.setPrefs(moveThread(this.prefs, drawn, thread, before));
  }

  /** Steps the track's maximum height: none -> 16 -> 8 -> 4 -> 2 rows -> none (those that cut it). */
  cycleMaxRows(thread: number): void {
    const windows = new Map(this.prefs.windows);
    const next = nextMaxRows(windows.get(thread)?.maxRows, this.rows.get(thread) ?? 1);
    if (next === undefined) windows.delete(thread);
    else windows.set(thread, { maxRows: next, firstRow: windows.get(thread)?.firstRow ?? 0 });
    this.setPrefs({ ...this.prefs, windows });
  }

  /** Scrolls a track with a maximum height by `dRows` rows; false when it has none or is at its end. */
  scrollRows(thread: number, dRows: number): boolean {
    const w = this.prefs.windows.get(thread);
    const track = this.trackByThread.get(thread);
    if (!w || !track || track.collapsed || track.totalRows <= track.rows) return false;
    const firstRow = clampFirstRow(track.firstRow + dRows, track.totalRows, track.rows);
    if (firstRow === track.firstRow) return false;
    const windows = new Map(this.prefs.windows).set(thread, { ...w, firstRow });
    this.setPrefs({ ...this.prefs, windows });
    return true;
  }

  /** Hidden threads that are in the session, with their names. */
  hiddenThreads(): { thread: number; name: string }[] {
    return [...this.threadById.keys()].filter((id) => this.prefs.hidden.has(id)).map((id) => ({ thread: id, name: this.threadName(id) }));
  }

  private setPrefs(p: TrackPrefs): void {
    this.prefs = p;
    this.app.setUrlParams(trackPrefsParams(p));
    this.update();
  }

  /** The thread's name; a name several threads share gets " #ID" so they are told apart. */
  threadName(thread: number): string {
    return this.names.get(thread) ?? this.threadById.get(thread)?.name ?? `thread ${thread}`;
  }

  /** Lays the tracks out again from app.data. */
  update(): void {
    const data = this.app.data;
    const threads = data?.threads ?? [];
    this.threadById = new Map(threads.map((t) => [t.thread, t]));
    this.names = distinctNames(threads.map((t) => ({ thread: t.thread, name: t.name })));
    if (threads.some((t) => !this.knownDepths.has(t.thread))) this.loadDepths();
    for (const set of data?.locks ?? []) {
      for (const lt of set.threads) {
        let lanes = this.lockLanes.get(lt.thread);
        if (!lanes) this.lockLanes.set(lt.thread, (lanes = []));
        if (!lanes.includes(set.id)) lanes.push(set.id);
      }
    }
    const order = orderThreads(threads.map((t) => t.thread), this.prefs);
    const list = order.map((id) => {
      const th = this.threadById.get(id)!;
      let rows = this.rows.get(th.thread) ?? 0;
      for (const d of th.depths) if (d.depth + 1 > rows) rows = d.depth + 1;
      for (const o of th.open) if (o.depth + 1 > rows) rows = o.depth + 1;
      this.rows.set(th.thread, rows);
      return { thread: th.thread, rows, locks: this.lockLanes.get(th.thread) ?? [] };
    });
    const lanes = laneSets(data?.frames ?? []).length;
    // the pinned tracks that fit in the pinned band stick (the newest pins first); they go first
    const heights = new Map(layoutTracks(list, this.prefs.collapsed, lanes, this.prefs.windows).tracks.map((t) => [t.thread, t.height]));
    const sticky = chooseSticky(this.prefs.pinned, (id) => heights.get(id), Math.floor(this.viewHeight * STICKY_SHARE));
    const ordered = [...list.filter((t) => sticky.has(t.thread)), ...list.filter((t) => !sticky.has(t.thread))].map((t) => ({ ...t, sticky: sticky.has(t.thread) }));
    this.layout = layoutTracks(ordered, this.prefs.collapsed, lanes, this.prefs.windows);
    this.trackByThread = new Map(this.layout.tracks.filter((t) => t.kind === 'thread').map((t) => [t.thread, t]));
  }

  private loadDepths(): void {
    const sid = this.app.sessionId;
    const now = performance.now();
    if (sid === null || now - this.loadAt < 1000) return;
    this.loadAt = now;
    this.app.api
      .threads(sid)
      .then((list) => {
        if (sid !== this.app.sessionId) return;
        for (const t of list) {
          this.knownDepths.add(t.id);
          this.rows.set(t.id, Math.max(this.rows.get(t.id) ?? 0, t.depth));
        }
        this.update();
        this.onDepths();
      })
      .catch(() => undefined);
  }
}
