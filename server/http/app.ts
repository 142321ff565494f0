import { Hono } from 'hono';
import type { FleetHandle } from '../fleet/fleet.js';
import type { RefusalCounters } from '../security/refusals.js';
import type { SessionRegistry } from '../session/session-registry.js';
import type { LiveHub } from './live-hub.js';
import { compareRoutes } from './compare-routes.js';
import { HttpError } from './encode.js';
import { fleetRoutes } from './fleet-routes.js';
import { memoryRoutes } from './memory-routes.js';
import { renderMetrics } from './metrics.js';
import { sessionRoutes } from './session-routes.js';
import { mountViewer } from './viewer-assets.js';

export interface AppDeps {
  registry: SessionRegistry;
  /** The viewer hub, whose counters /metrics shows (none: no live_* lines). */
  live?: LiveHub;
  /** Refused requests and connections by reason, for /metrics (server/security/refusals.ts). */
  refusals?: RefusalCounters;
  /** The fleet sinks (--clickhouse, --influx): their counters in /metrics; its ClickHouse answers /api/fleet (absent: 409 ZS_FLEET_NO_CLICKHOUSE). */
  fleet?: FleetHandle;
}

/** The HTTP app: REST API, /metrics and the viewer at / (viewer-assets.ts). WebSockets are routed by http-server.ts. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.onError((err, c) => {
    if (err instanceof HttpError) return c.json({ error: err.message, code: err.code }, err.status as 400);
    return c.json({ error: err instanceof Error ? err.message : String(err), code: 'ZS_HTTP_INTERNAL' }, 500);
  });
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}`, code: 'ZS_HTTP_NOT_FOUND' }, 404));
  mountViewer(app);
  app.get('/metrics', (c) => c.text(renderMetrics(deps.registry, { ...(deps.live && { live: deps.live.stats() }), ...(deps.refusals && { refusals: deps.refusals }), ...(deps.fleet && { fleet: deps.fleet.counters() }) }), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }));
  app.route('/api/sessions', sessionRoutes(deps.registry));
  app.route('/api/sessions', memoryRoutes(deps.registry));
  app.route('/api/compare', compareRoutes(deps.registry));
  app.route('/api/fleet', fleetRoutes(deps.fleet?.clickhouse?.target));
  return app;
}
