import type { Socket } from 'node:net';
import type { AppTransport } from '../protocol/tracy/app-conversation.js';

/**
 * A TCP socket as an AppTransport (Node.js; the SDK's dial and listen, `zonescope replay`). TCP_NODELAY like Tracy's client; the socket
 * is unreferenced while streaming (the app may exit, its 'beforeExit' closes the session) and
 * referenced while connecting and closing.
 */
export function socketTransport(socket: Socket): AppTransport {
  let error: Error | null = null;
  const transport: AppTransport = {
    write(bytes) {
      if (socket.writable) socket.write(bytes);
    },
    get bufferedBytes() {
      return socket.writableLength;
    },
    close() {
      if (socket.destroyed) return;
      socket.end();
      // A receiver that never closes its side must not keep the socket forever.
      setTimeout(() => socket.destroy(), 2000).unref();
    },
    keepAlive(on) {
      if (on) socket.ref();
      else socket.unref();
    },
    onData: null,
    onDrain: null,
    onClose: null,
  };
  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => transport.onData?.(chunk));
  socket.on('drain', () => transport.onDrain?.());
  socket.on('error', (err) => {
    error ??= err;
  });
  socket.on('close', () => {
    const done = transport.onClose;
    transport.onClose = null;
    done?.(error);
  });
  return transport;
}

