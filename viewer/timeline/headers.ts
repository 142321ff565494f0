import { RULER_H, type Layout } from './layout.js';
import { frameSetTitle } from './frames-painter.js';

/** What the header column asks of the timeline (its track list). */
export interface HeaderActions {
  /** click, Enter or Space: collapse to a one-line summary, or expand */
  toggle(thread: number): void;
  pin(thread: number): void;
  hide(thread: number): void;
  /** the maximum height button: none -> 16 -> 8 -> 4 -> 2 rows -> none (those that cut the track) */
  maxRows(thread: number): void;
  /** a header dragged and dropped before `before`'s track (null: after the last) */
  move(thread: number, before: number | null): void;
  /** the wheel over a header: scroll that track's rows when it has a maximum height; true = used */
  scrollRows(thread: number, dRows: number): boolean;
  showHidden(): void;
  /** the thread whose track holds content y (from the first track's top), or null */
  threadAt(contentY: number): { thread: number; top: number; height: number } | null;
}

/** A pointer that moved this far (CSS px) from where it went down is dragging the header. */
const DRAG_PX = 5;

interface ThreadHeader {
  el: HTMLDivElement;
  caret: HTMLSpanElement;
  name: HTMLSpanElement;
  count: HTMLSpanElement;
  pin: HTMLButtonElement;
  max: HTMLButtonElement;
  /** "rows A-B of N" while a maximum height cuts the track */
  rows: HTMLSpanElement;
  rowsText: string;
  // what the element shows now (DOM is written only on change)
  shownName: string;
  shownCount: string;
  shownTop: number;
  shownHeight: number;
  shownExpanded: boolean | null;
  shownPinned: boolean | null;
  shownMax: string;
}

/**
 * The left column of DOM track headers, scrolled with the tracks (both live in the same scroll
 * container): a sticky corner above the ruler, the frames header with its frame-set selector,
 * and one header per thread:
 *   <div class="track-header" data-thread="ID" role="button" aria-expanded tabindex="0">
 *     caret, name (" #ID" when another thread has the same name), buttons (pin, maximum
 *     height, hide), the zone count line (and "rows A-B of N" when a maximum height cuts it)
 * Click, Enter or Space toggles the thread; dragging a header moves its track (dropped before
 * the track under the pointer, after it in that track's lower half); the wheel over a header
 * whose track has a maximum height scrolls its rows. The frames header lists how many tracks
 * are hidden, with a button to show them again.
 */
export class TrackHeaders {
  readonly root = document.createElement('div');
  readonly corner = document.createElement('div');
  private readonly frames = document.createElement('div');
  private readonly frameSelect = document.createElement('select');
  private readonly threads = new Map<number, ThreadHeader>();
  private frameNames: string | null = null;
  private readonly hiddenBtn = document.createElement('button');
  private readonly dropMark = document.createElement('div');
  /** a click right after a drag is not a toggle */
  private suppressClick = false;

  constructor(
    private readonly actions: HeaderActions,
    onPickFrames: (name: string) => void,
  ) {
    this.root.className = 'tl-headers';
    this.corner.className = 'tl-corner mono muted';
    this.frames.className = 'frames-header';
    const label = document.createElement('span');
    label.className = 'th-name';
    label.textContent = 'Frames';
    this.frameSelect.setAttribute('aria-label', 'Frame set');
    this.frameSelect.title = 'Frame set drawn as bars';
    this.frameSelect.addEventListener('change', () => onPickFrames(this.frameSelect.value));
    this.hiddenBtn.type = 'button';
    this.hiddenBtn.className = 'tl-hidden-tracks';
    this.hiddenBtn.hidden = true;
    this.hiddenBtn.addEventListener('click', () => this.actions.showHidden());
    this.frames.append(label, this.frameSelect, this.hiddenBtn);
    this.dropMark.className = 'tl-drop-mark';
    this.dropMark.hidden = true;
    this.root.append(this.corner, this.frames, this.dropMark);
  }

  /** The hidden tracks' names: the frames header's "show N hidden" button. */
  setHidden(hidden: readonly { thread: number; name: string }[]): void {
    const text = hidden.length ? `show ${hidden.length} hidden` : '';
    if (this.hiddenBtn.textContent !== text) {
      this.hiddenBtn.textContent = text;
      this.hiddenBtn.title = hidden.length ? `Hidden: ${hidden.map((h) => h.name).join(', ')}` : '';
    }
    this.hiddenBtn.hidden = hidden.length === 0;
  }

