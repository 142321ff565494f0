/**
 * The user's track list, without DOM (unit-tested in node, track-prefs.test.ts): which thread
 * tracks are hidden, pinned to the top, collapsed, in what order, and which have a maximum
 * height (a row window with its own scroll); the order they are drawn in; and how all that is
 * kept in the URL with the view:
 *
 *   hide=3,5        hidden threads
 *   pin=2           pinned threads, in pin order (drawn first)
 *   order=5,1,2     the order the user dragged the tracks into (threads not listed follow, as received)
 *   collapse=7      collapsed threads
 *   maxrows=4:8     thread 4 draws at most 8 zone rows (rows=... scrolls it: 4:3 = from depth 3)
 *   rows=4:3
 *
 * Every key is optional: a URL without them (every URL before these existed) shows every track
 * expanded in the order received.
 */
import type { RowWindow } from './layout.js';

export interface TrackPrefs {
  hidden: Set<number>;
  pinned: number[];
  order: number[];
  collapsed: Set<number>;
  windows: Map<number, RowWindow>;
}

/** The maximum heights a track's button steps through, zone rows (then back to none). */
export const MAX_ROWS_STEPS = [16, 8, 4, 2] as const;

export function emptyPrefs(): TrackPrefs {
  return { hidden: new Set(), pinned: [], order: [], collapsed: new Set(), windows: new Map() };
}

/** The threads drawn, top to bottom: pinned first (in pin order), then the user's order, then the rest as received; hidden ones left out. */
export function orderThreads(ids: readonly number[], p: TrackPrefs): number[] {
  const present = new Set(ids);
  const out: number[] = [];
  const taken = new Set<number>();
  const take = (id: number) => {
    if (!present.has(id) || taken.has(id)) return;
    taken.add(id);
    if (!p.hidden.has(id)) out.push(id);
  };
  for (const id of p.pinned) take(id);
  for (const id of p.order) take(id);
  for (const id of ids) take(id);
  return out;
}

/**
 * The user's order after dragging `id` to just before `before` (null: to the end), over the
 * threads drawn now (`drawn`, top to bottom). The result lists every drawn thread, so the order
 * holds as new threads arrive (they come after). A pinned thread stays among the pinned: its
 * pin order is changed the same way.
 */
export function moveThread(p: TrackPrefs, drawn: readonly number[], id: number, before: number | null): TrackPrefs {
  if (id === before) return p;
  const move = (list: readonly number[]): number[] => {
    const rest = list.filter((x) => x !== id);
    const at = before === null ? -1 : rest.indexOf(before);
    if (at < 0) rest.push(id);
    else rest.splice(at, 0, id);
    return rest;
  };
  const pinned = p.pinned.includes(id) ? move(p.pinned) : p.pinned;
  // keep hidden threads' places in the order too
  const order = move([...drawn, ...p.order.filter((x) => !drawn.includes(x))]);
  return { ...p, pinned, order };
}

/** Pins `id` to the top (after the pins before it), or unpins it. */
export function togglePin(p: TrackPrefs, id: number): TrackPrefs {
  const pinned = p.pinned.includes(id) ? p.pinned.filter((x) => x !== id) : [...p.pinned, id];
  return { ...p, pinned };
}

/**
 * The next maximum height of a track of `total` zone rows: none -> 16 -> 8 -> 4 -> 2 rows ->
 * none, skipping the heights that would not cut it (a 5-row track: none -> 4 -> 2 -> none).
 */
export function nextMaxRows(current: number | undefined, total: number): number | undefined {
  const steps = MAX_ROWS_STEPS.filter((s) => s < total);
  if (current === undefined) return steps[0];
  return steps.find((s) => s < current);
}

function ids(raw: string | null): number[] {
  if (!raw) return [];
  const out: number[] = [];
  for (const part of raw.split(',')) {
    if (part.trim() === '') continue;
    const n = Number(part);
    if (Number.isSafeInteger(n) && !out.includes(n)) out.push(n);
  }
  return out;
}

function pairs(raw: string | null): Map<number, number> {
  const out = new Map<number, number>();
  for (const part of (raw ?? '').split(',')) {
    const m = /^(-?\d+):(\d+)$/.exec(part.trim());
    if (m) out.set(Number(m[1]), Number(m[2]));
  }
  return out;
}

/** The track prefs of a query string; what does not parse is left out, never thrown. */
export function readTrackPrefs(search: string): TrackPrefs {
  const q = new URLSearchParams(search);
  const windows = new Map<number, RowWindow>();
  const first = pairs(q.get('rows'));
  for (const [id, max] of pairs(q.get('maxrows'))) if (max >= 1) windows.set(id, { maxRows: max, firstRow: first.get(id) ?? 0 });
  return { hidden: new Set(ids(q.get('hide'))), pinned: ids(q.get('pin')), order: ids(q.get('order')), collapsed: new Set(ids(q.get('collapse'))), windows };
}

/** The URL parameters of the prefs (null: the key is left out). */
export function trackPrefsParams(p: TrackPrefs): Record<string, string | null> {
  const list = (xs: Iterable<number>) => {
    const s = [...xs].join(',');
    return s === '' ? null : s;
  };
  const win = [...p.windows];
  const rows = win.filter(([, w]) => w.firstRow > 0);
  return {
    hide: list(p.hidden),
    pin: list(p.pinned),
    order: list(p.order),
    collapse: list(p.collapsed),
    maxrows: win.length ? win.map(([id, w]) => `${id}:${w.maxRows}`).join(',') : null,
    rows: rows.length ? rows.map(([id, w]) => `${id}:${w.firstRow}`).join(',') : null,
  };
}

/** Thread names for headers: a name shared by several threads gets the thread id, so they are told apart. */
export function distinctNames(threads: readonly { thread: number; name: string | null | undefined }[]): Map<number, string> {
  const count = new Map<string, number>();
  const base = threads.map((t) => [t.thread, t.name ?? `thread ${t.thread}`] as const);
  for (const [, n] of base) count.set(n, (count.get(n) ?? 0) + 1);
  return new Map(base.map(([id, n]) => [id, (count.get(n) ?? 0) > 1 ? `${n} #${id}` : n]));
}
