import type { MessageItem } from '../../protocol/view/types.js';
import type { App } from '../app.js';
import { rgbCss } from '../colors.js';
import { formatCount, formatTimestamp } from '../format.js';
import { callstackBlock } from './callstack-view.js';
import { PanelLifecycle, PanelShell, clickable, errorText, h, threadLabel, threadNames } from './panel-kit.js';
import type { Panel } from './panel.js';

/** Messages asked for at a time (the first ones of the range, in time order; "Load more" asks for the next ones). */
export const MESSAGES_LIMIT = 2000;
/** Rows the panel holds at most (the DOM's bound): past it, a shorter range or a filter. */
export const MESSAGES_MAX_ROWS = 20_000;

/**
 * The next page after `shown` (time ordered): the server answers from t0 = the last shown time
 * on, which repeats the shown messages of that same time first (equal times keep arrival order),
 * so that many are dropped from its answer. @returns the messages to append
 */
export function nextMessagesPage(shown: readonly MessageItem[], page: readonly MessageItem[]): MessageItem[] {
  return page.slice(sameTimeAtEnd(shown));
}

/** How many of the last messages of `shown` share the last one's time. */
export function sameTimeAtEnd(shown: readonly MessageItem[]): number {
  if (shown.length === 0) return 0;
  const last = shown[shown.length - 1]!.timeNs;
  let same = 0;
  for (let i = shown.length - 1; i >= 0 && shown[i]!.timeNs === last; i--) same++;
  return same;
}
/** Span a message click shows, centred on it, ns. */
const JUMP_SPAN_NS = 2e6;

/** A message's CSS colour: Tracy's 0xRRGGBB, or null for the default (-1). */
export function messageColor(color: number): string | null {
  return color < 0 ? null : rgbCss(color);
}

/**
 * Messages of app.analysisRange() (GET /messages, filtered on the server by `q`): time, thread
 * and the text in its colour. A click centres the timeline on the message and, for a message
 * sent with a callstack (marked "stack"), shows its frames in a row under it.
 */
