import { createServer, type Server, type Socket } from 'node:net';
import { AppConversation, type AppTransport } from '../protocol/tracy/app-conversation.js';
import { Broadcaster } from './broadcaster.js';
import { socketTransport } from './socket-transport.js';

export interface ListenerOptions {
  host: string;
  /** null: the first free port of 8086..8105, as Tracy's client does */
  port: number | null;
  broadcast: { address: string; port: number } | null;
}

/**
 * What the listener hands receivers to: the SDK's Client, or anything else that plays a Tracy
 * client's side of the conversation (`zonescope replay`). net/ is the Node.js I/O both share;
 * the conversation itself is protocol/tracy's AppConversation.
 */
export interface ListenerHost {
  /** True while no receiver has (or had) the session: the next valid handshake gets it. */
  readonly canAttach: boolean;
  /** Program name for the broadcasts. */
  readonly appName: string;
  /** Unix seconds when the app started: broadcasts count activeTime from it. */
  readonly epochS: number;
  /**
   * Starts the conversation with a receiver over `transport` (it speaks first); `ready`
   * resolves once the welcome was sent and rejects when the handshake failed.
   */
  attach(transport: AppTransport, handshakeTimeoutMs: number): { readonly ready: Promise<void> };
}

/** Tracy's client: 2 s for the receiver's handshake; 1 s when it only says NotAvailable. */
const HANDSHAKE_TIMEOUT_MS = 2000;
const REJECT_TIMEOUT_MS = 1000;
const FIRST_PORT = 8086;
const LAST_PORT = 8105;

/**
 * Listen mode: the app waits for a receiver like a Tracy client (tracy-protocol.md 1.1-1.3).
 * The first receiver whose handshake is valid gets the session, and with it every event held
 * since the client started; a bad handshake (or a version mismatch, answered with status 2)
 * puts the app back to waiting. While a receiver has the session, and after it, every valid
 * handshake is answered NotAvailable (3). Optional UDP broadcasts announce the app while it waits.
 *
 * The listening socket is unreferenced, so a plain instrumented app exits when its work is done;
 * `keepAlive(true)` references it while someone waits for a receiver (`await tracy.connected`).
 */
export class Listener {
  port = 0;
  broadcaster: Broadcaster | null = null;
  /** Resolves when a receiver took the session. */
  readonly connected: Promise<void>;
  private readonly server: Server;
  private resolveConnected!: () => void;
  private stopped = false;
  private held = false;

  constructor(
    private readonly client: ListenerHost,
    private readonly options: ListenerOptions,
    private readonly pid: number,
  ) {
    this.server = createServer((socket) => this.onSocket(socket));
    this.connected = new Promise<void>((resolve) => (this.resolveConnected = resolve));
  }

  /**
   * Starts listening (and broadcasting).
   * @returns the TCP port
   * @throws the listen error (EADDRINUSE for an explicit port, or when 8086..8105 are all taken)
   */
  async start(): Promise<number> {
    const { host, port } = this.options;
    if (port !== null) {
      await listenOn(this.server, host, port);
    } else {
      for (let p = FIRST_PORT; ; p++) {
        try {
          await listenOn(this.server, host, p);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || p === LAST_PORT) throw err;
        }
      }
    }
    if (!this.held) this.server.unref();
    this.port = (this.server.address() as { port: number }).port;
    const b = this.options.broadcast;
    if (b !== null) {
      this.broadcaster = new Broadcaster({ address: b.address, port: b.port, listenPort: this.port, pid: this.pid, programName: this.client.appName, epochS: this.client.epochS });
      this.broadcaster.start();
    }
    return this.port;
  }

  /**
   * Keeps the process alive while listening (true), or lets it exit (false, the default): the
   * SDK holds it while the app awaits a receiver. No effect once stopped.
   */
  keepAlive(on: boolean): void {
    this.held = on;
    if (this.stopped) return;
    if (on) this.server.ref();
    else this.server.unref();
  }

  /**
   * Stops listening and announcing. A receiver that has the session keeps its connection (the
   * server's close callback would wait for it: not awaited). Idempotent.
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.broadcaster?.stop();
    this.server.close();
  }

  private onSocket(socket: Socket): void {
    socket.on('error', () => {
      // reported through the transport's close, or irrelevant for a rejected socket
    });
    if (!this.client.canAttach) {
      rejectNotAvailable(socket);
      return;
    }
    this.broadcaster?.taken();
    const conv = this.client.attach(socketTransport(socket), HANDSHAKE_TIMEOUT_MS);
    conv.ready.then(
      () => this.resolveConnected(),
      () => {
        // Not a receiver, or another protocol version: wait for the next one.
        if (this.client.canAttach) this.broadcaster?.start();
      },
    );
  }
}

function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/**
 * The session is taken: reads the receiver's handshake and, when it is one, answers NotAvailable
 * (3) and closes (protocol/tracy's AppConversation without a host); 1 s for the handshake.
 */
function rejectNotAvailable(socket: Socket): void {
  const conv = new AppConversation(socketTransport(socket), { host: null });
  const timer = setTimeout(() => conv.handshakeTimedOut(REJECT_TIMEOUT_MS), REJECT_TIMEOUT_MS);
  timer.unref();
  conv.ready.catch(() => clearTimeout(timer));
}
