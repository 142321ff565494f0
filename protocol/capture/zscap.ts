import { decode, encode } from '@msgpack/msgpack';
import { HandshakeStatus, LZ4_SIZE, ON_DEMAND_PAYLOAD_SIZE, WELCOME_SIZE, WelcomeFlag } from '../tracy/constants.js';

/*
 * The .zscap file: a session's Tracy stream as the receiver got it, behind a small header.
 *
 *   offset  size  what
 *   0       8     magic "ZSCAP" 00 0D 0A  (5A 53 43 41 50 00 0D 0A; the NUL and CR LF catch
 *                 text-mode transfers and `cat` of a binary, like PNG's signature)
 *   8       4     u32 LE: n, the byte length of the header (at most ZSCAP_HEADER_LIMIT)
 *   12      n     msgpack map: the CaptureHeader (formatVersion first; every version keeps the
 *                 header a msgpack map with an integer formatVersion, so an old reader can say
 *                 "newer version" instead of "corrupt")
 *   12+n    ...   frames exactly as on the wire: u32 LE size (1..LZ4Size) + one raw LZ4 block,
 *                 in the order received (the blocks share Tracy's 64 KiB streaming dictionary,
 *                 so they are only decodable in order, from the first)
 *
 * No trailer and no index: the file is written append-only while the session runs, so a file
 * cut at any byte (a crash, a full disk) is still a valid capture up to its last complete frame.
 */

/** "ZSCAP" NUL CR LF. */
export const ZSCAP_MAGIC: Uint8Array = Uint8Array.of(0x5a, 0x53, 0x43, 0x41, 0x50, 0x00, 0x0d, 0x0a);
/** The format version this code writes and the newest it reads. */
export const ZSCAP_VERSION = 1;
/** Largest header accepted (bytes). A real one is ~1.3 KiB: the welcome plus a few strings. */
export const ZSCAP_HEADER_LIMIT = 1 << 20;
/** Bytes before the msgpack header: magic + u32 length. */
export const ZSCAP_PREFIX_SIZE = 12;

export interface CaptureHeader {
  formatVersion: number;
  /** WelcomeMessage.programName */
  app: string;
  pid: number;
  hostInfo: string;
  /** Epoch milliseconds when the session started (the receiver's clock). */
  wallClockStartMs: number;
  /** The WelcomeMessage bytes as received (WELCOME_SIZE), without the status byte. */
  welcome: Uint8Array;
  /** The OnDemandPayloadMessage bytes (16) when the welcome has the OnDemand flag, else null. */
  onDemand: Uint8Array | null;
  /** How the session arrived: 'tcp' | 'ws' | 'connect' | 'capture' | 'import' | 'range-export' ... */
  source: string;
  sessionId?: string;
  remote?: string;
  note?: string;
}

export const CaptureErrorCode = {
  NotACapture: 'ZS_CAPTURE_NOT_A_CAPTURE',
  NewerVersion: 'ZS_CAPTURE_NEWER_VERSION',
  BadHeader: 'ZS_CAPTURE_BAD_HEADER',
  BadFrame: 'ZS_CAPTURE_BAD_FRAME',
} as const;
export type CaptureErrorCodeValue = (typeof CaptureErrorCode)[keyof typeof CaptureErrorCode];

