import { Listener, type ListenerHost } from '../../net/listener.js';
import type { CaptureHeader } from '../../protocol/capture/zscap.js';
import { AppConversation, type AppConversationEnd, type AppConversationHost, type AppTransport } from '../../protocol/tracy/app-conversation.js';
import { decodeWelcome } from '../../protocol/tracy/handshake.js';
import { readCaptureFile, readCaptureHead, type CaptureFileResult, type ReadFlow } from './capture-file.js';

export interface ReplayOptions {
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** TCP port; null (default): the first free one of 8086..8105, as Tracy's client does; 0: any. */
  port?: number | null;
  /** UDP announcements like a Tracy client (tracy-protocol.md 1.2); null (default): none. */
  broadcast?: { address: string; port: number } | null;
  /** Unsent bytes the socket may hold before reading the file pauses. Default 4 MiB. */
  highWaterBytes?: number;
}

/** How the one session went. */
export interface ReplayResult {
  /** Why the conversation ended: the receiver said ServerQueryTerminate, closed, or we did. */
  end: AppConversationEnd;
  /** Every complete frame of the capture was handed to the socket. */
  complete: boolean;
  /** Frames and bytes written (status byte and welcome included in bytes). */
  frames: number;
  bytes: number;
  /** Query packets the receiver sent (answered by the replies already in the capture). */
  queries: number;
  /** The capture holds the app's Terminate. */
  terminate: boolean;
  /** Bytes after the capture's last complete frame (a cut file): not sent. */
  cutBytes: number;
  /** Why reading stopped early (a bad frame size, a disk error), or null. */
  error: string | null;
}

/** How often the end of a capture without Terminate checks that the socket drained. */
const DRAIN_POLL_MS = 20;

/** Tracy's client sends Terminate in a frame of its own: size 2, LZ4 block `10 49`. */
function isTerminateFrame(b: Uint8Array, p: number): boolean {
  return b[p] === 2 && b[p + 1] === 0 && b[p + 2] === 0 && b[p + 3] === 0 && b[p + 4] === 0x10 && b[p + 5] === 0x49;
}

/**
 * Plays a .zscap to one receiver the way the app that made it would: it waits like a Tracy
 * client (the Listener the SDK uses too, net/: port search, 2 s handshake, ProtocolMismatch for another
 * version, NotAvailable to every later receiver, optional broadcasts), answers a valid
 * handshake with the capture's status byte, welcome (and on-demand payload), then writes the
 * capture's frames unchanged, reading the file only as fast as the socket takes them.
 *
 * The receiver's queries are read and counted, not answered: the capture already holds the
 * app's answers, in the order the receiver that recorded it asked, and a fresh receiver asks
 * the same queries in the same order (ours and Tracy's do: the query packets our server sends
 * for the fixtures are byte-identical to Tracy's capture tool's). The frames are sent as they
 * are because their LZ4 blocks share one streaming dictionary: a block may reference the 64
 * KiB before it, so nothing can be inserted between them.
 *
 * After the last frame: if the capture holds the app's Terminate, the connection stays open
 * until the receiver ends it (ServerQueryTerminate or close), as a Tracy client does; if it
 * does not (the app vanished, the file was cut), the connection is closed once the socket
 * drained, as the app's was.
 */
export class CaptureReplay implements ListenerHost {
  readonly header: CaptureHeader;
  readonly appName: string;
  readonly epochS: number;
  /** The TCP port listened on (after start). */
  port = 0;
  /** Resolves when the one session is over. */
  readonly done: Promise<ReplayResult>;
  /** Called when a receiver's handshake was accepted. */
  onConnected: (() => void) | null = null;
  /** Frames and bytes written to the receiver so far; the most bytes the socket held unsent; read pauses for backpressure. */
  readonly stats = { frames: 0, bytes: 0, maxBufferedBytes: 0, pauses: 0 };

  private readonly highWater: number;
  private readonly listener: Listener;
  private readonly head: Uint8Array;
  private flow: ReadFlow | null;
  private readonly reading: Promise<CaptureFileResult>;
  /** Frames read before a receiver came (at most the rest of the first file chunk). */
  private held: Uint8Array[];
  private conversation: AppConversation | null = null;
  private transport: AppTransport | null = null;
  private taken = false;
  private closed = false;
  private paused = true;
  private eof: CaptureFileResult | null = null;
  private readError: string | null = null;
  private terminate = false;
  private resolveDone!: (r: ReplayResult) => void;

