import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { attachIngestSocket, refuseIngestUpgrade } from '../ingest/ws-ingest.js';
import type { SessionRegistry } from '../session/session-registry.js';
import { resolveSecurity, type ResolvedSecurity } from '../security/security-options.js';
import type { FleetHandle } from '../fleet/fleet.js';
import { createApp } from './app.js';
import { createGuardedServer, RequestGuard } from './guard.js';
import { LIVE_MAX_MESSAGE_BYTES, LiveHub, type LiveHubOptions } from './live-hub.js';

export interface HttpServerHandle {
  server: Server;
  port: number;
  live: LiveHub;
  close(): Promise<void>;
}

/**
 * Serves the app, and routes WebSocket upgrades: /api/live to the viewer hub, /ingest to sessions.
 * Every request and handshake first passes the guard (guard.ts); `security` defaults to what
 * resolveSecurity gives for `host` with no options.
 */
export function startHttpServer(
  registry: SessionRegistry,
  host: string,
  port: number,
  security: ResolvedSecurity = resolveSecurity(host, null),
  liveOptions: LiveHubOptions = {},
  fleet?: FleetHandle,
): Promise<HttpServerHandle> {
  const live = new LiveHub(registry, liveOptions);
  const app = createApp({ registry, live, refusals: security.refusals, ...(fleet && { fleet }) });
  const guard = new RequestGuard(security);
  const server = createGuardedServer(guard, app.fetch, security);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  const liveWss = new WebSocketServer({ noServer: true, maxPayload: LIVE_MAX_MESSAGE_BYTES }); // viewers send small requests
  server.on('upgrade', (req, socket, head) => {
    if (guard.refuseUpgrade(req, socket)) return;
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/api/live' && path !== '/ingest') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    if (path === '/ingest' && refuseIngestUpgrade(registry, req, socket)) return; // connection limits
    (path === '/api/live' ? liveWss : wss).handleUpgrade(req, socket, head, (ws) => {
      if (path === '/api/live') live.attach(ws);
      else attachIngestSocket(registry, ws, `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`, req.socket.remoteAddress ?? '?');
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({
        server,
        port: (server.address() as AddressInfo).port,
        live,
        close: () =>
          new Promise<void>((done) => {
            live.close();
            for (const ws of [...wss.clients, ...liveWss.clients]) ws.terminate();
            wss.close();
            liveWss.close();
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}
