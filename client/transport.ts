import type { HandshakeFailed } from '../protocol/tracy/app-conversation.js';

/**
 * What a connection needs from TCP, WebSocket or an in-memory test pair (protocol/tracy's
 * AppTransport, shared with `zonescope replay`): a byte sink with a measure of what it still
 * holds, a close, and three callbacks the conversation sets.
 */
export type { AppTransport as ClientTransport } from '../protocol/tracy/app-conversation.js';

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
  /**
   * No receiver within the time asked: waitForReceiver({ timeoutMs }), or connect({ retry })
   * that kept failing until retry.timeoutMs (the last failure is the cause).
   */
  NoReceiver: 'ZS_CLIENT_NO_RECEIVER',
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

const FAILURE_CODES: Record<HandshakeFailed['kind'], ClientErrorCodeValue> = {
  'bad-handshake': ClientErrorCode.BadHandshake,
  'protocol-mismatch': ClientErrorCode.ProtocolMismatch,
  'not-available': ClientErrorCode.Closed,
  timeout: ClientErrorCode.Timeout,
  closed: ClientErrorCode.Closed,
  connect: ClientErrorCode.Connect,
};

/** The SDK's error for a failed handshake of the shared conversation (protocol/tracy). */
export function clientErrorOf(failure: HandshakeFailed): ClientError {
  return new ClientError(FAILURE_CODES[failure.kind], failure.message, failure.cause !== undefined ? { cause: failure.cause } : undefined);
}
