import { ApiError } from '../api.js';
import type { App, AppEvent, TimeRange } from '../app.js';
import { formatDuration, formatTimestamp } from '../format.js';

/**
 * What the data panels (stats, flame, find, messages, details) share: a DOM builder, the frame
 * of a panel (range line, status line, body), the load lifecycle (load when shown, reload on
 * events, refresh a live session every ~2 s while visible, drop answers that arrive late) and a
 * cache of thread names.
 */

type Child = Node | string | null | undefined | false;

export interface ElementProps {
  class?: string;
  text?: string;
  title?: string;
  id?: string;
  /** data-* attributes, by dataset key (camelCase) */
  data?: Record<string, string | number>;
  attrs?: Record<string, string>;
}

/** `document.createElement` with text (never HTML), classes and data attributes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: ElementProps = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.class) e.className = props.class;
  if (props.id) e.id = props.id;
  if (props.title !== undefined) e.title = props.title;
  if (props.text !== undefined) e.textContent = props.text;
  if (props.data) for (const [k, v] of Object.entries(props.data)) e.dataset[k] = String(v);
  if (props.attrs) for (const [k, v] of Object.entries(props.attrs)) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

/** Makes a table row (or any element) act like a button: click, Enter or Space runs `fn`. */
export function clickable(el: HTMLElement, fn: () => void): void {
  el.tabIndex = 0;
  el.addEventListener('click', fn);
  el.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' && ev.key !== ' ') return;
    ev.preventDefault();
    fn();
  });
}

/** "whole session" or "1.234 567 890 s + 12.3 ms" for the range line of a panel. */
export function rangeText(range: TimeRange | null): string {
  if (!range) return 'whole session';
  return `${formatTimestamp(range.t0)} + ${formatDuration(range.t1 - range.t0)}`;
}

/** A failed request as one line: the API's code and message when it sent them. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return `${e.code}: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** The panel's state, also on the panel element as data-state (for tests and styling). */
export type PanelState = 'idle' | 'loading' | 'error' | 'empty' | 'ready';

/**
 * The frame every data panel draws in: `head` (range line + the panel's controls), a status line
 * and `body`. The status line shows loading/error/empty messages; while loading, the previous
 * content stays visible (a refresh does not flash an empty panel).
 */
export class PanelShell {
  readonly element = h('div');
  readonly head = h('div', { class: 'panel-head' });
  readonly rangeEl = h('div', { class: 'panel-range muted' });
  readonly status = h('div', { class: 'panel-status', attrs: { role: 'status' } });
  readonly body = h('div', { class: 'panel-body' });

  constructor(withRange = true) {
    if (withRange) this.head.append(this.rangeEl);
    this.element.append(this.head, this.status, this.body);
    this.setState('idle', '');
  }

  /** Shows the range the panel's data covers; data-t0/data-t1 are set only for a selection. */
  showRange(range: TimeRange | null): void {
    this.rangeEl.textContent = `Range: ${rangeText(range)}`;
    if (range) {
      this.rangeEl.dataset.t0 = String(range.t0);
      this.rangeEl.dataset.t1 = String(range.t1);
    } else {
      delete this.rangeEl.dataset.t0;
      delete this.rangeEl.dataset.t1;
    }
  }

  /**
   * The start every range panel's load shares: shows the range the data will cover (the range
   * selection, else the whole session) and, without a session, empties the panel (`clear`) and
   * says so. @returns the session and the range, or null when there is no session
   */
  begin(app: App, clear: () => void): { id: string; range: TimeRange | null } | null {
    const range = app.analysisRange();
    this.showRange(range);
    const id = app.sessionId;
    if (id === null) {
      clear();
      this.setState('empty', 'No session.');
      return null;
    }
    return { id, range };
  }

  setState(state: PanelState, message = ''): void {
    this.element.dataset.state = state;
    this.status.dataset.state = state;
    this.status.textContent = message;
    this.status.hidden = message === '';
    this.status.classList.toggle('error', state === 'error');
  }
}

