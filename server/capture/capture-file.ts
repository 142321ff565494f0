import { closeSync, createReadStream, fsyncSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import {
  CaptureError,
  CaptureErrorCode,
  CaptureReader,
  decodeCaptureHeader,
  encodeCaptureHead,
  ZSCAP_HEADER_LIMIT,
  ZSCAP_MAGIC,
  ZSCAP_PREFIX_SIZE,
  type CaptureEnd,
  type CaptureHeader,
} from '../../protocol/capture/index.js';

/** Bytes read at a time: bounded memory whatever the file's size. */
export const CAPTURE_CHUNK_SIZE = 256 * 1024;

export interface CaptureFileWriterOptions {
  /** Replace an existing file (default false: fail with EEXIST rather than lose a capture). */
  overwrite?: boolean;
}

/**
 * Writes a .zscap append-only: the head at creation, then the client stream's bytes after its
 * head as they arrive. Every append is a synchronous write(2), so what the process received is
 * in the kernel before the next event: a SIGKILL or a crash of the process loses nothing
 * already appended (a crash of the machine can lose what the kernel had not flushed yet; there
 * is no fsync per write, which would cost a disk round trip per TCP chunk).
 *
 * It follows the frame boundaries (u32 sizes) as bytes go by, so `close({ trimPartialFrame })`
 * can cut a frame that will never complete, and `frames` counts complete frames.
 */
export class CaptureFileWriter {
  readonly path: string;
  /** Bytes in the file. */
  bytes = 0;
  /** Complete frames appended. */
  frames = 0;
  /** File offset just after the head and the last complete frame. */
  completeBytes = 0;
  private fd: number | null;
  /** Bytes of the current frame's block still to come; 0 while reading a size prefix. */
  private need = 0;
  private readonly prefix = new Uint8Array(4);
  private prefixLength = 0;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.fd = fd;
  }

  /**
   * Creates the file and writes the head.
   * @throws the file system's error (EEXIST unless `overwrite`, ENOENT for a missing folder, ...)
   */
  static create(path: string, header: CaptureHeader, options: CaptureFileWriterOptions = {}): CaptureFileWriter {
    const head = encodeCaptureHead(header);
    const fd = openSync(path, options.overwrite ? 'w' : 'wx');
    const writer = new CaptureFileWriter(path, fd);
    try {
      writer.writeAll(head);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    writer.completeBytes = writer.bytes;
    return writer;
  }

  get closed(): boolean {
    return this.fd === null;
  }

  /**
   * Appends bytes of the client stream after its head (frames, possibly cut anywhere).
   * @throws the file system's error (ENOSPC...); the bytes before it stay in the file
   */
  append(bytes: Uint8Array): void {
    if (this.fd === null) throw new Error(`capture ${this.path} is closed`);
    const base = this.bytes;
    this.writeAll(bytes);
    // follow the frame boundaries
    const n = bytes.length;
    let p = 0;
    while (p < n) {
      if (this.need > 0) {
        const k = Math.min(this.need, n - p);
        p += k;
        this.need -= k;
        if (this.need === 0) this.frameDone(base + p);
        continue;
      }
      this.prefix[this.prefixLength++] = bytes[p++]!;
      if (this.prefixLength < 4) continue;
      this.prefixLength = 0;
      const pr = this.prefix;
      this.need = (pr[0]! | (pr[1]! << 8) | (pr[2]! << 16) | (pr[3]! << 24)) >>> 0;
      if (this.need === 0) this.frameDone(base + p); // invalid, but a boundary all the same
    }
  }

  /**
   * Closes the file. `trimPartialFrame`: cut the bytes after the last complete frame (for a
   * capture stopped on purpose: the rest of that frame will never come). `sync`: fsync first.
   * Idempotent.
   */
  close(options: { trimPartialFrame?: boolean; sync?: boolean } = {}): void {
    const fd = this.fd;
    if (fd === null) return;
    this.fd = null;
    try {
      if (options.trimPartialFrame && this.completeBytes < this.bytes) {
        ftruncateSync(fd, this.completeBytes);
        this.bytes = this.completeBytes;
        this.need = 0;
        this.prefixLength = 0;
      }
      if (options.sync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  private frameDone(fileOffset: number): void {
    this.frames++;
    this.completeBytes = fileOffset;
  }

  private writeAll(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd!, bytes, off, bytes.length - off);
    this.bytes += bytes.length;
  }
}

/** Flow control of a file being read: backpressure from a slow consumer, or an early stop. */
export interface ReadFlow {
  pause(): void;
  resume(): void;
  /** Stops reading; the read resolves with what was read (`stopped` true). */
  stop(): void;
}

export interface ReadCaptureOptions {
  /** Bytes per read (default CAPTURE_CHUNK_SIZE). */
  chunkSize?: number;
  /** Receives the read's flow control before the first byte. */
  flow?: (flow: ReadFlow) => void;
  /** After each chunk: file bytes read so far. */
  onChunk?: (fileBytes: number) => void;
}

export interface CaptureFileResult extends CaptureEnd {
  header: CaptureHeader | null;
  /** The cut frame's bytes (CaptureReader.partialFrame()); empty when nothing was cut inside a frame. */
  partial: Uint8Array;
  /** True when ReadFlow.stop() ended the read early. */
  stopped: boolean;
}

/**
 * Streams a .zscap from disk through a CaptureReader: `onStream` gets the equivalent Tracy
 * client stream (status byte, welcome, complete frames; see CaptureReader). Reads
 * `chunkSize` bytes at a time (fs.createReadStream), so memory stays bounded when the
 * consumer applies backpressure through `flow`. A file cut at any byte resolves normally, with
 * `cutBytes` > 0.
 *
 * @throws (rejects with) CaptureError for a file that is not a capture, of a newer format, with
 *   a bad header or frame size (after passing on everything before the problem); or the file
 *   system's error
 */
export async function readCaptureFile(path: string, onStream: (bytes: Uint8Array) => void, options: ReadCaptureOptions = {}): Promise<CaptureFileResult> {
  const reader = new CaptureReader(onStream);
  const { stopped } = await readFileChunks(
    path,
    (chunk) => {
      reader.push(chunk);
      options.onChunk?.(reader.bytes);
    },
    options,
  );
  return { header: reader.header, ...reader.end(), partial: reader.partialFrame(), stopped };
}

/**
 * Streams a file's bytes to `onChunk` (fs.createReadStream, `chunkSize` at a time; each chunk
 * is a fresh Buffer the consumer may keep), with flow control for backpressure and early stop.
 * @throws (rejects with) what `onChunk` throws (reading stops there), or the file system's error
 */
export function readFileChunks(
  path: string,
  onChunk: (chunk: Buffer) => void,
  options: Pick<ReadCaptureOptions, 'chunkSize' | 'flow'> = {},
): Promise<{ fileBytes: number; stopped: boolean }> {
  const chunkSize = options.chunkSize ?? CAPTURE_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new TypeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  return new Promise((resolve, reject) => {
    const stream = createReadStream(path, { highWaterMark: chunkSize });
    let settled = false;
    let stopped = false;
    let fileBytes = 0;
    const finish = (err: unknown): void => {
      if (settled) return;
      settled = true;
      if (err !== null) {
        stream.destroy();
        reject(err);
      } else {
        resolve({ fileBytes, stopped });
      }
    };
    stream.on('data', (chunk: Buffer | string) => {
      if (settled) return;
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      fileBytes += bytes.length;
      try {
        onChunk(bytes);
      } catch (err) {
        finish(err);
      }
    });
    stream.on('error', (err) => finish(err));
    stream.on('end', () => finish(null));
    // destroyed by stop(): what was read so far
    stream.on('close', () => finish(null));
    options.flow?.({
      pause: () => stream.pause(),
      resume: () => {
        if (!settled) stream.resume();
      },
      stop: () => {
        stopped = true;
        stream.destroy();
      },
    });
  });
}

export interface CaptureHead {
  header: CaptureHeader;
  /** The file's size in bytes. */
  fileBytes: number;
  /** Bytes of the head (magic, length, header): the frames start here. */
  headBytes: number;
}

/**
 * Reads only the head of a .zscap (a few KiB whatever the file's size): for listing captures
 * without loading them.
 * @throws CaptureError ZS_CAPTURE_NOT_A_CAPTURE / NEWER_VERSION / BAD_HEADER (also for a file
 *   cut inside its head); the file system's error
 */
export async function readCaptureHead(path: string): Promise<CaptureHead> {
  const file = await open(path, 'r');
  try {
    const size = (await file.stat()).size;
    const prefix = new Uint8Array(ZSCAP_PREFIX_SIZE);
    const { bytesRead } = await file.read(prefix, 0, ZSCAP_PREFIX_SIZE, 0);
    for (let i = 0; i < Math.min(bytesRead, ZSCAP_MAGIC.length); i++) {
      if (prefix[i] !== ZSCAP_MAGIC[i]) throw new CaptureError(CaptureErrorCode.NotACapture, `${path} is not a .zscap capture (byte ${i} differs from the magic)`, i);
    }
    if (bytesRead < ZSCAP_PREFIX_SIZE) throw new CaptureError(CaptureErrorCode.BadHeader, `${path} ends inside its head (${bytesRead} bytes)`, bytesRead);
    const length = new DataView(prefix.buffer).getUint32(8, true);
    if (length === 0 || length > ZSCAP_HEADER_LIMIT) {
      throw new CaptureError(CaptureErrorCode.BadHeader, `${path}: header length ${length} is outside 1..${ZSCAP_HEADER_LIMIT} at offset 8`, 8);
    }
    const body = new Uint8Array(length);
    const got = (await file.read(body, 0, length, ZSCAP_PREFIX_SIZE)).bytesRead;
    if (got < length) throw new CaptureError(CaptureErrorCode.BadHeader, `${path} ends inside its header (${got} of ${length} bytes)`, ZSCAP_PREFIX_SIZE + got);
    return { header: decodeCaptureHeader(body, ZSCAP_PREFIX_SIZE), fileBytes: size, headBytes: ZSCAP_PREFIX_SIZE + length };
  } finally {
    await file.close();
  }
}
