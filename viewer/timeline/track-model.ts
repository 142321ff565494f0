import type { ThreadItems } from '../../protocol/view/types.js';
import type { App } from '../app.js';
import { laneSets } from './frames-painter.js';
import { layoutTracks, type Layout, type TrackLayout } from './layout.js';

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
  private readonly collapsed = new Set<number>();
  private readonly knownDepths = new Set<number>();
  /** per thread, the lock ids of its lanes in first-seen order */
  private readonly lockLanes = new Map<number, number[]>();
  private loadAt = -Infinity;

  /** `onDepths` runs when GET /threads brought depths (the layout was updated). */
  constructor(
    private readonly app: App,
    private readonly onDepths: () => void,
  ) {}

  /** Another session: forget rows and collapsed threads. */
  reset(): void {
    this.rows.clear();
    this.collapsed.clear();
    this.knownDepths.clear();
    this.lockLanes.clear();
    this.loadAt = -Infinity;
  }

  toggle(thread: number): void {
    if (this.collapsed.has(thread)) this.collapsed.delete(thread);
    else this.collapsed.add(thread);
    this.update();
  }

  threadName(thread: number): string {
    return this.threadById.get(thread)?.name ?? `thread ${thread}`;
  }

  /** Lays the tracks out again from app.data. */
  update(): void {
    const data = this.app.data;
    const threads = data?.threads ?? [];
    this.threadById = new Map(threads.map((t) => [t.thread, t]));
    if (threads.some((t) => !this.knownDepths.has(t.thread))) this.loadDepths();
    for (const set of data?.locks ?? []) {
      for (const lt of set.threads) {
        let lanes = this.lockLanes.get(lt.thread);
        if (!lanes) this.lockLanes.set(lt.thread, (lanes = []));
        if (!lanes.includes(set.id)) lanes.push(set.id);
      }
    }
    const list = threads.map((th) => {
      let rows = this.rows.get(th.thread) ?? 0;
      for (const d of th.depths) if (d.depth + 1 > rows) rows = d.depth + 1;
      for (const o of th.open) if (o.depth + 1 > rows) rows = o.depth + 1;
      this.rows.set(th.thread, rows);
      return { thread: th.thread, rows, locks: this.lockLanes.get(th.thread) ?? [] };
    });
    this.layout = layoutTracks(list, this.collapsed, laneSets(data?.frames ?? []).length);
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
