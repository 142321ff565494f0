import type { App } from '../app.js';

/** Export formats the server offers (GET /api/sessions/:id/export?format=...); gzip: also offered gzip-compressed. */
const FORMATS = [
  { format: 'chrome', label: 'Chrome trace JSON (Perfetto, chrome://tracing, speedscope, Tracy import)', gzip: true },
  { format: 'zscap', label: 'Zonescope capture .zscap (zonescope replay, inspect)', gzip: false },
] as const;

/** The export URL of the current session, or of the range selection when `range` is set. */
export function exportUrl(app: App, format: string, range: boolean, gzip: boolean): string | null {
  if (app.sessionId === null) return null;
  const p = new URLSearchParams({ format });
  if (range && app.selection) {
    p.set('t0', String(Math.floor(app.selection.t0)));
    p.set('t1', String(Math.ceil(app.selection.t1)));
  }
  if (gzip) p.set('gzip', '1');
  return `/api/sessions/${encodeURIComponent(app.sessionId)}/export?${p.toString()}`;
}

/**
 * The top bar's Export button: a menu of the session or the selected range in each format the
 * server writes (Chrome JSON also gzip). The file downloads straight from the server's streamed
 * response.
 */
export function mountExport(app: App, el: HTMLElement): void {
  const button = document.createElement('button');
  button.id = 'export-button';
  button.textContent = 'Export';
  button.setAttribute('aria-haspopup', 'menu');
  const menu = document.createElement('div');
  menu.id = 'export-menu';
  menu.setAttribute('role', 'menu');
  menu.hidden = true;
  el.classList.add('export-area');
  el.append(button, menu);

  const item = (label: string, href: () => string | null, enabled: () => boolean) => {
    const a = document.createElement('a');
    a.setAttribute('role', 'menuitem');
    a.textContent = label;
    a.download = '';
    const refresh = () => {
      const url = enabled() ? href() : null;
      if (url) a.href = url;
      else a.removeAttribute('href');
      a.setAttribute('aria-disabled', url ? 'false' : 'true');
    };
    a.addEventListener('click', () => (menu.hidden = true));
    return { a, refresh };
  };

  const items: ReturnType<typeof item>[] = [];
  for (const f of FORMATS) {
    items.push(item(`Session: ${f.label}`, () => exportUrl(app, f.format, false, false), () => true));
    if (f.gzip) items.push(item(`Session: ${f.label}, gzip`, () => exportUrl(app, f.format, false, true), () => true));
    items.push(item(`Selected range: ${f.label}`, () => exportUrl(app, f.format, true, false), () => app.selection !== null));
  }
  menu.append(...items.map((i) => i.a));
  const refresh = () => {
    button.disabled = app.sessionId === null;
    for (const i of items) i.refresh();
  };
  button.addEventListener('click', () => {
    refresh();
    menu.hidden = !menu.hidden;
  });
  document.addEventListener('click', (ev) => {
    if (!el.contains(ev.target as Node)) menu.hidden = true;
  });
  app.on('session', refresh);
  app.on('selection', refresh);
  refresh();
}
