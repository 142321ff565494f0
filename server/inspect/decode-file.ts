import { open } from 'node:fs/promises';
import type { TracyStreamReader } from '../../protocol/tracy/index.js';

/** Default read size: 256 KiB keeps memory bounded (one chunk plus the reader's window). */
export const DEFAULT_CHUNK_SIZE = 256 * 1024;

export interface DecodeFileOptions {
  /** Bytes read and pushed at a time. Default DEFAULT_CHUNK_SIZE. */
  chunkSize?: number;
  /** Awaited after every chunk, e.g. to wait for an output stream to drain. */
  afterChunk?: () => Promise<void> | void;
}

export interface DecodeOutcome {
  /** Bytes read from the file (all of it unless decoding failed first). */
  fileBytes: number;
  /** The error that stopped decoding (a ProtocolError for bad input), or null. */
  error: Error | null;
  /** What was cut when the file ended inside a message or frame, else null. */
  truncation: string | null;
}

/**
 * Feeds a recorded app->receiver byte stream (`*.client.bin`) to `reader`, chunk by chunk, so
 * memory stays bounded whatever the file size. Decoding stops at the first error; everything
 * decoded before it stays in the reader's visitor.
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
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, chunkSize, null);
      if (bytesRead === 0) break;
      fileBytes += bytesRead;
      try {
        reader.push(buffer, 0, bytesRead);
      } catch (err) {
        error = err instanceof Error ? err : new Error(String(err));
        break;
      }
      await options.afterChunk?.();
    }
  } finally {
    await file.close();
  }
  return { fileBytes, error, truncation: error === null ? reader.truncation() : null };
}
