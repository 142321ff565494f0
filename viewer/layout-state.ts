/**
 * Where the panel area sits and how big it is, and which statistics columns are shown: pure
 * (parse, serialise, clamp; unit-tested in node). Kept in localStorage under LAYOUT_KEY, so a
 * reload opens the same layout; the URL stays about the view (url-state.ts).
 */

export type Dock = 'side' | 'bottom';

export interface LayoutState {
  dock: Dock;
  /** width of the panel area when docked at the side, CSS px */
  sidePx: number;
  /** height of the panel area when docked at the bottom, CSS px */
  bottomPx: number;
  /** the panel area covers the page below the top bar */
  maximized: boolean;
  /** statistics columns shown, in table order; null = all */
  statsColumns: string[] | null;
}

export const LAYOUT_KEY = 'zonescope.layout.v1';
export const MIN_PANEL_PX = 240;
/** room always left to the timeline when the panel area is not maximized */
export const MIN_TIMELINE_PX = 160;

export const DEFAULT_LAYOUT: LayoutState = { dock: 'side', sidePx: 420, bottomPx: 360, maximized: false, statsColumns: null };

function size(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= MIN_PANEL_PX && v <= 100_000 ? Math.round(v) : fallback;
}

/** A stored layout; anything missing or malformed takes its default (never throws). */
export function parseLayout(raw: string | null | undefined): LayoutState {
  if (!raw) return { ...DEFAULT_LAYOUT };
  let o: unknown;
  try {
    o = JSON.parse(raw);
  } catch {
    return { ...DEFAULT_LAYOUT };
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return { ...DEFAULT_LAYOUT };
  const r = o as Record<string, unknown>;
  const cols = Array.isArray(r.statsColumns) ? r.statsColumns.filter((c): c is string => typeof c === 'string') : null;
  return {
    dock: r.dock === 'bottom' ? 'bottom' : 'side',
    sidePx: size(r.sidePx, DEFAULT_LAYOUT.sidePx),
    bottomPx: size(r.bottomPx, DEFAULT_LAYOUT.bottomPx),
    maximized: r.maximized === true,
    statsColumns: cols,
  };
}

export function serializeLayout(s: LayoutState): string {
  return JSON.stringify({ dock: s.dock, sidePx: Math.round(s.sidePx), bottomPx: Math.round(s.bottomPx), maximized: s.maximized, statsColumns: s.statsColumns });
}

/**
 * The panel size for a drag to `pointer` (clientX for the side dock, clientY for the bottom)
 * inside a layout box [start, end] along that axis: the panel spans from the pointer to `end`,
 * at least MIN_PANEL_PX and leaving the timeline MIN_TIMELINE_PX (when the box allows both).
 */
export function dragSize(pointer: number, start: number, end: number): number {
  const max = Math.max(MIN_PANEL_PX, end - start - MIN_TIMELINE_PX);
  return Math.round(Math.min(max, Math.max(MIN_PANEL_PX, end - pointer)));
}

/**
 * The columns to show from `all` (table order) for a stored choice: unknown keys dropped, the
 * `required` ones always in; null (no choice) or a choice that leaves nothing shows all.
 */
export function chosenColumns(all: readonly string[], choice: readonly string[] | null, required: readonly string[] = []): string[] {
  if (choice === null) return all.slice();
  const set = new Set(choice);
  for (const r of required) set.add(r);
  const out = all.filter((k) => set.has(k));
  return out.length ? out : all.slice();
}

/** The statistics choice after toggling `key`: null again when every column is shown. */
export function toggleColumn(all: readonly string[], current: readonly string[] | null, key: string, on: boolean, required: readonly string[] = []): string[] | null {
  if (required.includes(key) && !on) return current === null ? null : current.slice();
  const shown = new Set(chosenColumns(all, current, required));
  if (on) shown.add(key);
  else shown.delete(key);
  const out = all.filter((k) => shown.has(k));
  return out.length === all.length ? null : out;
}