  /** Positions every header on its track; adds and removes thread headers to match. */
  setLayout(layout: Layout, nameOf: (thread: number) => string, isPinned: (thread: number) => boolean = () => false, maxRowsOf: (thread: number) => number | undefined = () => undefined): void {
    this.root.style.height = `${RULER_H + layout.height}px`;
    const seen = new Set<number>();
    for (const track of layout.tracks) {
      if (track.kind === 'frames') {
        this.frames.style.top = `${RULER_H + track.top}px`;
        this.frames.style.height = `${track.height}px`;
        continue;
      }
      seen.add(track.thread);
      let h = this.threads.get(track.thread);
      if (!h) {
        h = this.create(track.thread);
        this.threads.set(track.thread, h);
        this.root.append(h.el);
      }
      const top = RULER_H + track.top;
      if (h.shownTop !== top) h.el.style.top = `${(h.shownTop = top)}px`;
      if (h.shownHeight !== track.height) h.el.style.height = `${(h.shownHeight = track.height)}px`;
      const expanded = !track.collapsed;
      if (h.shownExpanded !== expanded) {
        h.shownExpanded = expanded;
        h.el.setAttribute('aria-expanded', String(expanded));
        h.caret.textContent = expanded ? '\u25be' : '\u25b8';
        h.el.classList.toggle('collapsed', !expanded);
      }
      const name = nameOf(track.thread);
      if (h.shownName !== name || h.shownExpanded !== expanded) {
        h.name.textContent = h.shownName = name;
        h.el.title = `${name} (thread ${track.thread}): click to ${expanded ? 'collapse' : 'expand'}, drag to move`;
      }
      const pinned = isPinned(track.thread);
      if (h.shownPinned !== pinned) {
        h.shownPinned = pinned;
        h.pin.classList.toggle('on', pinned);
        h.pin.title = pinned ? 'Unpin' : 'Pin to the top';
        h.pin.setAttribute('aria-pressed', String(pinned));
      }
      const cut = track.totalRows > track.rows && !track.collapsed;
      const max = maxRowsOf(track.thread);
      const maxKey = `${max ?? ''}`;
      if (h.shownMax !== maxKey) {
        h.shownMax = maxKey;
        h.max.classList.toggle('on', max !== undefined);
        h.max.textContent = max === undefined ? '\u2195' : String(max);
        h.max.title = max === undefined ? 'Maximum height: none (click to cut the track to fewer rows)' : `Maximum height: ${max} rows (click for fewer, then none; the wheel over this header scrolls the rows)`;
      }
      const rowsText = cut ? `rows ${track.firstRow + 1}-${track.firstRow + track.rows} of ${track.totalRows}` : '';
      if (h.rowsText !== rowsText) {
        h.rows.textContent = h.rowsText = rowsText;
        h.rows.hidden = !cut;
        h.el.classList.toggle('cut', cut);
      }
    }
    for (const [id, h] of this.threads) {
      if (!seen.has(id)) {
        h.el.remove();
        this.threads.delete(id);
      }
    }
  }

  /** The zone count text of a thread's header. */
  setCount(thread: number, text: string): void {
    const h = this.threads.get(thread);
    if (h && h.shownCount !== text) h.count.textContent = h.shownCount = text;
  }

  /** The frame sets to pick from (by name, '' = the default "Frame" set) and the picked one. */
  setFrameSets(names: readonly string[], picked: string): void {
    const key = `${names.length}:${names.join('\u0000')}`;
    if (key !== this.frameNames) {
      this.frameNames = key;
      this.frameSelect.replaceChildren(
        ...names.map((n) => {
          const o = document.createElement('option');
          o.value = n;
          o.textContent = frameSetTitle(n);
          return o;
        }),
      );
      this.frameSelect.disabled = names.length === 0;
      if (names.length === 0) {
        const o = document.createElement('option');
        o.textContent = 'no frames';
        this.frameSelect.append(o);
      }
    }
    if (names.includes(picked) && this.frameSelect.value !== picked) this.frameSelect.value = picked;
  }

  setCorner(text: string): void {
    if (this.corner.textContent !== text) this.corner.textContent = text;
  }