  private constructor(start: Started, options: ReplayOptions) {
    this.header = start.header;
    this.head = start.head;
    this.held = start.held;
    this.flow = start.flow;
    this.reading = start.reading;
    this.highWater = options.highWaterBytes ?? 4 * 2 ** 20;
    this.appName = start.header.app;
    this.epochS = Number(decodeWelcome(start.header.welcome).epoch);
    for (const frames of this.held) this.scan(frames);
    this.done = new Promise<ReplayResult>((resolve) => (this.resolveDone = resolve));
    this.listener = new Listener(this, { host: options.host ?? '127.0.0.1', port: options.port ?? null, broadcast: options.broadcast ?? null }, start.header.pid);
    start.route((bytes) => this.onFrames(bytes));
    this.reading.then(
      (result) => this.onEof(result),
      (err: unknown) => {
        // a read error after the head (a bad frame, the disk): what was sent stays sent; the
        // connection closes as if the app had vanished there
        this.readError = err instanceof Error ? err.message : String(err);
        this.onEof(null);
      },
    );
  }

  /**
   * Reads the capture's head and starts listening.
   * @throws TypeError for a bad option; CaptureError for a file that is not a capture (or is
   *   cut inside its head); the file system's error; the listen error (EADDRINUSE...)
   */
  static async open(path: string, options: ReplayOptions = {}): Promise<CaptureReplay> {
    const hw = options.highWaterBytes;
    if (hw !== undefined && !(Number.isInteger(hw) && hw > 0)) throw new TypeError(`highWaterBytes must be a positive integer, not ${hw}`);
    const start = await readHead(path);
    const replay = new CaptureReplay(start, options);
    try {
      replay.port = await replay.listener.start();
    } catch (err) {
      replay.close();
      throw err;
    }
    return replay;
  }

  /** True while reading the file is paused: no receiver yet, or its backlog is over the high-water mark. */
  get readingPaused(): boolean {
    return this.paused && this.eof === null;
  }

  get canAttach(): boolean {
    return !this.taken && !this.closed && this.conversation === null;
  }

  attach(transport: AppTransport, handshakeTimeoutMs: number): AppConversation {
    if (!this.canAttach) throw new Error('this capture already has a receiver');
    const host: AppConversationHost = {
      streaming: (t) => this.onStreaming(t),
      query: () => {
        // answered by the capture's own replies (see the class comment)
      },
      afterQueries: () => {},
      // ServerQueryDisconnect: the capture goes on to its own Terminate
      disconnect: () => {},
      drain: () => this.pump(),
    };
    const conv = new AppConversation(transport, { host });
    const timer = setTimeout(() => conv.handshakeTimedOut(handshakeTimeoutMs), handshakeTimeoutMs);
    timer.unref();
    const clear = () => clearTimeout(timer);
    conv.ready.then(clear, clear);
    this.conversation = conv;
    void conv.ended.then((reason) => this.onEnded(conv, reason));
    return conv;
  }

  /** Stops listening and broadcasting, ends a running session and stops reading. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listener.stop();
    this.flow?.stop();
    this.conversation?.close();
    if (!this.taken) this.resolveDone({ end: 'local-close', complete: false, frames: 0, bytes: 0, queries: 0, terminate: this.terminate, cutBytes: 0, error: this.readError });
  }

  private onStreaming(transport: AppTransport): void {
    this.taken = true;
    this.transport = transport;
    transport.keepAlive(true);
    this.write(this.head);
    for (const frames of this.held) this.writeFrames(frames);
    this.held = [];
    this.onConnected?.();
    if (this.eof !== null) this.finishStream();
    else this.pump();
  }

  /** Complete frames from the file: to the receiver, or held until one comes. */
  private onFrames(bytes: Uint8Array): void {
    this.scan(bytes);
    if (this.transport === null) {
      this.held.push(bytes);
      this.pauseReading();
      return;
    }
    this.writeFrames(bytes);
    if (this.transport.bufferedBytes > this.highWater) this.pauseReading();
  }

