import { createServer, type Server, type Socket } from 'node:net';
import type { SessionRegistry } from '../session/session-registry.js';
import { attachSocket, socketTransport } from './socket-transport.js';

/**
 * TCP ingest: apps using our SDK dial in. The conversation is Tracy's with the roles of the
 * sockets swapped: we accepted, but we still speak first (the handshake).
 * `accept` (the --ingest-allow check) sees each connection first; one it refuses is closed
 * before the handshake, so no session starts and it takes no connection slot. A connection
 * over the limits (registry.admit) is closed at once too, before any byte is sent: the SDK sees
 * the connection reset and retries later.
 */
export function listenTcpIngest(registry: SessionRegistry, host: string, port: number, accept?: (socket: Socket) => boolean): Promise<Server> {
  const server = createServer((socket) => {
    if (accept && !accept(socket)) return void socket.destroy();
    const address = socket.remoteAddress ?? '?';
    if (registry.admit(address) !== null) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const remote = `${address}:${socket.remotePort ?? '?'}`;
    const session = registry.create(socketTransport(socket), 'tcp', remote, { address });
    attachSocket(socket, session);
    session.start();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
