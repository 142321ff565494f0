import { CaptureError, CaptureReader, type CaptureHeader } from '../../protocol/capture/index.js';
import { ProtocolError, type TracyStreamReader } from '../../protocol/tracy/index.js';

export const CaptureExportErrorCode = {
  /** Neither a .zscap nor a Tracy client stream. */
  UnknownFormat: 'ZS_EXPORT_UNKNOWN_FORMAT',
  /** The capture has no complete head (welcome), so nothing can be exported. */
  NoWelcome: 'ZS_EXPORT_NO_WELCOME',
} as const;

export class CaptureExportError extends Error {
  override readonly name = 'CaptureExportError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Status byte of a client stream (the handshake's Welcome answer) and the .zscap magic's first byte. */
const CLIENT_STREAM_FIRST = 1;
const ZSCAP_FIRST = 0x5a;

/**
 * Feeds a capture's bytes to a TracyStreamReader: a .zscap through CaptureReader (which turns
 * it into the client stream), a raw client stream as it is. The format is decided by byte 0.
 */
export class CaptureFeed {
  capture: CaptureReader | null = null;
  private decided = false;
  /** Client-stream bytes waiting for `drain` (views of the pushed chunks), when queueing. */
  private readonly queue: Uint8Array[] = [];

  /**
   * @param queued false: bytes go to the reader as they are pushed; true: they wait in a queue
   *   that `drain` feeds in steps, so the caller can hand on output between steps
   */
  constructor(
    readonly reader: TracyStreamReader,
    private readonly queued = false,
  ) {}

  private toReader(bytes: Uint8Array): void {
    if (this.queued) this.queue.push(bytes);
    else this.reader.push(bytes);
  }

  /** As drain, but stops (returns false) at a decode error: the caller already has it from pass 1. */
  drainQuietly(maxBytes: number): boolean {
    try {
      return this.drain(maxBytes);
    } catch (err) {
      if (streamError(err) === null) throw err;
      this.queue.length = 0;
      return false;
    }
  }

  /**
   * Feeds up to `maxBytes` of the queue to the reader.
   * @returns false when the queue is empty
   * @throws ProtocolError
   */
  drain(maxBytes: number): boolean {
    const head = this.queue[0];
    if (head === undefined) return false;
    if (head.length <= maxBytes) {
      this.queue.shift();
      this.reader.push(head);
    } else {
      this.reader.push(head, 0, maxBytes);
      this.queue[0] = head.subarray(maxBytes);
    }
    return true;
  }

  /** @throws CaptureExportError (unknown format), CaptureError, ProtocolError */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (!this.decided) {
      this.decided = true;
      if (chunk[0] === ZSCAP_FIRST) this.capture = new CaptureReader((bytes) => this.toReader(bytes));
      else if (chunk[0] !== CLIENT_STREAM_FIRST) {
        throw new CaptureExportError(
          CaptureExportErrorCode.UnknownFormat,
          `not a capture: byte 0 is 0x${chunk[0]!.toString(16).padStart(2, '0')}; a .zscap starts with "ZSCAP", a Tracy client stream with 0x01`,
        );
      }
    }
    if (this.capture !== null) this.capture.push(chunk);
    else this.toReader(chunk);
  }

  get header(): CaptureHeader | null {
    return this.capture?.header ?? null;
  }

  /** What was cut at the end, or null. */
  truncation(): string | null {
    if (this.capture !== null) {
      const end = this.capture.end();
      return end.cutBytes > 0 ? `the capture ends inside a frame: ${end.cutBytes} bytes after the last complete frame (offset ${end.bytes - end.cutBytes}) were left out` : null;
    }
    return this.reader.truncation();
  }
}

/** An error that ends a pass early but leaves what came before exportable. */
export function streamError(err: unknown): { code: string; message: string; offset: number } | null {
  if (err instanceof ProtocolError || (err instanceof CaptureError && err.code !== 'ZS_CAPTURE_NOT_A_CAPTURE' && err.code !== 'ZS_CAPTURE_NEWER_VERSION')) {
    return { code: err.code, message: err.message, offset: err.offset };
  }
  return null;
}