  private create(thread: number): ThreadHeader {
    const el = document.createElement('div');
    el.className = 'track-header';
    el.dataset.thread = String(thread);
    el.setAttribute('role', 'button');
    el.tabIndex = 0;
    const caret = document.createElement('span');
    caret.className = 'th-caret';
    caret.setAttribute('aria-hidden', 'true');
    const name = document.createElement('span');
    name.className = 'th-name';
    const count = document.createElement('span');
    count.className = 'th-count muted';
    const buttons = document.createElement('span');
    buttons.className = 'th-buttons';
    const button = (cls: string, text: string, label: string, act: () => void) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = `th-btn ${cls}`;
      b.textContent = text;
      b.setAttribute('aria-label', label);
      b.title = label;
      b.addEventListener('click', (e) => {
        e.stopPropagation();
        act();
      });
      b.addEventListener('pointerdown', (e) => e.stopPropagation());
      b.addEventListener('keydown', (e) => e.stopPropagation());
      buttons.append(b);
      return b;
    };
    const pin = button('th-pin', '\u{1F4CC}', 'Pin to the top', () => this.actions.pin(thread));
    const max = button('th-max', '\u2195', 'Maximum height', () => this.actions.maxRows(thread));
    button('th-hide', '\u00d7', 'Hide this track', () => this.actions.hide(thread));
    const rows = document.createElement('span');
    rows.className = 'th-rows muted';
    rows.hidden = true;
    el.append(caret, name, buttons, count, rows);
    el.addEventListener('click', () => {
      if (this.suppressClick) {
        this.suppressClick = false;
        return;
      }
      this.actions.toggle(thread);
    });
    el.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        this.actions.toggle(thread);
      }
    });
    el.addEventListener(
      'wheel',
      (e) => {
        if (e.deltaY === 0 || e.shiftKey || e.ctrlKey) return;
        if (this.actions.scrollRows(thread, Math.sign(e.deltaY) * Math.max(1, Math.round(Math.abs(e.deltaY) / 40)))) e.preventDefault();
      },
      { passive: false },
    );
    el.addEventListener('pointerdown', (e) => this.startDrag(e, thread, el));
    return { el, caret, name, count, pin, max, rows, rowsText: '', shownName: '', shownCount: '', shownTop: NaN, shownHeight: NaN, shownExpanded: null, shownPinned: null, shownMax: '-' };
  }

  /** Dragging a header: a line marks where the track goes; dropping moves it there. */
  private startDrag(e: PointerEvent, thread: number, el: HTMLElement): void {
    if (e.button !== 0) return;
    const y0 = e.clientY;
    let dragging = false;
    let target: number | null | undefined;
    const place = (clientY: number): void => {
      const rootTop = this.root.getBoundingClientRect().top;
      const contentY = clientY - rootTop - RULER_H;
      const at = this.actions.threadAt(contentY);
      if (!at) {
        target = contentY < 0 ? undefined : null;
        this.dropMark.hidden = target === undefined;
        if (target === null) this.dropMark.style.top = `${RULER_H + this.lastBottom()}px`;
        return;
      }
      const lower = contentY > at.top + at.height / 2;
      if (!lower) {
        target = at.thread;
        this.dropMark.style.top = `${RULER_H + at.top}px`;
      } else {
        const below = this.actions.threadAt(at.top + at.height + 1);
        target = below ? below.thread : null;
        this.dropMark.style.top = `${RULER_H + at.top + at.height}px`;
      }
      this.dropMark.hidden = false;
    };
    const move = (ev: PointerEvent) => {
      if (!dragging && Math.abs(ev.clientY - y0) < DRAG_PX) return;
      if (!dragging) {
        dragging = true;
        el.classList.add('dragging');
        el.setPointerCapture?.(ev.pointerId);
      }
      place(ev.clientY);
    };
    const up = (ev: PointerEvent) => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      window.removeEventListener('pointercancel', up);
      this.dropMark.hidden = true;
      el.classList.remove('dragging');
      if (!dragging) return;
      this.suppressClick = true;
      // the click of this drag (if any) comes right after pointerup
      setTimeout(() => (this.suppressClick = false), 0);
      if (ev.type === 'pointerup' && target !== undefined && target !== thread) this.actions.move(thread, target);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
    window.addEventListener('pointercancel', up);
  }

  private lastBottom(): number {
    let bottom = 0;
    for (const h of this.threads.values()) bottom = Math.max(bottom, h.shownTop - RULER_H + h.shownHeight);
    return bottom;
  }
}
