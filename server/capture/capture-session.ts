import { CaptureReader } from '../../protocol/capture/index.js';
import type { Session, SessionTransport } from '../session/session.js';
import { sessionEnded, type SessionRegistry } from '../session/session-registry.js';
import { CAPTURE_CHUNK_SIZE, readCaptureFile, readFileChunks, type CaptureFileResult, type ReadFlow } from './capture-file.js';

export interface LoadCaptureOptions {
  /** 'zscap' (default) or 'client-stream': a raw recording of what an app sent (*.client.bin). */
  format?: 'zscap' | 'client-stream';
  /** Session id (a stored capture's); default the registry's next id. */
  id?: string;
  /** Epoch ms the original session started (the capture header's wallClockStartMs). */
  startedAt?: number;
  /** The session's source (default 'capture'; 'import' for a converted Chrome trace). */
  source?: string;
  /** Bytes read at a time (default 256 KiB). */
  chunkSize?: number;
  /** After each chunk read: file bytes read so far (progress). */
  onChunk?: (fileBytes: number) => void;
}

export interface LoadedCapture {
  session: Session;
  /**
   * Resolves when the session has ended (everything in the file decoded, or a problem): the
   * file's read result (null for a client stream), or `error` when the file could not be read
   * to its end. Never rejects.
   */
  done: Promise<{ result: CaptureFileResult | null; error: Error | null }>;
}

/** Reads a source chunk by chunk with flow control (a file, or bytes in memory). */
type Reader = (flow: (f: ReadFlow) => void, onChunk: ((bytes: number) => void) | undefined, receive: (bytes: Uint8Array) => void) => Promise<CaptureFileResult | null>;

/**
 * Loads a .zscap as a session (source 'capture', remote = the path), through the normal
 * Session machinery: the file's stream is the app's side of the conversation, and the
 * transport ignores what the session sends, because the answers to its queries are already in
 * the stream, in order (as test/support/tracy-replay.ts replays recordings). The session's
 * backpressure pauses the file read, so memory stays bounded; decoding runs in the session's
 * usual slices, so the server stays responsive while a big capture loads.
 *
 * A file cut inside a frame ends the session 'disconnected' with the session's own truncation
 * text; a capture error (bad frame size...) ends it with `error` set (code ZS_CAPTURE_*).
 */
export function loadCaptureSession(registry: SessionRegistry, path: string, options: LoadCaptureOptions = {}): LoadedCapture {
  const chunkSize = options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {};
  const read: Reader =
    options.format === 'client-stream'
      ? (flow, onChunk, receive) => {
          let fileBytes = 0;
          const pass = (chunk: Uint8Array) => {
            fileBytes += chunk.length;
            receive(chunk);
            onChunk?.(fileBytes);
          };
          return readFileChunks(path, pass, { ...chunkSize, flow }).then(() => null);
        }
      : (flow, onChunk, receive) => readCaptureFile(path, receive, { ...chunkSize, flow, ...(onChunk ? { onChunk } : {}) });
  return load(registry, path, options, read);
}

/**
 * As loadCaptureSession, for a capture held in memory (a Chrome trace converted by
 * chrome-import.ts): fed in chunks with the same backpressure, one chunk per event-loop turn.
 * @param name the session's remote (the original file's name)
 */
export function loadCaptureBytes(registry: SessionRegistry, capture: Uint8Array, name: string, options: LoadCaptureOptions = {}): LoadedCapture {
  const size = options.chunkSize ?? CAPTURE_CHUNK_SIZE;
  const read: Reader = (flow, onChunk, receive) =>
    new Promise((resolve, reject) => {
      const reader = new CaptureReader(receive);
      let at = 0;
      let paused = false;
      let stopped = false;
      let scheduled = false;
      let settled = false;
      const step = () => {
        scheduled = false;
        if (settled) return;
        if (stopped || at >= capture.length) {
          settled = true;
          resolve({ header: reader.header, ...reader.end(), partial: reader.partialFrame(), stopped });
          return;
        }
        if (paused) return; // resume() schedules the next step
        const end = Math.min(capture.length, at + size);
        try {
          reader.push(capture.subarray(at, end));
        } catch (err) {
          settled = true;
          reject(err);
          return;
        }
        at = end;
        onChunk?.(at);
        schedule(); // one chunk per event-loop turn, like a file read
      };
      const schedule = () => {
        if (scheduled) return;
        scheduled = true;
        setImmediate(step);
      };
      flow({
        pause: () => {
          paused = true;
        },
        resume: () => {
          paused = false;
          schedule();
        },
        stop: () => {
          stopped = true;
          schedule();
        },
      });
      schedule();
    });
  return load(registry, name, options, read);
}

function load(registry: SessionRegistry, remote: string, options: LoadCaptureOptions, read: Reader): LoadedCapture {
  let flow: ReadFlow | null = null;
  let paused = false;
  let closed = false;
  const transport: SessionTransport = {
    write: () => {},
    close: () => {
      closed = true;
      flow?.stop();
    },
    pause: () => {
      paused = true;
      flow?.pause();
    },
    resume: () => {
      paused = false;
      flow?.resume();
    },
  };
  const session = registry.create(transport, options.source ?? 'capture', remote, {
    ...(options.id !== undefined ? { id: options.id } : {}),
    ...(options.startedAt !== undefined ? { startedAt: options.startedAt } : {}),
  });
  const ended = sessionEnded(registry, session);
  session.start(); // the handshake goes nowhere: the conversation is already recorded
  const reading = read(
    (f) => {
      flow = f;
      if (closed) f.stop();
      else if (paused) f.pause();
    },
    options.onChunk,
    (bytes) => session.receive(bytes),
  );
  const done = reading.then(
    (result) => {
      // the cut frame's bytes let the session say where the stream stopped
      if (result !== null && result.partial.length > 0) session.receive(result.partial);
      session.connectionClosed();
      return ended.then(() => ({ result, error: null }));
    },
    (err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err));
      if (!session.ended && session.error === null) {
        const e = error as { code?: unknown; offset?: unknown };
        session.error = {
          code: typeof e.code === 'string' ? e.code : 'ZS_CAPTURE_READ',
          message: `${remote}: ${error.message}`,
          offset: typeof e.offset === 'number' ? e.offset : -1,
          queueType: -1,
        };
      }
      session.connectionClosed();
      return ended.then(() => ({ result: null, error }));
    },
  );
  return { session, done };
}
