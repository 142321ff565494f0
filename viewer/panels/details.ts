import type { ZoneDetails } from '../../protocol/view/types.js';
import type { App, ZoneRef } from '../app.js';
import { rgbCss, srclocRgb } from '../colors.js';
import { formatCount, formatDuration, formatExactNs, formatTimestamp } from '../format.js';
import { callstackBlock } from './callstack-view.js';
import { openFind } from './find.js';
import { PanelShell, errorText, h } from './panel-kit.js';
import type { Panel } from './panel.js';

/**
 * The clicked zone (app.selectedZone) from GET /zone: every value in an element with
 * data-field=NAME; times and durations carry the exact integer ns in data-ns and show it next to
 * the readable form; a zone recorded with a callstack shows its frames (GET /callstacks/:cs,
 * innermost first). A zone's details do not change, so nothing is refreshed on a timer; the
 * answer for a zone that was evicted meanwhile is the API's error.
 */
export function createDetailsPanel(app: App): Panel {
  const shell = new PanelShell(false);
  const title = h('div', { class: 'panel-title', text: 'Zone details' });
  shell.head.append(title);
  let visible = false;
  /** the zone drawn (or being loaded), as "session/thread/depth/row" */
  let shownKey = '';
  let generation = 0;
  let zone: ZoneDetails | null = null;

  function keyOf(ref: ZoneRef | null): string {
    return ref && app.sessionId !== null ? `${app.sessionId}/${ref.thread}/${ref.depth}/${ref.row}` : '';
  }

  async function load(): Promise<void> {
    const ref = app.selectedZone;
    const key = keyOf(ref);
    if (key === shownKey) return;
    shownKey = key;
    const gen = ++generation;
    if (!ref || app.sessionId === null) {
      zone = null;
      shell.body.replaceChildren();
      shell.setState('empty', 'Click a zone in the timeline to see its details.');
      return;
    }
    shell.setState('loading', `Loading zone (thread ${ref.thread}, depth ${ref.depth}, row ${ref.row})...`);
    try {
      const z = await app.api.zone(app.sessionId, ref.thread, ref.depth, ref.row);
      if (gen !== generation) return;
      zone = z;
      render(z);
      shell.setState('ready');
    } catch (e) {
      if (gen !== generation) return;
      zone = null;
      shell.body.replaceChildren();
      shell.setState('error', errorText(e));
      shownKey = ''; // clicking the same zone again retries
    }
  }

  function render(z: ZoneDetails): void {
    const info = app.srclocs[z.srcloc];
    const rgb = z.color !== 0 ? z.color & 0xffffff : srclocRgb(info, z.srclocName);
    const rows: [string, string, HTMLElement][] = [
      ['Name', 'name', h('span', {}, h('span', { class: 'swatch', data: { field: 'color', color: rgbCss(rgb) }, attrs: { style: `background:${rgbCss(rgb)}` } }), h('span', { text: z.name, data: { field: 'name' } }))],
      ['Source location', 'srcloc', h('span', { text: z.srclocName, data: { srcloc: z.srcloc } })],
      ['Function', 'function', h('span', { text: z.function })],
      ['File', 'file', h('span', { text: z.file, class: 'mono' })],
      ['Line', 'line', h('span', { text: String(z.line) })],
      ['Thread', 'thread', h('span', { text: `${z.threadName ?? '(unnamed)'} (${z.thread})`, data: { thread: z.thread } })],
      ['Start', 'start', exact(formatTimestamp(z.startNs), z.startNs)],
      ['Duration', 'duration', exact(formatDuration(z.durNs), z.durNs)],
      ['Self time', 'self', exact(`${formatDuration(z.selfNs)} (${percent(z.selfNs, z.durNs)})`, z.selfNs)],
      ['Children', 'children', h('span', { text: formatCount(z.children), data: { count: z.children } })],
      ['Text', 'text', h('span', { text: z.text ?? '', class: z.text === null ? 'muted' : 'zone-text' })],
      ['Value', 'value', h('span', { text: z.value ?? '', class: 'mono' })],
      ['Depth / row', 'position', h('span', { text: `${z.depth} / ${z.row}`, class: 'muted' })],
    ];
    const dl = h('dl', { class: 'details-list' });
    for (const [label, field, value] of rows) {
      if (field !== 'name') value.dataset.field = field;
      dl.append(h('dt', { text: label }), h('dd', {}, value));
    }
    const zoom = h('button', { id: 'details-zoom', text: 'Zoom to zone', data: { action: 'zoom' } });
    zoom.addEventListener('click', () => app.jumpTo(z.startNs, z.durNs, { thread: z.thread, depth: z.depth, row: z.row }));
    const highlight = h('button', { id: 'details-highlight', data: { action: 'highlight', srcloc: z.srcloc } });
    highlight.addEventListener('click', () => app.setHighlight(z.srcloc));
    const find = h('button', { id: 'details-find', text: `Find "${z.srclocName}"`, data: { action: 'find' } });
    find.addEventListener('click', () => openFind(z.srclocName));
    // callstack 0 (or absent, from a server before issue 17) = the zone was not recorded with one
    const stack = z.callstack ? h('section', { class: 'details-callstack', data: { field: 'callstack', callstack: z.callstack } }, h('div', { class: 'details-callstack-title', text: 'Call stack' }), callstackBlock(app, z.callstack)) : null;
    shell.body.replaceChildren(dl, h('div', { class: 'panel-actions' }, zoom, highlight, find), stack ?? '');
    updateHighlightButton();
  }

  function updateHighlightButton(): void {
    const b = shell.body.querySelector<HTMLButtonElement>('#details-highlight');
    if (!b || !zone) return;
    const on = app.highlight === zone.srcloc;
    b.textContent = on ? `Remove highlight of ${zone.srclocName}` : `Highlight all ${zone.srclocName}`;
    b.setAttribute('aria-pressed', String(on));
  }

  app.on('zone', () => visible && void load());
  app.on('session', () => visible && void load());
  app.on('highlight', updateHighlightButton);

  return {
    id: 'details',
    title: 'Details',
    element: shell.element,
    activate() {
      visible = true;
      void load();
    },
    deactivate() {
      visible = false;
    },
  };
}

/** The readable value with the exact ns beside it; data-ns holds the integer ns. */
function exact(readable: string, ns: number): HTMLElement {
  return h('span', { data: { ns: Math.round(ns) } }, h('span', { text: readable }), ' ', h('span', { class: 'exact-ns muted mono', text: `(${formatExactNs(ns)})` }));
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${((part / whole) * 100).toFixed(1)}%` : '-';
}
