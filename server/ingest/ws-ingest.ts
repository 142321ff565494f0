import type { WebSocket } from 'ws';
import type { SessionRegistry } from '../session/session-registry.js';

/**
 * WebSocket ingest (/ingest): each binary message is the next chunk of the app's byte stream;
 * what we send (handshake, queries) goes back as binary messages. Same conversation as TCP.
 */
export function attachIngestSocket(registry: SessionRegistry, ws: WebSocket, remote: string): void {
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
