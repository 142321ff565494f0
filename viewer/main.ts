import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { App } from './app.js';
import { formatDuration, formatTimestamp } from './format.js';
import { PanelLayout } from './panel-layout.js';
import { PanelHost } from './panels/panel.js';
import { createComparePanel } from './panels/compare.js';
import { createDetailsPanel } from './panels/details.js';
import { createFleetPanel } from './panels/fleet.js';
import { createFindPanel } from './panels/find.js';
import { createFlamePanel } from './panels/flame.js';
import { createLocksPanel } from './panels/locks.js';
import { createMemoryPanel } from './panels/memory.js';
import { installMemoryPick } from './panels/memory-pick.js';
import { createMessagesPanel } from './panels/messages.js';
import { createSessionsPanel } from './panels/sessions.js';
import { createStackFlamePanel } from './panels/stack-flame.js';
import { createStatsPanel } from './panels/stats.js';
import { mountExport } from './panels/export.js';
import { mountImportDrop } from './panels/import-drop.js';
import { PlotsView } from './plots/plots.js';
import { ShortcutHelp } from './shortcuts.js';
import { Timeline } from './timeline/timeline.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const app = new App();
// before the layout: its window key handler must run first (Esc closes the help, not the maximized panels)
const help = new ShortcutHelp($('help-button'));
const layout = new PanelLayout($('layout'), $('side'), $('panel-tools'));
const timeline = new Timeline($('timeline'), app);
const plots = new PlotsView($('plots'), app, timeline);
const memory = createMemoryPanel(app);
const panels = new PanelHost($('tabs'), $('panel-body'), [
  createSessionsPanel(app),
  createDetailsPanel(app),
  createStatsPanel(app, { get: () => layout.state.statsColumns, set: (c) => layout.setStatsColumns(c) }),
  createFlamePanel(app),
  createStackFlamePanel(app, { clickedTime: () => memory.state().t }),
  createFindPanel(app),
  createMessagesPanel(app),
  createLocksPanel(app),
  memory,
  createComparePanel(app),
  createFleetPanel(app),
]);
installMemoryPick(app, $('plots'), timeline, { pick: (p) => memory.pick(p), show: () => panels.show('memory') });
panels.show('sessions');
app.on('zone', () => {
  if (app.selectedZone) panels.show('details');
});
mountExport(app, $('export-area'));
mountImportDrop(app);

// ---- top bar ----
const picker = $<HTMLSelectElement>('session-picker');
const state = $('session-state');
const follow = $<HTMLInputElement>('follow-live');
const range = $('view-range');
const selInfo = $('selection-info');
const clearSel = $<HTMLButtonElement>('clear-selection');

function renderPicker(): void {
  const opts = app.sessions.map((s) => {
    const o = document.createElement('option');
    o.value = s.id;
    o.textContent = `${s.app ?? '?'} (pid ${s.pid ?? '?'}) ${s.state === 'ended' ? '- ended' : '- live'} [${s.id}]`;
    return o;
  });
  picker.replaceChildren(...opts);
  picker.value = app.sessionId ?? '';
  const s = app.session;
  state.textContent = s ? (s.state === 'ended' ? `ended: ${s.endReason ?? ''}` : 'live') : app.connected ? 'no sessions yet' : 'connecting...';
  state.className = s && s.state !== 'ended' ? 'live' : 'muted';
}
picker.addEventListener('change', () => app.openSession(picker.value || null));
app.on('sessions', renderPicker);
app.on('session', renderPicker);
app.on('connection', renderPicker);

follow.checked = app.follow;
follow.addEventListener('change', () => app.setFollow(follow.checked));
app.on('follow', () => (follow.checked = app.follow));
$('fit-view').addEventListener('click', () => app.fit());

app.on('viewport', () => {
  const { t0, t1 } = app.viewport;
  range.textContent = `${formatTimestamp(t0)} + ${formatDuration(t1 - t0)}`;
});
app.on('selection', () => {
  const s = app.selection;
  selInfo.textContent = s ? `range ${formatTimestamp(s.t0)} + ${formatDuration(s.t1 - s.t0)}` : '';
  clearSel.hidden = s === null;
});
clearSel.addEventListener('click', () => app.setSelection(null));

renderPicker();

/** The handle the browser tests and benchmarks use (test/viewer-*.test.ts, bench/viewer-bench.ts). */
(window as unknown as { __zs: unknown }).__zs = { app, timeline, plots, panels, memory, layout, help };
