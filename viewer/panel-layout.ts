import { type Dock, LAYOUT_KEY, type LayoutState, dragSize, parseLayout, serializeLayout } from './layout-state.js';

/**
 * The panel area's place on the page (layout-state.ts holds the pure part): docked at the side
 * (#layout.dock-side) or the bottom (.dock-bottom), sized by dragging #panel-resizer (or its
 * arrow keys), maximized over the page below the top bar (.maximized; the button or Esc
 * restores). Every change is saved to localStorage; panels re-layout through their own
 * ResizeObservers. `onChange` listeners hear about every change (the stats columns included).
 */
export class PanelLayout {
  state: LayoutState;
  private readonly listeners: (() => void)[] = [];
  readonly resizer: HTMLElement;
  readonly dockButton: HTMLButtonElement;
  readonly maxButton: HTMLButtonElement;

  constructor(
    private readonly layout: HTMLElement,
    private readonly side: HTMLElement,
    tools: HTMLElement,
    private readonly storage: Pick<Storage, 'getItem' | 'setItem'> | null = safeStorage(),
  ) {
    this.state = parseLayout(this.storage?.getItem(LAYOUT_KEY));
    this.resizer = document.createElement('div');
    this.resizer.id = 'panel-resizer';
    this.resizer.tabIndex = 0;
    this.resizer.setAttribute('role', 'separator');
    this.resizer.setAttribute('aria-label', 'Resize the panels (drag, or arrow keys)');
    layout.insertBefore(this.resizer, side);

    this.dockButton = document.createElement('button');
    this.dockButton.id = 'panel-dock';
    this.dockButton.addEventListener('click', () => this.setDock(this.state.dock === 'side' ? 'bottom' : 'side'));
    this.maxButton = document.createElement('button');
    this.maxButton.id = 'panel-maximize';
    this.maxButton.addEventListener('click', () => this.setMaximized(!this.state.maximized));
    const wrap = document.createElement('span');
    wrap.className = 'panel-tools';
    wrap.append(this.dockButton, this.maxButton);
    tools.append(wrap);

    this.wireResize();
    // capture phase on window: runs before the timeline's Esc (which clears the range)
    window.addEventListener(
      'keydown',
      (e) => {
        if (e.key !== 'Escape' || !this.state.maximized || e.defaultPrevented) return;
        e.preventDefault();
        e.stopPropagation();
        this.setMaximized(false);
      },
      true,
    );
    this.apply();
  }

  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  setDock(dock: Dock): void {
    this.update({ dock, maximized: false });
  }

  setMaximized(maximized: boolean): void {
    this.update({ maximized });
  }

  /** Size along the dock's axis, CSS px. */
  setSize(px: number): void {
    this.update(this.state.dock === 'side' ? { sidePx: px } : { bottomPx: px });
  }

  get size(): number {
    return this.state.dock === 'side' ? this.state.sidePx : this.state.bottomPx;
  }

  setStatsColumns(cols: string[] | null): void {
    this.update({ statsColumns: cols });
  }

  private update(patch: Partial<LayoutState>): void {
    this.state = { ...this.state, ...patch };
    try {
      this.storage?.setItem(LAYOUT_KEY, serializeLayout(this.state));
    } catch {
      // storage full or denied: the layout still applies for this page
    }
    this.apply();
    for (const fn of this.listeners) fn();
  }

  private apply(): void {
    const s = this.state;
    this.layout.classList.toggle('dock-side', s.dock === 'side');
    this.layout.classList.toggle('dock-bottom', s.dock === 'bottom');
    this.layout.classList.toggle('maximized', s.maximized);
    this.layout.style.setProperty('--panel-size', `${this.size}px`);
    this.layout.dataset.dock = s.dock;
    this.layout.dataset.maximized = String(s.maximized);
    this.resizer.setAttribute('aria-orientation', s.dock === 'side' ? 'vertical' : 'horizontal');
    this.resizer.hidden = s.maximized;
    this.dockButton.textContent = s.dock === 'side' ? 'Dock bottom' : 'Dock side';
    this.dockButton.title = s.dock === 'side' ? 'Move the panels below the timeline' : 'Move the panels beside the timeline';
    this.maxButton.textContent = s.maximized ? 'Restore' : 'Maximize';
    this.maxButton.title = s.maximized ? 'Back to the docked panels (Esc)' : 'Panels over the whole page (Esc restores)';
    this.maxButton.setAttribute('aria-pressed', String(s.maximized));
  }

  private wireResize(): void {
    const r = this.resizer;
    let drag: number | null = null;
    const sizeAt = (e: PointerEvent): number => {
      const box = this.layout.getBoundingClientRect();
      return this.state.dock === 'side' ? dragSize(e.clientX, box.left, box.right) : dragSize(e.clientY, box.top, box.bottom);
    };
    r.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      drag = e.pointerId;
      r.setPointerCapture(e.pointerId);
      r.classList.add('dragging');
      e.preventDefault();
    });
    r.addEventListener('pointermove', (e) => {
      if (drag !== e.pointerId) return;
      // live feedback without saving on every move
      this.layout.style.setProperty('--panel-size', `${sizeAt(e)}px`);
    });
    const end = (e: PointerEvent) => {
      if (drag !== e.pointerId) return;
      drag = null;
      r.classList.remove('dragging');
      if (r.hasPointerCapture(e.pointerId)) r.releasePointerCapture(e.pointerId);
      if (e.type === 'pointerup') this.setSize(sizeAt(e));
      else this.apply();
    };
    r.addEventListener('pointerup', end);
    r.addEventListener('pointercancel', end);
    r.addEventListener('keydown', (e) => {
      const grow = this.state.dock === 'side' ? 'ArrowLeft' : 'ArrowUp';
      const shrink = this.state.dock === 'side' ? 'ArrowRight' : 'ArrowDown';
      if (e.key !== grow && e.key !== shrink) return;
      e.preventDefault();
      e.stopPropagation();
      const box = this.layout.getBoundingClientRect();
      const [start, end2] = this.state.dock === 'side' ? [box.left, box.right] : [box.top, box.bottom];
      const step = e.shiftKey ? 100 : 20;
      const next = this.size + (e.key === grow ? step : -step);
      this.setSize(dragSize(end2 - next, start, end2));
    });
  }
}

function safeStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}
