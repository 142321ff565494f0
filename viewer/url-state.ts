/**
 * The view in the URL, so a view can be shared: ?session=ID&t0=NS&t1=NS (a fixed view), or
 * ?session=ID&follow=1&span=NS (follow live).
 */
export interface UrlState {
  session: string | null;
  t0: number | null;
  t1: number | null;
  span: number | null;
  follow: boolean | null;
}

/** A finite number, else null (missing, empty, blank — Number(' ') would be 0 — or not a number). */
function num(p: URLSearchParams, key: string): number | null {
  const raw = p.get(key);
  if (raw === null || raw.trim() === '') return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : null;
}

/** A span must be > 0 to mean anything. */
function positive(n: number | null): number | null {
  return n !== null && n > 0 ? n : null;
}

/** '1'/'true' and '0'/'false'; anything else is ignored (null). */
function bool(p: URLSearchParams, key: string): boolean | null {
  const raw = p.get(key);
  if (raw === '1' || raw === 'true') return true;
  if (raw === '0' || raw === 'false') return false;
  return null;
}

/** Reads the view from a query string; values that do not parse are null (ignored), never thrown. */
export function readUrlState(search: string): UrlState {
  const p = new URLSearchParams(search);
  return {
    session: p.get('session') || null,
    t0: num(p, 't0'),
    t1: num(p, 't1'),
    span: positive(num(p, 'span')),
    follow: bool(p, 'follow'),
  };
}

/**
 * The query string of the view; `extra` adds other parts' keys (the track list: hide, pin,
 * order, collapse, maxrows, rows — timeline/track-prefs.ts), null values left out.
 */
export function writeUrlState(s: { session: string | null; follow: boolean; t0: number; t1: number }, extra: Readonly<Record<string, string | null>> = {}): string {
  const p = new URLSearchParams();
  if (s.session !== null) p.set('session', s.session);
  if (s.follow) {
    p.set('follow', '1');
    p.set('span', String(Math.round(s.t1 - s.t0)));
  } else {
    p.set('t0', String(Math.round(s.t0)));
    p.set('t1', String(Math.round(s.t1)));
  }
  for (const [k, v] of Object.entries(extra)) if (v !== null && !p.has(k)) p.set(k, v);
  return `?${p.toString()}`;
}