export function createMessagesPanel(app: App): Panel {
  const shell = new PanelShell();
  const filter = h('input', { id: 'messages-filter', attrs: { type: 'search', placeholder: 'text contains...', 'aria-label': 'Filter messages' } });
  const summary = h('span', { class: 'muted messages-summary' });
  shell.head.append(h('div', { class: 'panel-controls' }, filter, summary));
  const tbody = h('tbody');
  const note = h('div', { class: 'muted table-note' });
  shell.body.append(
    h('table', { class: 'messages-table' }, h('thead', {}, h('tr', {}, h('th', { text: 'time', class: 'num' }), h('th', { text: 'thread' }), h('th', { text: 'message' }))), tbody),
    note,
  );
  let selectedKey = '';
  let filterTimer: ReturnType<typeof setTimeout> | null = null;
  /** What the panel shows: pages appended by "Load more" until the answer is not truncated. */
  let shown: MessageItem[] = [];
  let more = false;
  let loadingMore = false;
  let lastNames = new Map<number, string | null>();
  let lastQ = '';
  const loadMore = h('button', { id: 'messages-more', text: 'Load more', title: 'the next messages of the range, after the last one shown' });
  loadMore.hidden = true;
  shell.body.append(loadMore);

  const life = new PanelLifecycle(app, {
    reloadOn: ['session', 'selection'],
    load: async (reason, isCurrent) => {
      const at = shell.begin(app, () => tbody.replaceChildren());
      if (at === null) return;
      const { id, range } = at;
      const q = filter.value.trim();
      if (reason !== 'timer') shell.setState('loading', 'Loading messages...');
      try {
        const [res, names] = await Promise.all([app.api.messages(id, { ...(range ?? {}), q: q || undefined, limit: MESSAGES_LIMIT }), threadNames(app)]);
        if (!isCurrent()) return;
        shown = res.messages;
        more = res.truncated === true || res.messages.length >= MESSAGES_LIMIT;
        render(shown, names, res.total, res.evictedBeforeNs, q);
      } catch (e) {
        if (isCurrent()) shell.setState('error', errorText(e));
      }
    },
  });

  async function loadNext(): Promise<void> {
    const id = app.sessionId;
    if (id === null || shown.length === 0 || loadingMore) return;
    loadingMore = true;
    loadMore.disabled = true;
    const range = app.analysisRange();
    const last = shown[shown.length - 1]!.timeNs;
    const same = sameTimeAtEnd(shown);
    try {
      const res = await app.api.messages(id, { t0: last, ...(range ? { t1: range.t1 } : {}), q: lastQ || undefined, limit: Math.min(10_000, MESSAGES_LIMIT + same) });
      const next = nextMessagesPage(shown, res.messages);
      shown = shown.concat(next);
      more = (res.truncated === true || res.messages.length >= MESSAGES_LIMIT + same) && next.length > 0;
      render(shown, lastNames, res.total, res.evictedBeforeNs, lastQ);
    } catch (e) {
      note.textContent = errorText(e);
    } finally {
      loadingMore = false;
      loadMore.disabled = false;
    }
  }
  loadMore.addEventListener('click', () => void loadNext());

  function render(list: MessageItem[], names: Map<number, string | null>, storedTotal: number, evictedBeforeNs: number, q: string): void {
    lastNames = names;
    lastQ = q;
    // keep the reader's place on a refresh; follow the end when they were at the end
    const scroller = shell.element.parentElement;
    const atEnd = scroller ? scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 4 : false;
    const top = scroller?.scrollTop ?? 0;
    tbody.replaceChildren(...list.flatMap((m, i) => {
      const tr = row(m, i, names);
      return tr.classList.contains('selected') && m.callstack ? [tr, stackRow(m.callstack)] : [tr];
    }));
    if (scroller) scroller.scrollTop = atEnd && top > 0 ? scroller.scrollHeight : top;
    summary.textContent = `${formatCount(list.length)} shown, ${formatCount(storedTotal)} in the session`;
    summary.dataset.shown = String(list.length);
    summary.dataset.total = String(storedTotal);
    const notes: string[] = [];
    const canLoad = more && list.length < MESSAGES_MAX_ROWS;
    loadMore.hidden = !canLoad;
    loadMore.textContent = `Load the next ${formatCount(MESSAGES_LIMIT)}`;
    summary.dataset.more = more ? '1' : '0';
    if (more) notes.push(canLoad ? `the first ${formatCount(list.length)} of the range: more follow` : `the first ${formatCount(list.length)} (the panel's most): select a shorter range or filter to see later ones`);
    if (evictedBeforeNs > 0) notes.push(`messages before ${formatTimestamp(evictedBeforeNs)} were evicted`);
    note.textContent = notes.join('; ');
    if (list.length === 0) shell.setState('empty', q ? `No message in this range contains "${q}".` : 'No messages in this range.');
    else shell.setState('ready');
  }

  function row(m: MessageItem, i: number, names: Map<number, string | null>): HTMLTableRowElement {
    const key = `${m.timeNs}/${m.thread}/${m.text}`;
    const text = h('td', { class: 'message-text', text: m.text });
    const color = messageColor(m.color);
    if (color) text.style.color = color;
    if (m.callstack) text.append(h('span', { class: 'cs-mark', text: 'stack', title: 'sent with a call stack: click to see it' }));
    const tr = h(
      'tr',
      { data: { message: i, timeNs: m.timeNs, thread: m.thread, callstack: m.callstack ?? 0 }, class: key === selectedKey ? 'selected' : '' },
      h('td', { class: 'num mono', text: formatTimestamp(m.timeNs) }),
      h('td', { text: threadLabel(names, m.thread) }),
      text,
    );
    clickable(tr, () => {
      selectedKey = key;
      for (const el of tbody.querySelectorAll('tr.selected')) el.classList.remove('selected');
      for (const el of tbody.querySelectorAll('tr.message-callstack')) el.remove();
      tr.classList.add('selected');
      if (m.callstack) tr.after(stackRow(m.callstack));
      app.jumpTo(m.timeNs - JUMP_SPAN_NS / 2, JUMP_SPAN_NS);
    });
    return tr;
  }

  /** The row under a selected message that holds its callstack's frames. */
  function stackRow(cs: number): HTMLTableRowElement {
    return h('tr', { class: 'message-callstack', data: { callstack: cs } }, h('td', { attrs: { colspan: '3' } }, callstackBlock(app, cs)));
  }

  function refilter(delayMs: number): void {
    if (filterTimer !== null) clearTimeout(filterTimer);
    filterTimer = setTimeout(() => {
      filterTimer = null;
      if (life.visible) life.reload('event');
    }, delayMs);
  }
  filter.addEventListener('input', () => refilter(250));
  filter.addEventListener('keydown', (ev) => ev.key === 'Enter' && refilter(0));
  app.on('session', () => (selectedKey = ''));

  return {
    id: 'messages',
    title: 'Messages',
    element: shell.element,
    activate: () => life.activate(),
    deactivate: () => life.deactivate(),
  };
}
