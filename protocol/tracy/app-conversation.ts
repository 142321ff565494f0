import { HANDSHAKE_SIZE, HandshakeStatus, PROTOCOL_VERSION, SERVER_QUERY_PACKET_SIZE } from './constants.js';
import { ProtocolError } from './errors.js';
import { decodeHandshake } from './handshake.js';
import { ServerQuery } from './queue-types.js';

/**
 * A byte connection to the receiver as the app's side sees it: TCP, WebSocket or an in-memory
 * test pair. A byte sink with a measure of what it still holds, a close, and three callbacks
 * the conversation sets. The runtime's I/O stays behind it (client/, net/).
 */
export interface AppTransport {
  /** Queues bytes for the receiver. The array is not reused by the caller. */
  write(bytes: Uint8Array): void;
  /** Bytes written but not yet sent (socket.writableLength, WebSocket.bufferedAmount). */
  readonly bufferedBytes: number;
  /** Ends the connection after what was written (idempotent). */
  close(): void;
  /** Keep the process alive while the connection is open (Node.js ref/unref; no-op elsewhere). */
  keepAlive(on: boolean): void;
  /** Bytes from the receiver. */
  onData: ((chunk: Uint8Array) => void) | null;
  /** The transport can take more bytes. */
  onDrain: (() => void) | null;
  /** The connection is gone (error: why, when it was not a clean close). Called once. */
  onClose: ((error: Error | null) => void) | null;
}

/** What the conversation asks of the session that owns the data. */
export interface AppConversationHost {
  /** The handshake was valid: send status Welcome + the WelcomeMessage now, then frames may follow. */
  streaming(transport: AppTransport): void;
  /** One query packet other than Terminate and Disconnect; ptr is exact below 2^53. */
  query(type: number, ptr: number, extra: number): void;
  /** The queries of one incoming chunk were answered: send the replies. */
  afterQueries(): void;
  /** ServerQueryDisconnect: finish the session (Terminate) and keep answering. */
  disconnect(): void;
  /** The transport took what it held: send more. */
  drain(): void;
}

/** Why a conversation ended. */
export type AppConversationEnd = 'server-terminate' | 'closed' | 'handshake-failed' | 'local-close';

/** Why a handshake failed; the SDK maps these to its ClientError codes. */
export type HandshakeFailure = 'bad-handshake' | 'protocol-mismatch' | 'not-available' | 'timeout' | 'closed' | 'connect';

/** A failed handshake: `kind` says which way. */
export class HandshakeFailed extends Error {
  override readonly name = 'HandshakeFailed';

