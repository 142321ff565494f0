import type { Context, Hono } from 'hono';
import type { StackFlameKind, StackFlameResult } from '../../protocol/view/types.js';
import type { QueryGate } from '../query/query-gate.js';
import type { SliceOptions } from '../query/query-slicer.js';
import { callstackInfo, stackFlameSliced, stackTotalsSliced, type StackTotalsOptions } from '../query/stack-query.js';
import type { Session } from '../session/session.js';
import type { SessionRegistry } from '../session/session-registry.js';
import { pprofOfTotals } from '../export/session-pprof.js';
import { HttpError, numberParam, respond, streamedResponse } from './encode.js';
import { exportFileName } from './export-route.js';
import { poolOf } from './memory-routes.js';
import { runHeavyQuery } from './query-params.js';
import { rangeOf, sessionOf } from './session-routes.js';

const KINDS: readonly StackFlameKind[] = ['cpu', 'inuse', 'alloc'];

/** `?kind=cpu|inuse|alloc` (default cpu). @throws HttpError 400 ZS_HTTP_BAD_PARAM */
export function kindParam(c: Context): StackFlameKind {
  const kind = c.req.query('kind') ?? 'cpu';
  if (!(KINDS as readonly string[]).includes(kind)) throw new HttpError(400, 'ZS_HTTP_BAD_PARAM', `kind=${kind.slice(0, 40)} is not one of ${KINDS.join(', ')}`);
  return kind as StackFlameKind;
}

/** The totals options of a profile request: kind, range (inuse: alive at t1), pool (memory kinds), thread (cpu). */
export function stackTotalsOptions(c: Context, s: Session): StackTotalsOptions {
  const kind = kindParam(c);
  const { t0, t1 } = rangeOf(c, s);
  const o: StackTotalsOptions = { kind, t0, t1 };
  if (kind !== 'cpu') o.pool = poolOf(c, s.store);
  if (c.req.query('thread') !== undefined) o.thread = numberParam(c, 'thread', 0);
  return o;
}

/**
 * Callstack routes under /api/sessions (docs/server.md "Callstacks"):
 * - GET /:id/callstacks/:cs: one callstack's frames, innermost first, inlined frames expanded;
 * - GET /:id/stack-flame?kind=cpu|inuse|alloc[&t0&t1][&pool][&thread][&invert=1]: the flame
 *   graph of CPU samples in the range, of allocations alive at t1 (inuse) or made in the range
 *   (alloc), merged by function name path, computed in slices through the heavy-query gate;
 * - GET /:id/pprof?kind=cpu|inuse|alloc[&t0&t1][&pool][&thread]: the same totals as a gzipped
 *   pprof profile.proto (go tool pprof, Pyroscope, Grafana, speedscope).
 */
export function mountStackRoutes(api: Hono, registry: SessionRegistry, o: { gate: QueryGate; slice: SliceOptions }): void {
  api.get('/:id/callstacks/:cs', (c) => {
    const s = sessionOf(registry, c);
    const raw = c.req.param('cs') ?? '';
    const id = /^\d{1,10}$/.test(raw) ? Number(raw) : -1;
    const info = id > 0 ? callstackInfo(s.store.callstacks, id) : null;
    if (info === null) throw new HttpError(404, 'ZS_HTTP_NO_CALLSTACK', `no callstack ${raw.slice(0, 20)} in session ${s.id} (it has ${s.store.callstacks.count})`);
    return respond(c, info);
  });

  api.get('/:id/stack-flame', async (c) => {
    const s = sessionOf(registry, c);
    const options = stackTotalsOptions(c, s);
    const invert = c.req.query('invert') === '1';
    const { totals, flame } = await runHeavyQuery(c, registry, s, o.gate, o.slice, async (sl) => {
      const t = await stackTotalsSliced(s.store, options, sl);
      return { totals: t, flame: await stackFlameSliced(s.store.callstacks, t, invert, sl) };
    });
    const result: StackFlameResult = {
      kind: options.kind,
      unit: options.kind === 'cpu' ? 'samples' : 'bytes',
      t0: options.t0,
      t1: options.t1,
      pool: options.pool ? options.pool.namePtr : null,
      total: flame.total,
      count: flame.count,
      nodes: flame.nodes,
      cut: flame.cut,
    };
    return streamedResponse(c, { ...result, withoutStack: totals.withoutStack, samplesTotal: s.store.samplesTotal });
  });

  api.get('/:id/pprof', async (c) => {
    const s = sessionOf(registry, c);
    const options = stackTotalsOptions(c, s);
    const profile = await runHeavyQuery(c, registry, s, o.gate, o.slice, async (sl) => pprofOfTotals(s, await stackTotalsSliced(s.store, options, sl), sl));
    const ranged = c.req.query('t0') !== undefined || c.req.query('t1') !== undefined;
    return new Response(profile.bytes as unknown as BodyInit, {
      headers: {
        'content-type': 'application/octet-stream',
        'content-disposition': `attachment; filename="${exportFileName(s, `${options.kind}.pb.gz`, ranged)}"`,
        'x-zonescope-stacks': String(profile.stacks),
      },
    });
  });
}
