import type { Context } from 'hono';
import type { Session } from '../session/session.js';
import { exportStoreToCapture } from '../capture/store-to-capture.js';
import { CAPTURE_MAX_ABS_NS, findBadTime } from '../capture/store-time-range.js';
import { exportStoreToChrome } from '../export/store-to-chrome.js';
import { HttpError, numberParam } from './encode.js';

/** Chunks handed to the socket per pull: enough to keep it busy, few enough to stay bounded. */
const CHUNKS_PER_PULL = 4;

/** A file name from the app's name and the session id: letters, digits, '-', '_' and '.' only. */
export function exportFileName(s: Session, ext: string, ranged: boolean): string {
  const app = (s.welcome?.programName ?? 'session').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60) || 'session';
  return `${app}-${s.id}${ranged ? '-range' : ''}.${ext}`;
}

/** Export formats: `chrome` (Chrome Trace Event JSON) and `zscap` (a capture re-encoded from the store). */
const FORMATS = ['chrome', 'zscap'] as const;

/**
 * GET /api/sessions/:id/export?format=chrome|zscap[&t0&t1][&gzip=1]: the session (or a range
 * of it) as Chrome Trace Event JSON (optionally gzip) or as a .zscap re-encoded from the store
 * (store-to-capture.ts; gzip does not apply: its frames are LZ4 already). Streamed: chunks are
 * produced as the client reads them, so the response holds a few chunks at a time whatever
 * the session's size.
 *
 * Everything that can refuse is checked before the first byte, so an export is either a 4xx
 * JSON error or a complete file, never a 200 that breaks off: a store holding times the format
 * cannot write (NaN or infinite, or beyond ±2^53 ns for a .zscap, whose ticks are integers:
 * what an absurd welcome timer produces) is a 422 ZS_EXPORT_BAD_TIMES naming the first one.
 */
export function exportResponse(c: Context, s: Session): Response {
  if (s.sqlViews) throw new HttpError(409, 'ZS_EXPORT_CLICKHOUSE', `session ${s.id} is answered from ClickHouse: its zones are not in this server's memory; export it from the server that recorded it, or query ClickHouse (docs/fleet.md)`);
  const format = c.req.query('format') ?? 'chrome';
  if (!(FORMATS as readonly string[]).includes(format)) throw new HttpError(400, 'ZS_HTTP_BAD_PARAM', `unknown export format '${format}' (${FORMATS.join(', ')})`);
  const hasRange = c.req.query('t0') !== undefined || c.req.query('t1') !== undefined;
  const t0 = numberParam(c, 't0', -Infinity);
  const t1 = numberParam(c, 't1', Infinity);
  if (t1 < t0) throw new HttpError(400, 'ZS_HTTP_BAD_RANGE', `t1 (${t1}) is before t0 (${t0})`);
  const gzip = c.req.query('gzip') === '1' || c.req.query('gzip') === 'true';
  const bad = findBadTime(s.store, format === 'zscap' ? CAPTURE_MAX_ABS_NS : Number.MAX_VALUE);
  if (bad !== null) {
    const limit = format === 'zscap' ? 'a .zscap holds integer nanoseconds within ±2^53' : 'Chrome JSON holds finite numbers only';
    throw new HttpError(422, 'ZS_EXPORT_BAD_TIMES', `session ${s.id} cannot be exported as ${format}: its ${bad.what} is at ${bad.ns} ns (${limit}); the app's timer (welcome timerMul, initBegin) is likely not sane`);
  }
  if (format === 'zscap') {
    if (gzip) throw new HttpError(400, 'ZS_HTTP_BAD_PARAM', 'gzip applies to format=chrome only: a .zscap is LZ4-compressed already');
    const chunks = exportStoreToCapture(s.store, { t0, t1, welcome: s.welcome, sessionId: s.id, remote: s.remote, wallClockStartMs: s.startedAt });
    return new Response(pulled(chunks, (chunk) => chunk) as unknown as BodyInit, {
      headers: {
        'content-type': 'application/octet-stream',
        'content-disposition': `attachment; filename="${exportFileName(s, 'zscap', hasRange)}"`,
        'cache-control': 'no-store',
      },
    });
  }
  const w = s.welcome;
  const chunks = exportStoreToChrome(s.store, {
    t0,
    t1,
    app: w?.programName ?? null,
    host: w?.hostInfo ?? null,
    pid: w ? Number(w.pid) : null,
    sessionId: s.id,
  });
  const utf8 = new TextEncoder();
  let body = pulled(chunks, (chunk) => utf8.encode(chunk));
  if (gzip) body = body.pipeThrough(new CompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>);
  const name = exportFileName(s, gzip ? 'json.gz' : 'json', hasRange);
  return new Response(body as unknown as BodyInit, {
    headers: {
      'content-type': gzip ? 'application/gzip' : 'application/json; charset=utf-8',
      'content-disposition': `attachment; filename="${name}"`,
      'cache-control': 'no-store',
    },
  });
}

/** A byte stream that pulls a few chunks from `chunks` each time the client reads (bounded memory). */
function pulled<T>(chunks: Generator<T, unknown, void>, toBytes: (chunk: T) => Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        for (let i = 0; i < CHUNKS_PER_PULL; i++) {
          const next = chunks.next();
          if (next.done) {
            controller.close();
            return;
          }
          controller.enqueue(toBytes(next.value));
        }
      },
      cancel() {
        chunks.return(undefined as never);
      },
    },
    { highWaterMark: 1 },
  );
}