export class CaptureError extends Error {
  override readonly name = 'CaptureError';
  /**
   * @param code stable code, e.g. ZS_CAPTURE_BAD_FRAME
   * @param offset byte offset in the file where the problem was found
   */
  constructor(
    readonly code: CaptureErrorCodeValue,
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/**
 * Encodes the head of a capture: magic + u32 LE header length + msgpack(header). The frames
 * follow it, each `u32 LE size + LZ4 block`, exactly as in the Tracy stream.
 * @throws TypeError when `welcome` is not WELCOME_SIZE bytes or `onDemand` not 16 bytes / null
 */
export function encodeCaptureHead(header: CaptureHeader): Uint8Array {
  if (header.welcome.length !== WELCOME_SIZE) throw new TypeError(`welcome must be ${WELCOME_SIZE} bytes, got ${header.welcome.length}`);
  if (header.onDemand !== null && header.onDemand.length !== ON_DEMAND_PAYLOAD_SIZE) {
    throw new TypeError(`onDemand must be ${ON_DEMAND_PAYLOAD_SIZE} bytes or null, got ${header.onDemand.length}`);
  }
  // formatVersion first, so a hex dump shows it right after the length
  const { formatVersion, ...rest } = header;
  const body = encode({ formatVersion, ...rest }, { ignoreUndefined: true });
  if (body.length > ZSCAP_HEADER_LIMIT) throw new TypeError(`capture header of ${body.length} bytes > limit ${ZSCAP_HEADER_LIMIT}`);
  const out = new Uint8Array(ZSCAP_PREFIX_SIZE + body.length);
  out.set(ZSCAP_MAGIC, 0);
  new DataView(out.buffer).setUint32(8, body.length, true);
  out.set(body, ZSCAP_PREFIX_SIZE);
  return out;
}

/** True when `bytes` starts with the magic (needs at least 8 bytes). */
export function isCaptureMagic(bytes: Uint8Array): boolean {
  if (bytes.length < ZSCAP_MAGIC.length) return false;
  for (let i = 0; i < ZSCAP_MAGIC.length; i++) if (bytes[i] !== ZSCAP_MAGIC[i]) return false;
  return true;
}

/**
 * Decodes and checks the msgpack header.
 * @param offset the header's file offset, for error messages
 * @throws CaptureError ZS_CAPTURE_NEWER_VERSION or ZS_CAPTURE_BAD_HEADER
 */
export function decodeCaptureHeader(bytes: Uint8Array, offset = ZSCAP_PREFIX_SIZE): CaptureHeader {
  let raw: unknown;
  try {
    raw = decode(bytes);
  } catch (err) {
    throw new CaptureError(CaptureErrorCode.BadHeader, `capture header (${bytes.length} bytes at offset ${offset}) is not valid msgpack: ${(err as Error).message}`, offset);
  }
  const bad = (what: string): never => {
    throw new CaptureError(CaptureErrorCode.BadHeader, `capture header at offset ${offset}: ${what}`, offset);
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || raw instanceof Uint8Array) bad('not a msgpack map');
  const h = raw as Record<string, unknown>;
  const version = h.formatVersion;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) bad(`formatVersion ${String(version)} is not a positive integer`);
  if ((version as number) > ZSCAP_VERSION) {
    throw new CaptureError(
      CaptureErrorCode.NewerVersion,
      `capture format version ${String(version)} is newer than this zonescope reads (${ZSCAP_VERSION}); upgrade zonescope to open it`,
      offset,
    );
  }
  const str = (key: string): string => (typeof h[key] === 'string' ? (h[key] as string) : bad(`${key} is not a string`));
  const num = (key: string): number => (typeof h[key] === 'number' && Number.isFinite(h[key]) ? (h[key] as number) : bad(`${key} is not a number`));
  const optStr = (key: string): string | undefined => (h[key] === undefined || h[key] === null ? undefined : str(key));
  const welcome = h.welcome;
  if (!(welcome instanceof Uint8Array) || welcome.length !== WELCOME_SIZE) bad(`welcome is not ${WELCOME_SIZE} bytes of binary`);
  const onDemand = h.onDemand ?? null;
  if (onDemand !== null && (!(onDemand instanceof Uint8Array) || onDemand.length !== ON_DEMAND_PAYLOAD_SIZE)) bad(`onDemand is neither null nor ${ON_DEMAND_PAYLOAD_SIZE} bytes`);
  const flagged = ((welcome as Uint8Array)[64]! & WelcomeFlag.OnDemand) !== 0;
  if (flagged !== (onDemand !== null)) bad(flagged ? 'the welcome has the OnDemand flag but onDemand is null' : 'onDemand is set but the welcome lacks the OnDemand flag');
  const header: CaptureHeader = {
    formatVersion: version as number,
    app: str('app'),
    pid: num('pid'),
    hostInfo: str('hostInfo'),
    wallClockStartMs: num('wallClockStartMs'),
    // copies: msgpack hands out views of `bytes`, which the caller may reuse
    welcome: (welcome as Uint8Array).slice(),
    onDemand: onDemand === null ? null : (onDemand as Uint8Array).slice(),
    source: str('source'),
  };
  const sessionId = optStr('sessionId');
  const remote = optStr('remote');
  const note = optStr('note');
  if (sessionId !== undefined) header.sessionId = sessionId;
  if (remote !== undefined) header.remote = remote;
  if (note !== undefined) header.note = note;
  return header;
}

const MAGIC = 0;
const HEADER_LENGTH = 1;
const HEADER = 2;
const FRAME_HEADER = 3;
const FRAME_BODY = 4;
const FAILED = 5;
const ENDED = 6;

/** What a capture held: complete frames, bytes pushed, and bytes after the last complete frame. */
export interface CaptureEnd {
  frames: number;
  bytes: number;
  /** Bytes after the last complete frame (all of them when the head itself is incomplete); 0 for a whole file. */
  cutBytes: number;
}

/**
 * Incremental reader of a .zscap, a numbered state machine like TracyStreamReader: feed chunks
 * of any size (one byte at a time works). `onStream` receives the equivalent Tracy client
 * stream, so it can be fed straight to a TracyStreamReader or a Session:
 * - once the head is complete, one chunk: the Welcome status byte + welcome (+ onDemand);
 * - then complete frames only (size prefix included). Consecutive complete frames inside one
 *   pushed chunk arrive as one view of that chunk (valid as long as the caller leaves the chunk
 *   unchanged); a frame spread over several chunks arrives as a fresh array of its own.
 * Bytes of a frame that never completes are held back: `end()` counts them as cut and
 * `partialFrame()` returns them.
 *
 * Errors are CaptureErrors with the file offset; after one, the reader stays failed and throws
 * the same error again. An error thrown by `onStream` passes through unchanged.
 */
export class CaptureReader {
  header: CaptureHeader | null = null;
  /** Bytes pushed so far (the file offset of the next byte). */
  bytes = 0;
  /** Complete frames passed on. */
  frames = 0;
  /** File offset just after the head and the last complete frame. */
  completeBytes = 0;
  error: CaptureError | null = null;

