import { HANDSHAKE_SIZE, HandshakeStatus, PROTOCOL_VERSION, SERVER_QUERY_PACKET_SIZE } from '../protocol/tracy/constants.js';
import { ProtocolError } from '../protocol/tracy/errors.js';
import { decodeHandshake } from '../protocol/tracy/handshake.js';
import { ServerQuery } from '../protocol/tracy/queue-types.js';
import { ClientError, ClientErrorCode, type ClientTransport } from './transport.js';

/** What the conversation asks of the session that owns the data. */
export interface ConversationHost {
  /** The handshake was valid: send status Welcome + the WelcomeMessage now, then frames may follow. */
  streaming(transport: ClientTransport): void;
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
export type ConversationEnd = 'server-terminate' | 'closed' | 'handshake-failed' | 'local-close';

/**
 * The app's side of one Tracy conversation over one transport (tracy-protocol.md 1.3, 3, 1.7):
 * the receiver speaks first (8 bytes "TracyPrf" + u32 version); a bad shibboleth closes
 * silently, another version gets status ProtocolMismatch (2) and a close; version 82 gets the
 * welcome, then frames flow one way and 13-byte query packets the other. ServerQueryTerminate
 * ends it. Packets split across chunks are reassembled.
 */
export class Conversation {
  state: 'handshake' | 'streaming' | 'ended' = 'handshake';
  endReason: ConversationEnd | null = null;
  /** Resolves once the welcome was sent; rejects with a ClientError if the handshake fails. */
  readonly ready: Promise<void>;
  /** Resolves when the conversation is over (never rejects). */
  readonly ended: Promise<ConversationEnd>;
  /** Query packets received (Terminate excluded). */
  queries = 0;

  private readonly head = new Uint8Array(HANDSHAKE_SIZE);
  private headLength = 0;
  private readonly packet = new Uint8Array(SERVER_QUERY_PACKET_SIZE);
  private readonly packetView = new DataView(this.packet.buffer);
  private packetLength = 0;
  private timer: ReturnType<typeof setTimeout> | null;
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;
  private resolveEnded!: (reason: ConversationEnd) => void;

  constructor(
    readonly transport: ClientTransport,
    private readonly host: ConversationHost,
    handshakeTimeoutMs: number,
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {
      // observed through `ended` / by the caller that awaits ready
    });
    this.ended = new Promise<ConversationEnd>((resolve) => (this.resolveEnded = resolve));
    this.timer = setTimeout(() => this.fail(new ClientError(ClientErrorCode.Timeout, `no handshake from the receiver within ${handshakeTimeoutMs} ms`)), handshakeTimeoutMs);
    (this.timer as { unref?: () => void }).unref?.();
    transport.onData = (chunk) => this.receive(chunk);
    transport.onDrain = () => {
      if (this.state === 'streaming') host.drain();
    };
    transport.onClose = (error) => {
      if (this.state === 'handshake') {
        this.fail(
          error !== null
            ? new ClientError(ClientErrorCode.Connect, `the connection failed before the handshake: ${error.message}`, { cause: error })
            : new ClientError(ClientErrorCode.Closed, 'the receiver closed the connection before the handshake'),
        );
      } else {
        this.finish('closed');
      }
    };
  }

  /** Ends the conversation from our side (close timeout, shutdown). */
  close(): void {
    if (this.state === 'handshake') this.fail(new ClientError(ClientErrorCode.Closed, 'closed by the application during the handshake'));
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
    if (this.state !== 'streaming') return;
    let answered = false;
    while (at < chunk.length && this.state === 'streaming') {
      const n = Math.min(SERVER_QUERY_PACKET_SIZE - this.packetLength, chunk.length - at);
      this.packet.set(chunk.subarray(at, at + n), this.packetLength);
      this.packetLength += n;
      at += n;
      if (this.packetLength < SERVER_QUERY_PACKET_SIZE) break;
      this.packetLength = 0;
      answered = this.dispatch() || answered;
    }
    if (answered && this.state === 'streaming') this.host.afterQueries();
  }

  /** @returns true when the welcome was sent */
  private handshake(): boolean {
    let version: number;
    try {
      version = decodeHandshake(this.head);
    } catch (err) {
      // Tracy's client closes silently on a bad shibboleth (no status byte).
      const text = err instanceof ProtocolError ? err.message : String(err);
      this.fail(new ClientError(ClientErrorCode.BadHandshake, `not a Tracy receiver: ${text}`));
      return false;
    }
    if (version !== PROTOCOL_VERSION) {
      this.transport.write(Uint8Array.of(HandshakeStatus.ProtocolMismatch));
      this.fail(new ClientError(ClientErrorCode.ProtocolMismatch, `the receiver speaks protocol ${version}, this client ${PROTOCOL_VERSION}`));
      return false;
    }
    this.clearTimer();
    this.state = 'streaming';
    this.host.streaming(this.transport);
    this.resolveReady();
    return true;
  }

  /** @returns true when a reply was written */
  private dispatch(): boolean {
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
      this.host.disconnect();
      return false;
    }
    this.host.query(type, ptr, extra);
    return true;
  }

  private fail(err: ClientError): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.endReason = 'handshake-failed';
    this.clearTimer();
    this.transport.close();
    this.rejectReady(err);
    this.resolveEnded('handshake-failed');
  }

  private finish(reason: ConversationEnd): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.endReason = reason;
    this.clearTimer();
    this.transport.close();
    this.resolveEnded(reason);
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
