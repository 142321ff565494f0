import { open } from 'node:fs/promises';
import { CaptureReader, ZSCAP_MAGIC, type CaptureHeader } from '../../protocol/capture/index.js';
import type { TracyStreamReader } from '../../protocol/tracy/index.js';

/** Default read size: 256 KiB keeps memory bounded (one chunk plus the reader's window). */
export const DEFAULT_CHUNK_SIZE = 256 * 1024;

export interface DecodeFileOptions {
  /** Bytes read and pushed at a time. Default DEFAULT_CHUNK_SIZE. */
  chunkSize?: number;
  /** Awaited after every chunk, e.g. to wait for an output stream to drain. */
  afterChunk?: () => Promise<void> | void;
  /** After every chunk: bytes read so far (progress). */
  onChunk?: (fileBytes: number) => void;
}

/** What a .zscap held besides its stream. */
export interface CaptureOutcome {
  /** null when the file ends inside its head. */
  header: CaptureHeader | null;
  /** Complete frames. */
  frames: number;
  /** Bytes after the last complete frame (0 for a whole file). */
  cutBytes: number;
}

export interface DecodeOutcome {
  /** Bytes read from the file (all of it unless decoding failed first). */
  fileBytes: number;
  /** The error that stopped decoding (a ProtocolError for bad input), or null. */
  error: Error | null;
  /** What was cut when the file ended inside a message or frame, else null. */
  truncation: string | null;
  /** Set when FILE is a .zscap capture (recognised by its magic), else null. */
  capture: CaptureOutcome | null;
}

/**
 * Feeds a recorded app->receiver byte stream (`*.client.bin`) to `reader`, chunk by chunk, so
 * memory stays bounded whatever the file size. Decoding stops at the first error; everything
 * decoded before it stays in the reader's visitor.
 *
 * A .zscap (it starts with the capture magic) goes through a CaptureReader first, which passes
 * the same client stream on; a capture cut inside a frame has that frame's bytes fed last, so
 * the reader says where the stream stopped. CaptureErrors (newer version, bad header or frame
 * size) end up in `error` like protocol errors.
 *
 * @throws the file system's error (ENOENT, EISDIR...) when the file cannot be opened or read
 */
export async function decodeFile(path: string, reader: TracyStreamReader, options: DecodeFileOptions = {}): Promise<DecodeOutcome> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new TypeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  const buffer = new Uint8Array(chunkSize);
  const file = await open(path, 'r');
  let fileBytes = 0;
  let error: Error | null = null;
  let capture: CaptureReader | null = null;
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, chunkSize, null);
      if (bytesRead === 0) break;
      if (fileBytes === 0 && startsLikeCapture(buffer, bytesRead)) capture = new CaptureReader((bytes) => reader.push(bytes));
      fileBytes += bytesRead;
      try {
        if (capture !== null) capture.push(buffer.subarray(0, bytesRead));
        else reader.push(buffer, 0, bytesRead);
      } catch (err) {
        error = err instanceof Error ? err : new Error(String(err));
        break;
      }
      options.onChunk?.(fileBytes);
      await options.afterChunk?.();
    }
  } finally {
    await file.close();
  }
  if (capture === null) return { fileBytes, error, truncation: error === null ? reader.truncation() : null, capture: null };

  const end = capture.end();
  let truncation: string | null = null;
  if (error === null) {
    if (capture.header === null) {
      truncation = `the capture ends inside its head (${fileBytes} bytes)`;
    } else {
      try {
        const partial = capture.partialFrame();
        if (partial.length > 0) reader.push(partial);
        truncation = reader.truncation();
      } catch (err) {
        error = err instanceof Error ? err : new Error(String(err));
      }
    }
  }
  return { fileBytes, error, truncation, capture: { header: capture.header, frames: end.frames, cutBytes: end.cutBytes } };
}

/** The first bytes are the capture magic (or all of a shorter file is a prefix of it). */
function startsLikeCapture(bytes: Uint8Array, length: number): boolean {
  const n = Math.min(length, ZSCAP_MAGIC.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== ZSCAP_MAGIC[i]) return false;
  return true;
}