  private readonly onStream: (bytes: Uint8Array) => void;
  private state = MAGIC;
  /** Magic, header length or frame size bytes split over chunks. */
  private readonly small = new Uint8Array(8);
  private smallLength = 0;
  private headerBytes: Uint8Array | null = null;
  private headerLength = 0;
  /** A frame (prefix included) being assembled across chunks. */
  private frame: Uint8Array | null = null;
  private frameLength = 0;
  /** The complete frames of the current chunk not passed on yet: [runStart, runEnd), -1 = none. */
  private runStart = -1;
  private runEnd = 0;

  constructor(onStream: (bytes: Uint8Array) => void) {
    this.onStream = onStream;
  }

  /**
   * Consumes `chunk`.
   * @throws CaptureError ZS_CAPTURE_NOT_A_CAPTURE, ZS_CAPTURE_NEWER_VERSION, ZS_CAPTURE_BAD_HEADER, ZS_CAPTURE_BAD_FRAME
   */
  push(chunk: Uint8Array): void {
    if (this.error) throw this.error;
    if (this.state === ENDED) throw new Error('CaptureReader.push() after end()');
    try {
      this.consume(chunk);
    } catch (err) {
      if (err instanceof CaptureError) {
        this.error = err;
        this.state = FAILED;
      }
      throw err;
    }
  }

  /** Stops reading: what was complete, and how many bytes after it were cut. */
  end(): CaptureEnd {
    if (this.state !== FAILED) this.state = ENDED;
    return { frames: this.frames, bytes: this.bytes, cutBytes: this.bytes - this.completeBytes };
  }

  /**
   * The bytes of the frame cut by the end of the input (its size prefix or a part of it, then
   * the part of its block that arrived), as a copy; empty when the input ended on a frame
   * boundary or inside the head. Feeding them after the frames lets a TracyStreamReader report
   * the cut in its own words ("the stream ended inside the frame at offset ...").
   */
  partialFrame(): Uint8Array {
    if (this.header === null) return new Uint8Array(0);
    if (this.frame !== null) return this.frame.slice(0, this.frameLength);
    // with a header read, `small` only ever holds a frame's size prefix
    return this.small.slice(0, this.smallLength);
  }