  private writeFrames(bytes: Uint8Array): void {
    for (let p = 0; p + 4 <= bytes.length; p += 4 + (bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24)) >>> 0) this.stats.frames++;
    this.write(bytes);
  }

  private write(bytes: Uint8Array): void {
    const t = this.transport!;
    this.stats.bytes += bytes.length;
    t.write(bytes);
    if (t.bufferedBytes > this.stats.maxBufferedBytes) this.stats.maxBufferedBytes = t.bufferedBytes;
  }

  /** Notes the app's Terminate frame among complete frames. */
  private scan(bytes: Uint8Array): void {
    for (let p = 0; p + 4 <= bytes.length; ) {
      const size = (bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24)) >>> 0;
      if (size === 2 && isTerminateFrame(bytes, p)) this.terminate = true;
      p += 4 + size;
    }
  }

  private pauseReading(): void {
    if (this.paused || this.eof !== null) return;
    this.paused = true;
    this.stats.pauses++;
    this.flow?.pause();
  }

  /** The socket took what it held: read on. */
  private pump(): void {
    const t = this.transport;
    if (t === null || this.eof !== null || this.closed) return;
    if (this.paused && t.bufferedBytes <= this.highWater / 2) {
      this.paused = false;
      this.flow?.resume();
    }
  }

  private onEof(result: CaptureFileResult | null): void {
    this.eof = result ?? { header: this.header, frames: 0, bytes: 0, cutBytes: 0, partial: new Uint8Array(0), stopped: true };
    this.flow = null;
    if (this.transport !== null) this.finishStream();
  }

  /**
   * Everything was written: with the app's Terminate, the receiver ends the conversation; without
   * it, close once the socket handed everything to the kernel (closing earlier could drop it).
   */
  private finishStream(): void {
    const conv = this.conversation;
    const t = this.transport;
    if (conv === null || t === null || conv.state !== 'streaming' || this.terminate) return;
    if (t.bufferedBytes > 0) {
      setTimeout(() => this.finishStream(), DRAIN_POLL_MS);
      return;
    }
    conv.close();
  }

  private onEnded(conv: AppConversation, reason: AppConversationEnd): void {
    if (conv !== this.conversation) return;
    if (reason === 'handshake-failed') {
      this.conversation = null;
      return;
    }
    const complete = this.eof !== null && !this.eof.stopped;
    if (this.eof === null) this.flow?.stop();
    this.resolveDone({
      end: reason,
      complete,
      frames: this.stats.frames,
      bytes: this.stats.bytes,
      queries: conv.queries,
      terminate: this.terminate,
      cutBytes: this.eof?.cutBytes ?? 0,
      error: this.readError,
    });
  }
}

interface Started {
  header: CaptureHeader;
  /** Status byte + welcome (+ on-demand payload). */
  head: Uint8Array;
  /** Complete frames that came with the head's file chunk. */
  held: Uint8Array[];
  flow: ReadFlow | null;
  reading: Promise<CaptureFileResult>;
  /** Sends the frames read from now on to `fn`. */
  route(fn: (bytes: Uint8Array) => void): void;
}

/**
 * Reads the head (readCaptureHead: the header, checked), then starts streaming the file and
 * waits for the client stream's first bytes; the read pauses right after the chunk that held
 * them, whose frames are kept.
 */
async function readHead(path: string): Promise<Started> {
  const { header } = await readCaptureHead(path);
  return new Promise<Started>((resolve, reject) => {
    let head: Uint8Array | null = null;
    let flow: ReadFlow | null = null;
    const held: Uint8Array[] = [];
    let sink: ((bytes: Uint8Array) => void) | null = null;
    let started = false;
    const reading = readCaptureFile(
      path,
      (bytes) => {
        if (head !== null) {
          if (sink !== null) sink(bytes);
          else held.push(bytes);
          return;
        }
        head = bytes;
        flow?.pause();
        // the rest of this chunk's frames are passed on synchronously: resolve after them
        queueMicrotask(() => {
          started = true;
          resolve({ header, head: head!, held, flow, reading, route: (fn) => (sink = fn) });
        });
      },
      { flow: (f) => (flow = f) },
    );
    reading.then(
      (result) => {
        if (head === null) reject(new Error(`${path}: the capture ends inside its head (${result.bytes} bytes)`));
      },
      (err: unknown) => {
        if (!started) reject(err);
      },
    );
  });
}
