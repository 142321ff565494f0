/**
 * A side panel: one tab of #side. `element` is created by the panel and placed by the host;
 * `activate` runs when its tab is shown (load what it shows then: panels that are not visible
 * do not query the server).
 */
export interface Panel {
  id: string;
  title: string;
  element: HTMLElement;
  activate(): void;
  deactivate?(): void;
}

/** Tabs over the panels; `show(id)` switches (a details click shows 'details'). */
export class PanelHost {
  private readonly buttons = new Map<string, HTMLButtonElement>();
  private current: Panel | null = null;

  constructor(
    private readonly tabs: HTMLElement,
    private readonly body: HTMLElement,
    private readonly panels: Panel[],
  ) {
    for (const p of panels) {
      const b = document.createElement('button');
      b.textContent = p.title;
      b.setAttribute('role', 'tab');
      b.dataset.panel = p.id;
      b.id = `tab-${p.id}`;
      b.addEventListener('click', () => this.show(p.id));
      this.buttons.set(p.id, b);
      tabs.append(b);
      p.element.hidden = true;
      p.element.setAttribute('role', 'tabpanel');
      p.element.id = `panel-${p.id}`;
      p.element.classList.add('panel');
      body.append(p.element);
    }
  }

  get active(): string | null {
    return this.current?.id ?? null;
  }

  show(id: string): void {
    const p = this.panels.find((x) => x.id === id);
    if (!p) return;
    if (this.current !== p) {
      if (this.current) {
        this.current.element.hidden = true;
        this.buttons.get(this.current.id)?.setAttribute('aria-selected', 'false');
        this.current.deactivate?.();
      }
      this.current = p;
      p.element.hidden = false;
      this.buttons.get(p.id)?.setAttribute('aria-selected', 'true');
    }
    p.activate();
  }
}
