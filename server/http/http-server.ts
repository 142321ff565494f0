import { createAdaptorServer } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { attachIngestSocket, refuseIngestUpgrade } from '../ingest/ws-ingest.js';
import type { SessionRegistry } from '../session/session-registry.js';
import { createApp } from './app.js';
import { LiveHub } from './live-hub.js';

export interface HttpServerHandle {
  server: Server;
  port: number;
  live: LiveHub;
  close(): Promise<void>;
}

/** Serves the app, and routes WebSocket upgrades: /api/live to the viewer hub, /ingest to sessions. */
export function startHttpServer(registry: SessionRegistry, host: string, port: number): Promise<HttpServerHandle> {
  const app = createApp({ registry });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  const live = new LiveHub(registry);
  server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/api/live' && path !== '/ingest') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    if (path === '/ingest' && refuseIngestUpgrade(registry, req, socket)) return; // connection limits
    wss.handleUpgrade(req, socket, head, (ws) => {
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
            for (const ws of wss.clients) ws.terminate();
            wss.close();
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}
