import { createSocket, type Socket } from 'node:dgram';
import { encodeBroadcast } from '../protocol/tracy/broadcast.js';

export interface BroadcasterOptions {
  address: string;
  port: number;
  /** The TCP port the app listens on. */
  listenPort: number;
  pid: number;
  programName: string;
  /** Unix seconds when the client started: activeTime counts from it. */
  epochS: number;
}

/** Tracy's client announces itself every 3 s while it waits (tracy-protocol.md 1.2). */
export const BROADCAST_PERIOD_MS = 3000;

/**
 * The UDP presence announcements of listen mode: a v3 datagram (cut after the name's NUL) now
 * and every 3 s while the app waits for a receiver; one with activeTime -1 when a receiver
 * connects ("taken") and when the app stops waiting. Send errors (no route, no broadcast
 * permission) are counted, never thrown: discovery is optional.
 */
export class Broadcaster {
  sent = 0;
  errors = 0;
  lastError: string | null = null;

  private socket: Socket | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly options: BroadcasterOptions) {}

  /** Announces now and every 3 s until taken() or stop(). */
  start(): void {
    if (this.timer !== null) return;
    this.send(Math.max(0, Math.floor(Date.now() / 1000) - this.options.epochS));
    this.timer = setInterval(() => this.send(Math.max(0, Math.floor(Date.now() / 1000) - this.options.epochS)), BROADCAST_PERIOD_MS);
    this.timer.unref();
  }

  /** A receiver connected: one activeTime -1 datagram, and quiet until start() again. */
  taken(): void {
    this.pause();
    this.send(-1);
  }

  /** No longer waiting (closed): says so if it was announcing, and releases the socket. */
  stop(): void {
    const announcing = this.timer !== null;
    this.pause();
    if (announcing) this.send(-1, () => this.release());
    else this.release();
  }

  private pause(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private send(activeTime: number, then?: () => void): void {
    const o = this.options;
    const datagram = encodeBroadcast({ listenPort: o.listenPort, pid: o.pid, activeTime, programName: o.programName });
    const socket = this.open();
    socket.send(datagram, o.port, o.address, (err) => {
      if (err) {
        this.errors++;
        this.lastError = err.message;
      } else {
        this.sent++;
      }
      then?.();
    });
  }

  private open(): Socket {
    if (this.socket !== null) return this.socket;
    const socket = createSocket('udp4');
    socket.on('error', (err) => {
      this.errors++;
      this.lastError = err.message;
    });
    // SO_BROADCAST needs a bound socket; bind() is asynchronous, sends queue until it is done.
    socket.bind(0, () => {
      try {
        socket.setBroadcast(true);
      } catch (err) {
        this.lastError = (err as Error).message;
      }
    });
    socket.unref();
    this.socket = socket;
    return socket;
  }

  private release(): void {
    const socket = this.socket;
    this.socket = null;
    if (socket !== null) {
      try {
        socket.close();
      } catch {
        // already closed
      }
    }
  }
}
