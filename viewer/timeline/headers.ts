import { RULER_H, type Layout } from './layout.js';
import { frameSetTitle } from './frames-painter.js';

interface ThreadHeader {
  el: HTMLDivElement;
  caret: HTMLSpanElement;
  name: HTMLSpanElement;
  count: HTMLSpanElement;
  // what the element shows now (DOM is written only on change)
  shownName: string;
  shownCount: string;
  shownTop: number;
  shownHeight: number;
  shownExpanded: boolean | null;
}

/**
 * The left column of DOM track headers, scrolled with the tracks (both live in the same scroll
 * container): a sticky corner above the ruler, the frames header with its frame-set selector,
 * and one header per thread:
 *   <div class="track-header" data-thread="ID" role="button" aria-expanded tabindex="0">
 * Click, Enter or Space toggles the thread (`onToggle`).
 */
export class TrackHeaders {
  readonly root = document.createElement('div');
  readonly corner = document.createElement('div');
  private readonly frames = document.createElement('div');
  private readonly frameSelect = document.createElement('select');
  private readonly threads = new Map<number, ThreadHeader>();
  private frameNames: string | null = null;

  constructor(
    private readonly onToggle: (thread: number) => void,
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
    this.frames.append(label, this.frameSelect);
    this.root.append(this.corner, this.frames);
  }

  /** Positions every header on its track; adds and removes thread headers to match. */
  setLayout(layout: Layout, nameOf: (thread: number) => string): void {
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
      if (h.shownName !== name) {
        h.name.textContent = h.shownName = name;
        h.el.title = `${name} (thread ${track.thread}): click to ${expanded ? 'collapse' : 'expand'}`;
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
    el.append(caret, name, count);
    el.addEventListener('click', () => this.onToggle(thread));
    el.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        this.onToggle(thread);
      }
    });
    return { el, caret, name, count, shownName: '', shownCount: '', shownTop: NaN, shownHeight: NaN, shownExpanded: null };
  }
}