  private consume(chunk: Uint8Array): void {
    const end = chunk.length;
    let p = 0;
    this.runStart = -1;
    while (p < end) {
      switch (this.state) {
        case MAGIC: {
          const b = chunk[p]!;
          if (b !== ZSCAP_MAGIC[this.smallLength]) {
            throw new CaptureError(
              CaptureErrorCode.NotACapture,
              `not a .zscap capture: byte ${this.bytes} is 0x${hex(b)}, expected 0x${hex(ZSCAP_MAGIC[this.smallLength]!)} of the magic "ZSCAP\\0\\r\\n"`,
              this.bytes,
            );
          }
          this.smallLength++;
          p++;
          this.bytes++;
          if (this.smallLength === ZSCAP_MAGIC.length) {
            this.state = HEADER_LENGTH;
            this.smallLength = 0;
          }
          break;
        }
        case HEADER_LENGTH: {
          this.small[this.smallLength++] = chunk[p++]!;
          this.bytes++;
          if (this.smallLength < 4) break;
          this.smallLength = 0;
          const n = u32(this.small, 0);
          if (n === 0 || n > ZSCAP_HEADER_LIMIT) {
            throw new CaptureError(CaptureErrorCode.BadHeader, `capture header length ${n} is outside 1..${ZSCAP_HEADER_LIMIT} at offset 8`, 8);
          }
          this.headerBytes = new Uint8Array(n);
          this.headerLength = 0;
          this.state = HEADER;
          break;
        }
        case HEADER: {
          const target = this.headerBytes!;
          const n = Math.min(target.length - this.headerLength, end - p);
          target.set(chunk.subarray(p, p + n), this.headerLength);
          this.headerLength += n;
          p += n;
          this.bytes += n;
          if (this.headerLength < target.length) break;
          this.header = decodeCaptureHeader(target, ZSCAP_PREFIX_SIZE);
          this.headerBytes = null;
          this.completeBytes = this.bytes;
          this.state = FRAME_HEADER;
          this.onStream(clientHead(this.header));
          break;
        }
        case FRAME_HEADER: {
          if (this.smallLength === 0 && end - p >= 4) {
            const size = u32(chunk, p);
            this.checkFrameSize(chunk, size, this.bytes);
            if (end - p >= 4 + size) {
              // the whole frame is in this chunk: it joins the run of views passed on below
              if (this.runStart < 0) this.runStart = p;
              p += 4 + size;
              this.runEnd = p;
              this.bytes += 4 + size;
              this.frames++;
              this.completeBytes = this.bytes;
              break;
            }
            this.frame = new Uint8Array(4 + size);
            this.frameLength = 0; // FRAME_BODY copies the prefix too
            this.state = FRAME_BODY;
            break;
          }
          this.small[this.smallLength++] = chunk[p++]!;
          this.bytes++;
          if (this.smallLength < 4) break;
          const size = u32(this.small, 0);
          this.checkFrameSize(chunk, size, this.bytes - 4);
          this.frame = new Uint8Array(4 + size);
          this.frame.set(this.small.subarray(0, 4), 0);
          this.frameLength = 4;
          this.smallLength = 0;
          this.state = FRAME_BODY;
          break;
        }
        case FRAME_BODY: {
          // Only a frame begun in an earlier chunk completes here, so it comes before any run.
          const frame = this.frame!;
          const n = Math.min(frame.length - this.frameLength, end - p);
          frame.set(chunk.subarray(p, p + n), this.frameLength);
          this.frameLength += n;
          p += n;
          this.bytes += n;
          if (this.frameLength < frame.length) break;
          this.frame = null;
          this.frames++;
          this.completeBytes = this.bytes;
          this.state = FRAME_HEADER;
          this.onStream(frame);
          break;
        }
        default:
          throw this.error ?? new Error('CaptureReader used after end()');
      }
    }
    this.flushRun(chunk);
  }

  /** Passes on the complete frames of `chunk` not passed on yet. */
  private flushRun(chunk: Uint8Array): void {
    if (this.runStart < 0) return;
    const start = this.runStart;
    this.runStart = -1;
    this.onStream(chunk.subarray(start, this.runEnd));
  }

  /** @throws CaptureError ZS_CAPTURE_BAD_FRAME, after passing on the frames before it */
  private checkFrameSize(chunk: Uint8Array, size: number, frameStart: number): void {
    if (size !== 0 && size <= LZ4_SIZE) return;
    this.flushRun(chunk);
    throw new CaptureError(
      CaptureErrorCode.BadFrame,
      `frame ${this.frames + 1} at offset ${frameStart}: size ${size} is outside 1..${LZ4_SIZE} (Tracy's LZ4Size)`,
      frameStart,
    );
  }
}

/** The client stream's first bytes: status Welcome, the welcome, the on-demand payload. */
function clientHead(h: CaptureHeader): Uint8Array {
  const out = new Uint8Array(1 + WELCOME_SIZE + (h.onDemand ? ON_DEMAND_PAYLOAD_SIZE : 0));
  out[0] = HandshakeStatus.Welcome;
  out.set(h.welcome, 1);
  if (h.onDemand) out.set(h.onDemand, 1 + WELCOME_SIZE);
  return out;
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}

function u32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}