export type LoadReason = 'activate' | 'event' | 'timer';

export interface LifecycleOptions {
  /** app events after which a visible panel reloads (a hidden one reloads when shown) */
  reloadOn: AppEvent[];
  /** ms between reloads while visible and the session is live; 0 = never. Default 2000. */
  liveRefreshMs?: number;
  /** loads and draws; `isCurrent()` turns false once a newer load started (drop the answer) */
  load(reason: LoadReason, isCurrent: () => boolean): Promise<void>;
}

/**
 * Load-when-visible: `activate` loads, the listed events reload while visible, a timer reloads a
 * live session every `liveRefreshMs` (skipped while a load is still running, so a slow server
 * never sees a queue of refreshes). Only the newest load may draw.
 */
export class PanelLifecycle {
  private active = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private generation = 0;
  private running = 0;
  private reloadQueued = false;
  /** the session that was live at the last tick */
  private liveSession: string | null = null;

  constructor(
    private readonly app: App,
    private readonly options: LifecycleOptions,
  ) {
    // openSession emits 'session' and 'selection' back to back: one reload serves both
    for (const ev of options.reloadOn) app.on(ev, () => this.active && this.reloadSoon());
  }

  private reloadSoon(): void {
    if (this.reloadQueued) return;
    this.reloadQueued = true;
    queueMicrotask(() => {
      this.reloadQueued = false;
      if (this.active) this.reload('event');
    });
  }

  get visible(): boolean {
    return this.active;
  }

  activate(): void {
    this.active = true;
    const ms = this.options.liveRefreshMs ?? 2000;
    if (ms > 0 && this.timer === null) this.timer = setInterval(() => this.tick(), ms);
    this.reload('activate');
  }

  deactivate(): void {
    this.active = false;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.generation++; // answers still in flight are not drawn into a hidden panel
  }

  reload(reason: LoadReason = 'event'): void {
    const gen = ++this.generation;
    this.running++;
    this.options
      .load(reason, () => gen === this.generation)
      .catch((e) => console.warn('zonescope panel', e))
      .finally(() => this.running--);
  }

  /** One more reload after the session ended, so the panel shows its last data. */
  private tick(): void {
    if (!this.active || this.running > 0) return;
    const s = this.app.session;
    const live = s !== null && s.state !== 'ended';
    const key = s ? s.id : null;
    if (live || (this.liveSession !== null && this.liveSession === key)) this.reload('timer');
    this.liveSession = live ? key : null;
  }
}

/**
 * Thread names of the current session (GET /threads), shared by the panels and cached for a
 * second: names arrive late in a live session, so the list is fetched again after that.
 */
const threadCache = { session: null as string | null, at: 0, names: new Map<number, string | null>(), pending: null as Promise<Map<number, string | null>> | null };

export async function threadNames(app: App): Promise<Map<number, string | null>> {
  const id = app.sessionId;
  if (id === null) return new Map();
  const now = Date.now();
  if (threadCache.session === id && now - threadCache.at < 1000) return threadCache.names;
  if (threadCache.session === id && threadCache.pending) return threadCache.pending;
  if (threadCache.session !== id) {
    threadCache.session = id;
    threadCache.names = new Map();
    threadCache.at = 0;
  }
  const p = app.api
    .threads(id)
    .then((list) => {
      const names = new Map<number, string | null>();
      for (const t of list) names.set(t.id, t.name);
      if (threadCache.session === id) {
        threadCache.names = names;
        threadCache.at = Date.now();
      }
      return names;
    })
    .catch(() => (threadCache.session === id ? threadCache.names : new Map<number, string | null>()))
    .finally(() => {
      if (threadCache.pending === p) threadCache.pending = null;
    });
  threadCache.pending = p;
  return p;
}

/** "Render thread (1234)", or "thread 1234" when it has no name. */
export function threadLabel(names: Map<number, string | null>, id: number): string {
  const name = names.get(id);
  return name ? `${name} (${id})` : `thread ${id}`;
}
