import { RULER_H, type Layout } from './layout.js';
import { frameSetTitle } from './frames-painter.js';
import { hiddenButtonText, hiddenMenuItems, menuMove, type HiddenTrack } from './hidden-menu.js';

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
  /** shows a hidden track again (null: all of them) */
  showHidden(thread: number | null): void;
  /**
   * Where a header dragged to `clientY` drops: before `before`'s track (null: after the last),
   * the marking line at `markTop` (px from the header column's top); null: nowhere
   */
  dropAt(clientY: number): { before: number | null; markTop: number } | null;
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
  shownPinned: string;
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
 * whose track has a maximum height scrolls its rows. The frames header says how many tracks
 * are hidden: its button opens a list of them (hidden-menu.ts), each shown again on its own, or
 * all at once.
 */
export class TrackHeaders {
  readonly root = document.createElement('div');
  readonly corner = document.createElement('div');
  private readonly frames = document.createElement('div');
  private readonly frameSelect = document.createElement('select');
  private readonly threads = new Map<number, ThreadHeader>();
  private frameNames: string | null = null;
  private readonly hiddenBtn = document.createElement('button');
  private hidden: HiddenTrack[] = [];
  /** the open list of hidden tracks (on document.body, fixed under the button), or null */
  private menu: HTMLElement | null = null;
  private readonly dropMark = document.createElement('div');
  /** in flow under the corner: the frames track's height, so the pinned box's natural place is under it */
  private readonly framesSpacer = document.createElement('div');
  /** the sticky tracks' headers: in flow, `position: sticky` under the ruler, as the canvas draws them */
  private readonly pinBox = document.createElement('div');
  private shownPinTop = NaN;
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
    this.hiddenBtn.setAttribute('aria-haspopup', 'menu');
    this.hiddenBtn.setAttribute('aria-expanded', 'false');
    this.hiddenBtn.addEventListener('click', () => (this.menu ? this.closeMenu(false) : this.openMenu()));
    this.hiddenBtn.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown' && !this.menu) {
        e.preventDefault();
        this.openMenu();
      }
    });
    this.frames.append(label, this.frameSelect, this.hiddenBtn);
    this.dropMark.className = 'tl-drop-mark';
    this.dropMark.hidden = true;
    this.framesSpacer.className = 'tl-frames-spacer';
    this.pinBox.className = 'tl-pinned';
    this.root.append(this.corner, this.framesSpacer, this.pinBox, this.frames, this.dropMark);
  }

  /** The hidden tracks' names: the frames header's "show N hidden" button and its list. */
  setHidden(hidden: readonly HiddenTrack[]): void {
    const key = (l: readonly HiddenTrack[]) => l.map((h) => `${h.thread}:${h.name}`).join('\u0000');
    const changed = key(hidden) !== key(this.hidden);
    this.hidden = [...hidden];
    const text = hiddenButtonText(hidden.length);
    if (this.hiddenBtn.textContent !== text) {
      this.hiddenBtn.textContent = text;
      this.hiddenBtn.title = hidden.length ? `Hidden: ${hidden.map((h) => h.name).join(', ')} (click for the list)` : '';
    }
    this.hiddenBtn.hidden = hidden.length === 0;
    if (this.menu && changed) {
      if (hidden.length === 0) this.closeMenu(false);
      else this.openMenu();
    }
  }

  /** Opens (or re-renders) the list of hidden tracks under the button, focus on its first entry. */
  private openMenu(): void {
    const items = hiddenMenuItems(this.hidden);
    if (items.length === 0) return;
    this.menu?.remove();
    const menu = document.createElement('div');
    menu.className = 'tl-hidden-menu';
    menu.setAttribute('role', 'menu');
    menu.setAttribute('aria-label', 'Hidden tracks');
    const buttons = items.map((it, i) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.setAttribute('role', 'menuitem');
      b.tabIndex = i === 0 ? 0 : -1;
      b.textContent = it.label;
      if (it.thread === null) b.classList.add('all');
      else {
        b.dataset.thread = String(it.thread);
        b.title = `Show ${it.label} (thread ${it.thread}) again`;
      }
      b.addEventListener('click', () => {
        this.closeMenu(true);
        this.actions.showHidden(it.thread);
      });
      return b;
    });
    menu.append(...buttons);
    menu.addEventListener('keydown', (e) => {
      const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
      const next = menuMove(Math.max(0, at), buttons.length, e.key);
      if (next !== null) {
        e.preventDefault();
        buttons[next]!.focus();
      } else if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        this.closeMenu(true);
      } else if (e.key === 'Tab') {
        this.closeMenu(false);
      }
      // the timeline's keys (W/A/S/D, Escape) stay out of the menu
      e.stopPropagation();
    });
    const r = this.hiddenBtn.getBoundingClientRect();
    menu.style.left = `${Math.round(r.left)}px`;
    menu.style.top = `${Math.round(r.bottom + 2)}px`;
    document.body.append(menu);
    this.menu = menu;
    this.hiddenBtn.setAttribute('aria-expanded', 'true');
    // listening at once, not after a timer: a resize that comes before a timer fires would leave
    // the list open, fixed where the button no longer is. The opening click's pointerdown is
    // already past, and the focus does not scroll, so neither closes the list it opens.
    document.addEventListener('pointerdown', this.outside, true);
    // the list is fixed under the button: it closes when the button moves away (scroll, resize)
    document.addEventListener('scroll', this.moved, true);
    window.addEventListener('resize', this.moved);
    buttons[0]!.focus({ preventScroll: true });
  }

  private readonly moved = (e: Event): void => {
    if (this.menu && !(e.target instanceof Node && this.menu.contains(e.target))) this.closeMenu(false);
  };

  private readonly outside = (e: PointerEvent): void => {
    const t = e.target as Node | null;
    if (this.menu && t && !this.menu.contains(t) && !this.hiddenBtn.contains(t)) this.closeMenu(false);
  };

  private closeMenu(refocus: boolean): void {
    document.removeEventListener('pointerdown', this.outside, true);
    document.removeEventListener('scroll', this.moved, true);
    window.removeEventListener('resize', this.moved);
    this.menu?.remove();
    this.menu = null;
    this.hiddenBtn.setAttribute('aria-expanded', 'false');
    if (refocus && !this.hiddenBtn.hidden) this.hiddenBtn.focus();
  }

  /** Positions every header on its track; adds and removes thread headers to match. */
  setLayout(layout: Layout, nameOf: (thread: number) => string, isPinned: (thread: number) => boolean = () => false, maxRowsOf: (thread: number) => number | undefined = () => undefined): void {
    this.root.style.height = `${RULER_H + layout.height}px`;
    const seen = new Set<number>();
    const framesH = layout.tracks[0]?.kind === 'frames' ? layout.tracks[0].height : 0;
    if (this.shownPinTop !== framesH) {
      this.shownPinTop = framesH;
      this.framesSpacer.style.height = `${framesH}px`;
    }
    this.pinBox.style.height = `${layout.stickyHeight}px`;
    this.pinBox.hidden = layout.stickyHeight === 0;
    for (const [i, track] of layout.tracks.entries()) {
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
      }
      // sticky headers live in the pinned box (tops from its top), the others in the column
      const parent = track.sticky ? this.pinBox : this.root;
      if (h.el.parentElement !== parent) {
        const focused = h.el.contains(document.activeElement) ? (document.activeElement as HTMLElement) : null;
        parent.append(h.el);
        focused?.focus();
        h.shownTop = NaN;
      }
      const top = track.sticky ? track.top - framesH : RULER_H + track.top;
      h.el.classList.toggle('sticky-last', track.sticky && !layout.tracks[i + 1]?.sticky);
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
      const pinKey = pinned ? (track.sticky ? 'sticky' : 'unstuck') : 'no';
      if (h.shownPinned !== pinKey) {
        h.shownPinned = pinKey;
        h.pin.classList.toggle('on', pinned);
        h.pin.classList.toggle('unstuck', pinned && !track.sticky);
        h.el.classList.toggle('pinned', pinned);
        h.el.classList.toggle('sticky', track.sticky);
        h.pin.title = !pinned
          ? 'Pin: keep this track at the top while the others scroll'
          : track.sticky
            ? 'Pinned: stays at the top (click to unpin)'
            : 'Pinned, but scrolls: the pinned tracks would take more than half the timeline, so the oldest pins scroll (give it a maximum height, or unpin others; click to unpin)';
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
    return { el, caret, name, count, pin, max, rows, rowsText: '', shownName: '', shownCount: '', shownTop: NaN, shownHeight: NaN, shownExpanded: null, shownPinned: '', shownMax: '-' };
  }

  /** Dragging a header: a line marks where the track goes; dropping moves it there. */
  private startDrag(e: PointerEvent, thread: number, el: HTMLElement): void {
    if (e.button !== 0) return;
    const y0 = e.clientY;
    let dragging = false;
    let target: number | null | undefined;
    const place = (clientY: number): void => {
      const at = this.actions.dropAt(clientY);
      target = at ? at.before : undefined;
      this.dropMark.hidden = !at;
      if (at) this.dropMark.style.top = `${at.markTop}px`;
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
}
