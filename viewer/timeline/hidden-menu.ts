/**
 * The list behind the frames header's "show N hidden" button (headers.ts): one entry per hidden
 * track, by name (a name several threads share carries " #ID", as on the headers), each shows
 * its track again; then "Show all". The model and its keyboard moves are pure (unit-tested in
 * node, hidden-menu.test.ts); headers.ts renders it as a role="menu" popover.
 */

export interface HiddenTrack {
  thread: number;
  name: string;
}

/** A menu entry: show one thread again (`thread`), or all of them (`thread` null). */
export interface HiddenMenuItem {
  thread: number | null;
  label: string;
}

/** The entries: the hidden tracks sorted by name (then id), then "Show all" when there are any. */
export function hiddenMenuItems(hidden: readonly HiddenTrack[]): HiddenMenuItem[] {
  if (hidden.length === 0) return [];
  const tracks = [...hidden].sort((a, b) => a.name.localeCompare(b.name) || a.thread - b.thread).map((h) => ({ thread: h.thread, label: h.name }));
  return [...tracks, { thread: null, label: hidden.length === 1 ? 'Show it' : `Show all ${hidden.length}` }];
}

/** The button's text: "show N hidden" ('' when none). */
export function hiddenButtonText(count: number): string {
  return count > 0 ? `show ${count} hidden \u25be` : '';
}

/**
 * The entry focused after `key` in a menu of `count` entries with `index` focused: arrows move
 * (wrapping), Home/End jump; null for keys the menu does not move on.
 */
export function menuMove(index: number, count: number, key: string): number | null {
  if (count <= 0) return null;
  switch (key) {
    case 'ArrowDown':
      return (index + 1 + count) % count;
    case 'ArrowUp':
      return (index - 1 + count) % count;
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}
