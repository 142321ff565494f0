import type { Context } from 'hono';
import type { Session } from '../session/session.js';
import type { SessionRegistry } from '../session/session-registry.js';
import { QueryBusyError, type QueryGate } from '../query/query-gate.js';
import { QueryCancelledError, type SliceOptions } from '../query/query-slicer.js';
import { HttpError, numberParam } from './encode.js';

/**
 * Query parameters shared by the heavy routes (limits, pixels, thread lists) and the way a heavy
 * query runs: through the gate, in slices, cancelled when its session goes or its client leaves.
 */

/**
 * An optional integer `limit`-like parameter in [min, max]; absent: `fallback`.
 * @throws HttpError 400 ZS_QUERY_LIMIT when above `max`, ZS_HTTP_BAD_PARAM when not an integer >= min
 */
export function limitParam(c: Context, name: string, fallback: number, max: number, min = 0): number {
  const n = numberParam(c, name, fallback);
  if (!Number.isInteger(n) || n < min) throw new HttpError(400, 'ZS_HTTP_BAD_PARAM', `query parameter ${name}=${c.req.query(name)} must be an integer >= ${min}`);
  if (n > max) throw new HttpError(400, 'ZS_QUERY_LIMIT', `query parameter ${name}=${c.req.query(name)} is above the maximum ${max}`);
  return n;
}

/**
 * The level of detail of a viewport: `nsPerPx` (>= 0; 0 = every zone), else the range over `px`
 * (> 0), else 0.
 * @throws HttpError 400 ZS_HTTP_BAD_PARAM for a negative nsPerPx or a px that is not > 0
 */
export function nsPerPxParam(c: Context, t0: number, t1: number): number {
  const px = numberParam(c, 'px', NaN);
  if (c.req.query('px') !== undefined && c.req.query('px') !== '' && !(px > 0)) throw new HttpError(400, 'ZS_HTTP_BAD_PARAM', `query parameter px=${c.req.query('px')} must be > 0 (the viewport's width in pixels)`);
  const nsPerPx = numberParam(c, 'nsPerPx', px > 0 ? (t1 - t0) / px : 0);
  if (nsPerPx < 0) throw new HttpError(400, 'ZS_HTTP_BAD_PARAM', `query parameter nsPerPx=${c.req.query('nsPerPx')} must be >= 0`);
  return nsPerPx;
}

/**
 * `threads` = comma-separated app thread ids, or undefined when absent.
 * @throws HttpError 400 ZS_HTTP_BAD_PARAM when an entry is not a non-negative integer
 */
export function threadsParam(c: Context): number[] | undefined {
  const raw = c.req.query('threads');
  if (!raw) return undefined;
  const ids = raw.split(',').map(Number);
  for (const id of ids) if (!Number.isInteger(id) || id < 0) throw new HttpError(400, 'ZS_HTTP_BAD_PARAM', `query parameter threads=${raw.slice(0, 100)} must be comma-separated thread ids`);
  return ids;
}

/**
 * Runs a heavy query of session `s` (or of several) through `gate`, in slices, with a signal that aborts when
 * the session is deleted or dropped from the registry (HttpError 410 ZS_QUERY_SESSION_GONE) or
 * the client closes the connection.
 * @throws HttpError 503 ZS_QUERY_BUSY when the gate's queue is full
 */
export async function runHeavyQuery<T>(c: Context, registry: SessionRegistry, s: Session | readonly Session[], gate: QueryGate, slice: SliceOptions, work: (slice: SliceOptions) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  // a comparison reads two sessions: either one going ends it
  const sessions: readonly Session[] = Array.isArray(s) ? s : [s as Session];
  const unsubscribe = registry.subscribe((e) => {
    if (e.type === 'deleted' && sessions.includes(e.session)) controller.abort(new HttpError(410, 'ZS_QUERY_SESSION_GONE', `session ${e.session.id} was deleted while the query ran`));
  });
  const client = c.req.raw.signal;
  const onClientGone = () => controller.abort(new QueryCancelledError('the client closed the connection'));
  client.addEventListener('abort', onClientGone);
  try {
    return await gate.run(() => work({ ...slice, signal: controller.signal }));
  } catch (err) {
    if (err instanceof QueryBusyError) throw new HttpError(503, err.code, err.message);
    if (err instanceof QueryCancelledError) throw new HttpError(503, err.code, err.message);
    throw err;
  } finally {
    unsubscribe();
    client.removeEventListener('abort', onClientGone);
  }
}
