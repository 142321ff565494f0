import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { SessionRegistry } from '../session/session-registry.js';

/**
 * Checks an /ingest upgrade against the connection limits (registry.admit) before the
 * WebSocket is accepted; a refused one gets `503` with `{ error, code }` and is closed.
 * @returns true when the upgrade was refused (the caller stops there)
 */
export function refuseIngestUpgrade(registry: SessionRegistry, req: IncomingMessage, socket: Duplex): boolean {
  const refusal = registry.admit(req.socket.remoteAddress ?? '?');
  if (refusal === null) return false;
  const body = JSON.stringify({ error: refusal.message, code: refusal.code });
  socket.end(
    `HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  return true;
}

/**
 * WebSocket ingest (/ingest): each binary message is the next chunk of the app's byte stream;
 * what we send (handshake, queries) goes back as binary messages. Same conversation as TCP.
 * Call it only for an upgrade refuseIngestUpgrade let through.
 */
export function attachIngestSocket(registry: SessionRegistry, ws: WebSocket, remote: string, address = remote): void {
  const session = registry.create(
    {
      write: (bytes) => {
        if (ws.readyState === 1) ws.send(bytes, { binary: true });
      },
      close: () => ws.close(1000, 'session ended'),
      pause: () => ws.pause(),
      resume: () => ws.resume(),
    },
    'ws',
    remote,
    { address },
  );
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    if (!isBinary) return;
    if (Array.isArray(data)) for (const part of data) session.receive(part);
    else session.receive(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
  });
  ws.on('close', () => session.connectionClosed());
  ws.on('error', () => {
    // 'close' follows
  });
  session.start();
}
