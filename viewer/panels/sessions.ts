import type { SessionSummary } from '../../protocol/view/types.js';
import type { App } from '../app.js';
import { formatBytes, formatCount, formatDuration } from '../format.js';
import { PanelShell, clickable, errorText, h } from './panel-kit.js';
import type { Panel } from './panel.js';

/** The first line of a host description (Tracy's host info is "OS: ...\nCompiler: ...\n..."). */
export function hostLine(host: string | null): string {
  if (!host) return '';
  return host.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
}

/**
 * Why a session ended, in one line: the reason, the protocol error (code, message, offset,
 * queue type) and where the stream was cut. '' while it is live.
 */
export function endText(s: Pick<SessionSummary, 'state' | 'endReason' | 'error' | 'truncation'>): string {
  if (s.state !== 'ended' && !s.error) return '';
  const parts: string[] = [s.endReason ?? (s.state === 'ended' ? 'ended' : '')];
  if (s.error) {
    let e = `${s.error.code}: ${s.error.message}`;
    if (s.error.offset !== undefined && !s.error.message.includes(`offset ${s.error.offset}`)) e += ` (offset ${s.error.offset})`;
    if (s.error.queueType !== undefined && s.error.queueType >= 0 && !/queue ?type/i.test(s.error.message)) e += ` (queue type ${s.error.queueType})`;
    parts.push(e);
  }
  if (s.truncation) parts.push(`truncated: ${typeof s.truncation === 'string' ? s.truncation : JSON.stringify(s.truncation)}`);
  return parts.filter((p) => p !== '').join(' — ');
}

/**
 * All sessions (app.sessions, from the live socket): click a row to open it. While visible and
 * some session is live, the list is fetched every 2 s too, so byte and zone counts of sessions
 * other than the open one move (the live socket only re-sends the list when it changes).
 */
export function createSessionsPanel(app: App): Panel {
  const shell = new PanelShell(false);
  shell.head.append(h('div', { class: 'panel-title', text: 'Sessions' }));
  const tbody = h('tbody');
  // app, host and why it ended share the first cell, so the table fits the side panel
  const columns = ['', 'app / host / end', 'pid', 'state', 'bytes', 'zones'];
  const table = h(
    'table',
    { class: 'sessions-table' },
    h('thead', {}, h('tr', {}, ...columns.map((c, i) => h('th', { text: c, class: i >= 4 ? 'num' : '' })))),
    tbody,
  );
  shell.body.append(table);
  let list: SessionSummary[] = app.sessions;
  let visible = false;
  let timer: ReturnType<typeof setInterval> | null = null;
  let fetching = false;

  function render(): void {
    if (!visible) return;
    if (list.length === 0) {
      shell.setState('empty', app.connected ? 'No sessions yet: point a Tracy app or the SDK at the ingest port.' : 'Connecting...');
      tbody.replaceChildren();
      return;
    }
    shell.setState('ready');
    tbody.replaceChildren(...list.map(row));
  }

  function row(s: SessionSummary): HTMLTableRowElement {
    const current = s.id === app.sessionId;
    const live = s.state !== 'ended';
    const why = endText(s);
    const tr = h(
      'tr',
      { data: { session: s.id, state: s.state }, class: current ? 'selected' : '', title: `session ${s.id} from ${s.source} ${s.remote}, ${formatDuration(s.lastNs)} of data` },
      h('td', { text: current ? '▶' : '', class: 'current-mark' }),
      h(
        'td',
        { class: 'wrap-cell' },
        h('div', { text: s.app ?? '?', class: 'session-app', data: { field: 'app' } }),
        h('div', { text: hostLine(s.host), title: s.host ?? '', class: 'muted small', data: { field: 'host' } }),
        why ? h('div', { text: why, class: `small ${s.error || s.truncation ? 'error-text' : 'muted'}`, data: { field: 'ended' } }) : null,
      ),
      h('td', { text: s.pid === null ? '?' : String(s.pid), data: { field: 'pid' } }),
      h('td', { text: live ? 'live' : 'ended', class: live ? 'live' : 'muted', data: { field: 'state' } }),
      h('td', { text: formatBytes(s.bytes), class: 'num', title: `${formatCount(s.bytes)} bytes received`, data: { field: 'bytes', bytes: s.bytes } }),
      h('td', { text: formatCount(s.zones), class: 'num', data: { field: 'zones', count: s.zones } }),
    );
    if (current) tr.setAttribute('aria-current', 'true');
    clickable(tr, () => app.openSession(s.id));
    return tr;
  }

  async function refresh(): Promise<void> {
    if (fetching || !visible || !list.some((s) => s.state !== 'ended')) return;
    fetching = true;
    try {
      list = await app.api.sessions();
      render();
    } catch (e) {
      shell.setState('error', errorText(e));
    } finally {
      fetching = false;
    }
  }

  app.on('sessions', () => {
    list = app.sessions;
    render();
  });
  app.on('session', render);
  app.on('connection', render);

  return {
    id: 'sessions',
    title: 'Sessions',
    element: shell.element,
    activate() {
      visible = true;
      list = app.sessions;
      render();
      timer ??= setInterval(() => void refresh(), 2000);
    },
    deactivate() {
      visible = false;
      if (timer !== null) clearInterval(timer);
      timer = null;
    },
  };
}
