import type { Socket } from 'node:net';
import type { Session, SessionTransport } from '../session/session.js';

/** A SessionTransport over a TCP socket. */
export function socketTransport(socket: Socket): SessionTransport {
  return {
    write: (bytes) => {
      if (!socket.destroyed) socket.write(bytes);
    },
    close: () => {
      socket.end();
      // do not wait forever for the peer's FIN
      setTimeout(() => socket.destroy(), 1000).unref();
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
  };
}

/** Routes a socket's bytes and close into a session. */
export function attachSocket(socket: Socket, session: Session): void {
  socket.on('data', (chunk: Buffer) => session.receive(chunk));
  socket.on('close', () => session.connectionClosed());
  socket.on('error', () => {
    // 'close' follows; the session records how the stream ended
  });
}
