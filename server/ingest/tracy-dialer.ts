import { connect, type Socket } from 'node:net';
import { encodeHandshake, HANDSHAKE_STATUS_NAMES, HandshakeStatus } from '../../protocol/tracy/index.js';
import { log } from '../log.js';
import type { Session } from '../session/session.js';
import type { SessionRegistry } from '../session/session-registry.js';
import { attachSocket, socketTransport } from './socket-transport.js';

export interface DialerOptions {
  host: string;
  /** Tracy clients listen on 8086 by default. */
  port: number;
  /** First retry delay; doubles up to maxDelayMs (defaults 250 / 5000 ms). */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Dial until one session ran, then stop (discovery uses this). */
  once?: boolean;
  /** Milliseconds to wait for the handshake answer (default 5000). */
  handshakeTimeoutMs?: number;
}

/**
 * Dials a Tracy client (`--connect`), the way Tracy's profiler does, and keeps dialing: when
 * the app is not there yet, when it answers "not available" (a finished non-on-demand client)
 * and after a session ends, so a restarted app is picked up again. A session is only listed
 * once the app accepted the handshake.
 */
export class TracyDialer {
  readonly host: string;
  readonly port: number;
  session: Session | null = null;
  sessions = 0;
  lastError: string | null = null;
  private readonly minDelay: number;
  private readonly maxDelay: number;
  private readonly once: boolean;
  private readonly handshakeTimeout: number;
  private delay: number;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private socket: Socket | null = null;
  private stopped = false;
  /** Called when the dialer gives up for good (once mode). */
  onDone: (() => void) | null = null;

  constructor(
    private readonly registry: SessionRegistry,
    options: DialerOptions,
  ) {
    this.host = options.host;
    this.port = options.port;
    this.minDelay = options.minDelayMs ?? 250;
    this.maxDelay = options.maxDelayMs ?? 5000;
    this.once = options.once ?? false;
    this.handshakeTimeout = options.handshakeTimeoutMs ?? 5000;
    this.delay = this.minDelay;
  }

  start(): void {
    this.attempt();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.destroy();
    this.session?.stop('server-closed');
  }

  private attempt(): void {
    if (this.stopped) return;
    const socket = connect({ host: this.host, port: this.port });
    this.socket = socket;
    socket.setNoDelay(true);
    let answered = false;
    const timeout = setTimeout(() => {
      this.lastError = `no handshake answer within ${this.handshakeTimeout} ms`;
      socket.destroy();
    }, this.handshakeTimeout);
    timeout.unref();

    const onFirstData = (chunk: Buffer) => {
      answered = true;
      clearTimeout(timeout);
      socket.off('data', onFirstData);
      socket.off('close', onEarlyClose);
      const status = chunk[0]!;
      if (status !== HandshakeStatus.Welcome) {
        this.lastError = `${this.host}:${this.port} answered ${HANDSHAKE_STATUS_NAMES[status] ?? `status ${status}`}`;
        socket.destroy();
        this.retry(false);
        return;
      }
      const session = this.registry.create(socketTransport(socket), 'connect', `${this.host}:${this.port}`);
      this.session = session;
      this.sessions++;
      this.lastError = null;
      attachSocket(socket, session);
      const previousOnEnd = session.onEnd;
      session.onEnd = (s) => {
        previousOnEnd?.(s);
        this.session = null;
        if (this.once) {
          this.stopped = true;
          this.onDone?.();
        } else this.retry(true);
      };
      session.receive(chunk);
    };
    const onEarlyClose = () => {
      clearTimeout(timeout);
      if (!answered) this.retry(false);
    };
    socket.on('connect', () => socket.write(encodeHandshake()));
    socket.on('data', onFirstData);
    socket.on('close', onEarlyClose);
    socket.on('error', (err) => {
      if (!answered) this.lastError = err.message;
    });
  }

  private retry(afterSession: boolean): void {
    if (this.stopped) return;
    if (afterSession) this.delay = this.minDelay;
    if (this.once && !afterSession && this.sessions > 0) return;
    const wait = this.delay;
    this.delay = Math.min(this.maxDelay, this.delay * 2);
    if (this.lastError && !afterSession) log('connect %s:%d: %s; retrying in %d ms', this.host, this.port, this.lastError, wait);
    this.timer = setTimeout(() => this.attempt(), wait);
    this.timer.unref?.();
  }
}
