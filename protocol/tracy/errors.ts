/**
 * Stable error codes of the protocol layer. A ProtocolError always names the byte offset in
 * the stream where the problem was found (in the raw app->receiver byte stream, or in the
 * decompressed item stream for item errors: see `where`).
 */
export const ProtocolErrorCode = {
  BadShibboleth: 'ZS_PROTOCOL_BAD_SHIBBOLETH',
  VersionMismatch: 'ZS_PROTOCOL_VERSION_MISMATCH',
  HandshakeRejected: 'ZS_PROTOCOL_HANDSHAKE_REJECTED',
  BadWelcome: 'ZS_PROTOCOL_BAD_WELCOME',
  Truncated: 'ZS_PROTOCOL_TRUNCATED',
  BadFrameSize: 'ZS_PROTOCOL_BAD_FRAME_SIZE',
  BadLz4Block: 'ZS_PROTOCOL_BAD_LZ4_BLOCK',
  UnknownQueueType: 'ZS_PROTOCOL_UNKNOWN_QUEUE_TYPE',
  ItemSpansFrame: 'ZS_PROTOCOL_ITEM_SPANS_FRAME',
  BadLength: 'ZS_PROTOCOL_BAD_LENGTH',
  BadState: 'ZS_PROTOCOL_BAD_STATE',
  AfterEnd: 'ZS_PROTOCOL_DATA_AFTER_END',
} as const;
export type ProtocolErrorCodeValue = (typeof ProtocolErrorCode)[keyof typeof ProtocolErrorCode];

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  /**
   * @param code stable code, e.g. ZS_PROTOCOL_BAD_LZ4_BLOCK
   * @param offset byte offset in the app->receiver stream (the start of the frame for errors
   *   found while walking items; `itemOffset` then gives the offset inside the decompressed frame)
   * @param queueType the queue item type involved, or -1
   */
  constructor(
    readonly code: ProtocolErrorCodeValue,
    message: string,
    readonly offset: number,
    readonly queueType = -1,
    readonly itemOffset = -1,
  ) {
    super(message);
  }
}

/** Thrown by the item walker; the frame reader re-throws it with the stream offset added. */
export class ItemError extends Error {
  constructor(
    readonly code: ProtocolErrorCodeValue,
    message: string,
    readonly itemOffset: number,
    readonly queueType: number,
  ) {
    super(message);
  }
}
