/**
 * Every keyboard shortcut and mouse gesture of the viewer, shown by `?` (or the ? button in the
 * top bar) as an overlay; `?`, Esc, the Close button or a click outside the list closes it.
 * The list is written down here, next to nothing it describes: when a handler is added
 * (timeline/interaction.ts, plots/plot-pointer.ts, panels/memory-pick.ts, panel-layout.ts,
 * panels/flame-events.ts, timeline/headers.ts, panels/import-drop.ts) add its line.
 */

export interface Shortcut {
  /** the keys or gesture, e.g. "W / S" or "Shift + drag" */
  keys: string;
  action: string;
}

export interface ShortcutGroup {
  title: string;
  items: Shortcut[];
}

export const SHORTCUTS: ShortcutGroup[] = [
  {
    title: 'Timeline and plots (keys work while no text field has focus)',
    items: [
      { keys: 'W / S', action: 'zoom in / out at the mouse (the centre without a mouse)' },
      { keys: 'A / D', action: 'pan left / right' },
      { keys: 'F', action: 'fit the whole session' },
      { keys: 'Esc', action: 'clear the selected range, cancelling a range drag (when no list is open and the panels are not maximized: those close first)' },
      { keys: 'Wheel (vertical)', action: 'zoom at the cursor' },
      { keys: 'Ctrl + wheel / pinch', action: 'zoom at the cursor, finer' },
      { keys: 'Wheel (horizontal)', action: 'pan' },
      { keys: 'Shift + wheel', action: 'scroll the tracks (or plots) up and down' },
      { keys: 'Wheel over the track headers', action: 'scroll the tracks up and down' },
      { keys: 'Drag', action: 'pan in time and scroll the tracks' },
      { keys: 'Shift + drag, or drag on the ruler', action: 'select a time range (the panels then show that range)' },
      { keys: 'Click a zone', action: 'show its details' },
      { keys: 'Click a merged block or a frame', action: 'zoom to it' },
      { keys: 'Double-click a zone or lock', action: 'zoom to it' },
      { keys: 'Click empty space', action: 'clear the selected zone' },
      { keys: 'Hover', action: 'tooltip for a zone, frame, lock, message or plot value' },
      { keys: 'Click a track header (Enter / Space)', action: 'collapse or expand the thread' },
      { keys: 'Drag a track header', action: 'move the track (a line marks where it goes)' },
      { keys: '\u{1F4CC} on a track header (shown on hover)', action: 'pin the track: it stays at the top while the others scroll (again: unpin)' },
      { keys: 'Maximum height button on a track header', action: 'cap the track at 16, 8, 4 or 2 rows (again: fewer, then all)' },
      { keys: 'Wheel over a capped track\'s header', action: 'scroll its rows' },
      { keys: '\u00d7 on a track header', action: 'hide the track' },
      { keys: '"show N hidden" on the frames header (Enter / Space / \u2193)', action: 'list the hidden tracks: \u2191/\u2193 pick one (or Show all), Enter shows it, Esc closes' },
      { keys: 'Alt + click on the timeline', action: 'pick that time in the Memory panel' },
      { keys: 'Click a memory plot', action: 'pick that pool and time in the Memory panel' },
    ],
  },
  {
    title: 'Panels',
    items: [
      { keys: 'Drag the panel edge (or focus it, arrow keys; Shift for bigger steps)', action: 'resize the panels' },
      { keys: 'Dock bottom / Dock side', action: 'move the panels below or beside the timeline' },
      { keys: 'Maximize / Restore, Esc', action: 'panels over the whole page, and back' },
      { keys: 'Click a flame graph node', action: 'zoom into it; the breadcrumb or Reset zoom goes back' },
      { keys: 'Click a column header', action: 'sort by it (again: reverse)' },
      { keys: 'Click a table row (Enter / Space)', action: 'highlight its zones, jump to it, or open it' },
      { keys: 'Enter in a filter or search field', action: 'run the filter or search' },
      { keys: 'Drop a file on the page', action: 'open a .zscap capture, a Tracy recording or Chrome JSON' },
    ],
  },
  {
    title: 'Help',
    items: [
      { keys: '?', action: 'show or hide this list' },
      { keys: 'Esc', action: 'close this list' },
    ],
  },
];

/** The overlay: `toggle()`, `open`, and the key handling (installed on window, capture phase). */
export class ShortcutHelp {
  readonly element: HTMLElement;
  private lastFocus: HTMLElement | null = null;

  constructor(button?: HTMLElement | null) {
    const el = document.createElement('div');
    el.id = 'help-overlay';
    el.hidden = true;
    el.setAttribute('role', 'dialog');
    el.setAttribute('aria-modal', 'true');
    el.setAttribute('aria-label', 'Keyboard shortcuts and mouse gestures');
    const box = document.createElement('div');
    box.className = 'help-box';
    box.tabIndex = -1;
    const head = document.createElement('div');
    head.className = 'help-head';
    const title = document.createElement('h2');
    title.textContent = 'Keyboard shortcuts and mouse gestures';
    const close = document.createElement('button');
    close.id = 'help-close';
    close.textContent = 'Close (Esc)';
    close.addEventListener('click', () => this.close());
    head.append(title, close);
    box.append(head);
    for (const g of SHORTCUTS) {
      const h3 = document.createElement('h3');
      h3.textContent = g.title;
      const table = document.createElement('table');
      for (const s of g.items) {
        const tr = document.createElement('tr');
        tr.dataset.shortcut = s.keys;
        const k = document.createElement('td');
        k.className = 'help-keys';
        for (const [i, part] of s.keys.split(' / ').entries()) {
          if (i) k.append(' / ');
          const kbd = document.createElement('kbd');
          kbd.textContent = part;
          k.append(kbd);
        }
        const a = document.createElement('td');
        a.textContent = s.action;
        tr.append(k, a);
        table.append(tr);
      }
      box.append(h3, table);
    }
    el.append(box);
    el.addEventListener('click', (e) => e.target === el && this.close());
    document.body.append(el);
    this.element = el;
    button?.addEventListener('click', () => this.toggle());

    window.addEventListener(
      'keydown',
      (e) => {
        if (this.open) {
          // the overlay takes the keyboard: nothing behind it reacts
          if (e.key === 'Escape' || e.key === '?') {
            e.preventDefault();
            this.close();
          }
          if (e.key !== 'Tab') e.stopImmediatePropagation();
          return;
        }
        if (e.key !== '?' || e.ctrlKey || e.metaKey || e.altKey) return;
        const t = e.target as HTMLElement | null;
        if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
        e.preventDefault();
        e.stopImmediatePropagation();
        this.show();
      },
      true,
    );
  }

  get open(): boolean {
    return !this.element.hidden;
  }

  show(): void {
    if (this.open) return;
    this.lastFocus = document.activeElement as HTMLElement | null;
    this.element.hidden = false;
    this.element.querySelector<HTMLElement>('.help-box')?.focus();
  }

  close(): void {
    if (!this.open) return;
    this.element.hidden = true;
    this.lastFocus?.focus?.();
    this.lastFocus = null;
  }

  toggle(): void {
    if (this.open) this.close();
    else this.show();
  }
}
