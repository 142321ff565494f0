import type { StackFrame } from '../../protocol/view/types.js';
import type { App } from '../app.js';
import { callstackText, frameLocation, frameTitle, unresolved } from './callstack-data.js';
import { errorText, h } from './panel-kit.js';

/**
 * A callstack's frames, innermost first: the function (an "inlined" tag on frames Tracy expanded
 * from an inlined call), then file:line dimmed; the image and address on hover. Each frame is
 * an `li.cs-frame` with data-function, data-file, data-line and data-inlined (for tests).
 */
export function callstackList(frames: readonly StackFrame[]): HTMLOListElement {
  const ol = h('ol', { class: 'callstack-frames', attrs: { 'aria-label': callstackText(frames) } });
  frames.forEach((f, i) => {
    const loc = frameLocation(f);
    ol.append(
      h(
        'li',
        { class: `cs-frame${f.inlined ? ' inlined' : ''}${unresolved(f) ? ' unresolved' : ''}`, title: frameTitle(f), data: { frame: i, function: f.function, file: f.file, line: f.line, inlined: f.inlined ? 1 : 0, image: f.image, address: f.address } },
        h('span', { class: 'cs-fn mono', text: f.function }),
        f.inlined ? h('span', { class: 'cs-tag', text: 'inlined' }) : null,
        loc ? h('span', { class: 'cs-loc muted mono', text: loc }) : null,
      ),
    );
  });
  return ol;
}

/**
 * A block that loads callstack `cs` of the current session (GET /callstacks/:cs, cached by the
 * Api) and shows its frames: `div.callstack` with data-callstack and data-state (loading, ready,
 * error). An answer for a session that is no longer open is dropped.
 */
export function callstackBlock(app: App, cs: number): HTMLDivElement {
  const el = h('div', { class: 'callstack', data: { callstack: cs, state: 'loading' } }, h('div', { class: 'muted small', text: `Loading call stack #${cs}...` }));
  const id = app.sessionId;
  if (id === null) return el;
  app.api.callstack(id, cs).then(
    (info) => {
      if (app.sessionId !== id) return;
      el.replaceChildren(info.frames.length ? callstackList(info.frames) : h('div', { class: 'muted small', text: 'The call stack has no frames.' }));
      el.dataset.state = 'ready';
      el.dataset.frames = String(info.frames.length);
    },
    (e: unknown) => {
      el.replaceChildren(h('div', { class: 'error-text small', text: `Call stack #${cs}: ${errorText(e)}` }));
      el.dataset.state = 'error';
    },
  );
  return el;
}