  constructor(
    readonly kind: HandshakeFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface AppConversationOptions {
  /**
   * null: another receiver has (or had) the session, so a valid handshake is answered
   * NotAvailable (3) and the connection closed, as Tracy's client does.
   */
  host: AppConversationHost | null;
  /** Turns a failure into the error `ready` rejects with (the SDK's ClientError). Default: as is. */
  error?: (failure: HandshakeFailed) => Error;
}

/**
 * The app's side of one Tracy conversation (tracy-protocol.md 1.3, 3, 1.7), free of timers and
 * of any particular transport: the receiver speaks first (8 bytes "TracyPrf" + u32 version); a
 * bad shibboleth closes silently, another version gets status ProtocolMismatch (2) and a close;
 * version 82 gets the welcome (or NotAvailable (3) when the session is taken), then frames flow
 * one way and 13-byte query packets the other. ServerQueryTerminate ends it; packets split
 * across chunks are reassembled. The owner arms the handshake timer and calls
 * `handshakeTimedOut` (protocol/ has no timers); the SDK and `zonescope replay` share this.
 */
export class AppConversation {
  state: 'handshake' | 'streaming' | 'ended' = 'handshake';
  endReason: AppConversationEnd | null = null;
  /** Resolves once the welcome was sent; rejects (HandshakeFailed, or options.error's) if the handshake fails. */
  readonly ready: Promise<void>;
  /** Resolves when the conversation is over (never rejects). */
  readonly ended: Promise<AppConversationEnd>;
  /** Query packets received (Terminate excluded). */
  queries = 0;

  private readonly host: AppConversationHost | null;
  private readonly toError: (failure: HandshakeFailed) => Error;
  private readonly head = new Uint8Array(HANDSHAKE_SIZE);
  private headLength = 0;
  private readonly packet = new Uint8Array(SERVER_QUERY_PACKET_SIZE);
  private readonly packetView = new DataView(this.packet.buffer);
  private packetLength = 0;
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;
  private resolveEnded!: (reason: AppConversationEnd) => void;

  constructor(
    readonly transport: AppTransport,
    options: AppConversationOptions,
  ) {
    this.host = options.host;
    this.toError = options.error ?? ((f) => f);
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {
      // observed through `ended` / by the caller that awaits ready
    });
    this.ended = new Promise<AppConversationEnd>((resolve) => (this.resolveEnded = resolve));
    transport.onData = (chunk) => this.receive(chunk);
    transport.onDrain = () => {
      if (this.state === 'streaming') this.host?.drain();
    };
    transport.onClose = (error) => {
      if (this.state !== 'handshake') this.finish('closed');
      else if (error !== null) this.fail('connect', `the connection failed before the handshake: ${error.message}`, error);
      else this.fail('closed', 'the receiver closed the connection before the handshake');
    };
  }

  /** The owner's handshake timer fired: give up unless the handshake is done. */
  handshakeTimedOut(ms: number): void {
    if (this.state === 'handshake') this.fail('timeout', `no handshake from the receiver within ${ms} ms`);
  }

  /** Ends the conversation from our side (close timeout, shutdown). */
  close(): void {
    if (this.state === 'handshake') this.fail('closed', 'closed by the application during the handshake');
    else this.finish('local-close');
  }

  private receive(chunk: Uint8Array): void {
    let at = 0;
    if (this.state === 'handshake') {
      const n = Math.min(HANDSHAKE_SIZE - this.headLength, chunk.length);
      this.head.set(chunk.subarray(0, n), this.headLength);
      this.headLength += n;
      at = n;
      if (this.headLength < HANDSHAKE_SIZE) return;
      if (!this.handshake()) return;
    }
    const host = this.host;
    if (this.state !== 'streaming' || host === null) return;
    let answered = false;
    while (at < chunk.length && this.state === 'streaming') {
      const n = Math.min(SERVER_QUERY_PACKET_SIZE - this.packetLength, chunk.length - at);
      this.packet.set(chunk.subarray(at, at + n), this.packetLength);
      this.packetLength += n;
      at += n;
      if (this.packetLength < SERVER_QUERY_PACKET_SIZE) break;
      this.packetLength = 0;
      answered = this.dispatch(host) || answered;
    }
    if (answered && this.state === 'streaming') host.afterQueries();
  }

  /** @returns true when the welcome was sent */
  private handshake(): boolean {
    let version: number;
    try {
      version = decodeHandshake(this.head);
    } catch (err) {
      // Tracy's client closes silently on a bad shibboleth (no status byte).
      const text = err instanceof ProtocolError ? err.message : String(err);
      this.fail('bad-handshake', `not a Tracy receiver: ${text}`);
      return false;
    }
    if (this.host === null) {
      // Taken: whatever version it speaks, this receiver gets nothing.
      this.transport.write(Uint8Array.of(HandshakeStatus.NotAvailable));
      this.fail('not-available', 'another receiver has the session: answered NotAvailable');
      return false;
    }
    if (version !== PROTOCOL_VERSION) {
      this.transport.write(Uint8Array.of(HandshakeStatus.ProtocolMismatch));
      this.fail('protocol-mismatch', `the receiver speaks protocol ${version}, this client ${PROTOCOL_VERSION}`);
      return false;
    }
    this.state = 'streaming';
    this.host.streaming(this.transport);
    this.resolveReady();
    return true;
  }

  /** @returns true when a reply was written */
  private dispatch(host: AppConversationHost): boolean {
    const v = this.packetView;
    const type = v.getUint8(0);
    const ptr = v.getUint32(5, true) * 4294967296 + v.getUint32(1, true);
    const extra = v.getUint32(9, true);
    if (type === ServerQuery.Terminate) {
      this.finish('server-terminate');
      return false;
    }
    this.queries++;
    if (type === ServerQuery.Disconnect) {
      host.disconnect();
      return false;
    }
    host.query(type, ptr, extra);
    return true;
  }

  private fail(kind: HandshakeFailure, message: string, cause?: Error): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.endReason = 'handshake-failed';
    this.transport.close();
    this.rejectReady(this.toError(new HandshakeFailed(kind, message, cause !== undefined ? { cause } : undefined)));
    this.resolveEnded('handshake-failed');
  }

  private finish(reason: AppConversationEnd): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.endReason = reason;
    this.transport.close();
    this.resolveEnded(reason);
  }
}
