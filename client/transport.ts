/**
 * What a connection needs from TCP, WebSocket or an in-memory test pair: a byte sink with a
 * measure of what it still holds, a close, and three callbacks the conversation sets.
 */
export interface ClientTransport {
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

export const ClientErrorCode = {
  /** The receiver's first bytes were not "TracyPrf". */
  BadHandshake: 'ZS_CLIENT_BAD_HANDSHAKE',
  /** The receiver speaks another protocol version (we answered ProtocolMismatch). */
  ProtocolMismatch: 'ZS_CLIENT_PROTOCOL_MISMATCH',
  /** The connection closed or failed before the welcome was sent. */
  Closed: 'ZS_CLIENT_CLOSED',
  /** No connection or no handshake in time. */
  Timeout: 'ZS_CLIENT_TIMEOUT',
  /** The connection failed before the handshake (e.g. ECONNREFUSED). */
  Connect: 'ZS_CLIENT_CONNECT',
} as const;
export type ClientErrorCodeValue = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** Errors of the SDK's connections, with a stable code. */
export class ClientError extends Error {
  override readonly name = 'ClientError';

  constructor(
    readonly code: ClientErrorCodeValue,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
